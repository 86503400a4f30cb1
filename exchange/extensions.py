"""Extensions bound to the app with ``init_app``: the database and the OpenAPI ``Api``."""

from __future__ import annotations

from typing import Any

from flask import Flask, current_app, g, request
from flask_smorest import Api
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


db = Database()
api = Api()
