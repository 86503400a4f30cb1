"""Extensions bound to the app with ``init_app``: the database and the OpenAPI ``Api``."""

from __future__ import annotations

from typing import Any

import flask_smorest
from flask import Flask, current_app, g, request
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from exchange.db import close_quietly, make_engine, make_session_factory

READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
"""HTTP methods that change nothing (stated once: sessions, CSRF, the action log)."""


class Database:
    """Owns the engine and hands out one session per request (closed at teardown)."""

    def __init__(self) -> None:
        self._engines: dict[str, Engine] = {}

    def init_app(self, app: Flask) -> None:
        engine = make_engine(app.config["DATABASE_URL"], **app.config.get("ENGINE_OPTIONS", {}))
        app.extensions["exchange.db"] = {
            "engine": engine,
            "sessions": make_session_factory(engine),
            # Reads on SQLite begin DEFERRED so that they never wait for a writer.
            "read_sessions": make_session_factory(
                engine.execution_options(sqlite_begin="DEFERRED")
            ),
        }
        app.teardown_appcontext(self._close_session)

    @staticmethod
    def _state() -> dict[str, Any]:
        state: dict[str, Any] = current_app.extensions["exchange.db"]
        return state

    @property
    def engine(self) -> Engine:
        """The application's engine."""
        engine: Engine = self._state()["engine"]
        return engine

    @property
    def session_factory(self) -> sessionmaker[Session]:
        """A factory of sessions for work outside a request (CLI, scheduler)."""
        factory: sessionmaker[Session] = self._state()["sessions"]
        return factory

    @property
    def session(self) -> Session:
        """The session of the current request (or app context), created on first use."""
        if "db_session" not in g:
            state = self._state()
            is_read = False
            try:
                is_read = request.method in READ_METHODS
            except RuntimeError:  # no request: CLI or job in an app context
                is_read = False
            g.db_session = (state["read_sessions"] if is_read else state["sessions"])()
        session: Session = g.db_session
        return session

    @staticmethod
    def _close_session(_exc: BaseException | None) -> None:
        session = g.pop("db_session", None)
        if session is not None:
            close_quietly(session)


class Api(flask_smorest.Api):  # type: ignore[misc]
    """flask-smorest's ``Api`` that documents its blueprints when the OpenAPI document is
    first read (``/openapi.json``, the API docs), not when the app is created.

    Documenting every view (marshmallow schemas resolved into the document) was half the
    time of ``create_app``; a worker that never serves the document never pays it, and each
    test's app starts in half the time. The document is the same: ``spec`` documents every
    blueprint registered so far, in the order they were registered, before answering.
    """

    _spec: Any = None
    _undocumented: list[tuple[Any, str, Any]]

    @property
    def spec(self) -> Any:
        """The OpenAPI document, with every registered blueprint documented in it."""
        pending = getattr(self, "_undocumented", [])
        self._undocumented = []
        for blp, name, parameters in pending:
            blp.register_views_in_doc(self, self._app, self._spec, name=name, parameters=parameters)
            self._spec.tag({"name": name, "description": blp.description})
        return self._spec

    @spec.setter
    def spec(self, value: Any) -> None:
        self._spec = value
        self._undocumented = []

    def register_blueprint(self, blp: Any, *, parameters: Any = None, **options: Any) -> None:
        """Register ``blp`` in the app now; document it when the document is first read."""
        name = options.get("name", blp.name)
        self._app.extensions["flask-smorest"]["blp_name_to_api"][name] = self
        self._app.register_blueprint(blp, **options)
        self._undocumented.append((blp, name, parameters))


db = Database()
api = Api()
