"""Who is behind a request: an API token, a Flask-Login session, or nobody.

The lookup is the request's first statement (:func:`lookup_session`).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from flask import Flask, current_app, g, has_request_context, request
from flask_login import LoginManager, UserMixin, current_user
from sqlalchemy.orm import Session, sessionmaker

from exchange.extensions import db
from exchange.identity import service, sessions
from exchange.identity.actor import ANONYMOUS, Actor, Unauthorized
from exchange.models import Role, User

login_manager = LoginManager()


def current_actor() -> Actor:
    """The actor of the current request (401 if it presents bad credentials), cached in ``g``."""
    actor: Actor | None = g.get("actor")
    if actor is None:
        actor = authenticate_request()
        g.actor = actor
    return actor


@dataclass(frozen=True)
class SessionUser(UserMixin):  # type: ignore[misc]
    """The user of a browser session, detached from any database session."""

    id: int
    username: str
    role: Role
    league_code: str | None
    generation: int = 0
    participant_code: str | None = None
    rights: str | None = None

    @classmethod
    def of(cls, user: User) -> SessionUser:
        return cls(
            id=user.id,
            username=user.username,
            role=user.role,
            league_code=user.league_code,
            generation=user.session_generation or 0,
            participant_code=user.participant_code,
            rights=user.rights,
        )

    def get_id(self) -> str:
        """The session's id: user and session generation (``exchange.identity.sessions``)."""
        return sessions.session_id(self.id, self.generation)


@contextmanager
def lookup_session() -> Iterator[Session]:
    """The session of authentication lookups.

    PostgreSQL: the request's own session, so that the lookup opens the request's one
    transaction (one connection and one BEGIN per request, not two; a READ COMMITTED read
    holds nothing back). SQLite: a short read-only session (DEFERRED) of its own, else every
    request would take the write lock (``BEGIN IMMEDIATE``) before its view decides to write.
    """
    state = current_app.extensions["exchange.db"]
    if state["engine"].dialect.name == "postgresql" and has_request_context():
        yield db.session
        return
    factory: sessionmaker[Session] = state["read_sessions"]
    session = factory()
    try:
        yield session
    finally:
        session.close()


@login_manager.user_loader
def _load_user(stored_id: str) -> SessionUser | None:
    parsed = sessions.parse_session_id(stored_id)
    if parsed is None:
        return None
    user_id, generation = parsed
    with lookup_session() as session:
        user = session.get(User, user_id)
        if user is None or not user.active or user.session_generation != generation:
            return None  # ended by logout, a password, role or activation change
        return SessionUser.of(user)


def actor_of(user: User | SessionUser, *, auth: str, token_id: int | None = None) -> Actor:
    """The ``Actor`` for a user."""
    return Actor(
        username=user.username,
        role=user.role,
        league_code=user.league_code,
        user_id=user.id,
        auth=auth,
        token_id=token_id,
        participant=user.participant_code,
        rights=user.rights,
    )


def bearer_token() -> str | None:
    """The token of an ``Authorization: Bearer`` header, ``""`` if malformed, None if absent."""
    header = request.headers.get("Authorization")
    if header is None:
        return None
    scheme, _, value = header.strip().partition(" ")
    if scheme.lower() != "bearer" or not value.strip():
        return ""
    return value.strip()


def authenticate_request() -> Actor:
    """The actor of the current request; ``Unauthorized`` (401) for bad credentials."""
    token = bearer_token()
    if token is not None:
        if not token:
            g.auth_failure = "token"
            raise Unauthorized(
                "malformed Authorization header; send 'Authorization: Bearer <token>'",
                code="invalid_token",
            )
        with lookup_session() as session:
            try:
                return service.resolve_token(session, token)
            except service.TokenRefused as refused:
                g.auth_failure = "token"
                raise Unauthorized(str(refused), code="invalid_token") from None
    user = current_user
    if user is not None and user.is_authenticated:
        return actor_of(user, auth="session")
    return ANONYMOUS


def _authenticate_early() -> None:
    """``before_request``: resolve credentials on every route, so bad ones are always 401."""
    current_actor()


def _template_globals() -> dict[str, Any]:
    try:
        actor = current_actor()
    except Unauthorized:
        actor = ANONYMOUS
    return {"actor": actor}


def init_authn(app: Flask) -> None:
    """Bind Flask-Login and authenticate every request before its view runs."""
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.session_protection = "basic"
    app.before_request(_authenticate_early)
    app.context_processor(_template_globals)
