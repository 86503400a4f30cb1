"""Identity use cases: users, passwords, API tokens and the action log.

Functions take the caller's session and never commit: the request or command
that calls them owns the unit of work (``exchange.uow``). Nothing here knows
about Flask requests.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import bindparam, func, select
from sqlalchemy.orm import Session

from exchange.errors import Conflict, InvalidInput, NotFound
from exchange.identity.actor import Actor
from exchange.identity.passwords import (
    MAX_PASSWORD_LENGTH,
    MIN_PASSWORD_LENGTH,
    check_password,
    hash_password,
)
from exchange.identity.tokens import generate_token, hash_token, token_prefix, well_formed
from exchange.models import (
    ActionLog,
    ApiToken,
    League,
    ParticipantKind,
    Rights,
    Role,
    User,
    utcnow,
)
from exchange.models.identity import token_status
from exchange.paging import first_row
from ledger.driver import Prepared, prepared_insert

USERNAME_PATTERN = re.compile(r"^[a-z0-9][a-z0-9_.-]{0,63}$")
DEFAULT_TOKEN_DAYS = 90
MAX_TOKEN_DAYS = 366


def normalise_username(username: str) -> str:
    """Usernames are case-insensitive: stored and looked up in lower case."""
    return username.strip().lower()


def _check_password_rules(password: str) -> None:
    if not MIN_PASSWORD_LENGTH <= len(password) <= MAX_PASSWORD_LENGTH:
        raise InvalidInput(
            f"a password has {MIN_PASSWORD_LENGTH} to {MAX_PASSWORD_LENGTH} characters",
            field="password",
        )


def _check_representation(
    session: Session, role: Role, participant_code: str | None, rights: str | None
) -> None:
    """A representative names an existing enterprise and one of the five rights."""
    if role is not Role.REPRESENTATIVE:
        if participant_code or rights:
            raise InvalidInput(f"a {role.value} user acts for no enterprise", field="participant")
        return
    enterprise = session.get(League, participant_code) if participant_code else None
    if enterprise is None or enterprise.kind != ParticipantKind.ENTERPRISE.value:
        raise InvalidInput("a representative needs an existing enterprise", field="participant")
    if rights not in {r.value for r in Rights}:
        allowed = ", ".join(r.value for r in Rights)
        raise InvalidInput(f"rights: one of {allowed}", field="rights")


def create_user(
    session: Session,
    *,
    username: str,
    role: Role,
    league_code: str | None = None,
    password: str | None = None,
    participant_code: str | None = None,
    rights: str | None = None,
) -> User:
    """Create a user; a ``league`` user needs a league, other roles must have none; a
    ``representative`` needs an enterprise (``participant_code``) and its ``rights``.

    Without a password the user can use API tokens only (no page login).
    """
    name = normalise_username(username)
    if not USERNAME_PATTERN.fullmatch(name):
        raise InvalidInput(
            "a username is 1-64 of a-z, 0-9, '_', '.', '-', starting with a letter or digit",
            field="username",
        )
    if password is not None:
        _check_password_rules(password)
    if role is Role.LEAGUE:
        if not league_code:
            raise InvalidInput("a league user needs a league", field="league")
        if session.get(League, league_code) is None:
            raise InvalidInput(f"unknown league {league_code!r}", field="league")
    elif league_code:
        raise InvalidInput(f"a {role.value} user has no league", field="league")
    _check_representation(session, role, participant_code, rights)
    if session.scalar(select(User.id).where(User.username == name)) is not None:
        raise Conflict(f"a user named {name!r} exists", field="username")
    representative = role is Role.REPRESENTATIVE
    user = User(
        participant_code=participant_code if representative else None,
        rights=rights if representative else None,
        username=name,
        role=role,
        league_code=league_code if role is Role.LEAGUE else None,
        password_hash=hash_password(password) if password is not None else None,
        active=True,
    )
    session.add(user)
    session.flush()
    return user


def list_users(session: Session) -> Sequence[User]:
    """All users, by id."""
    return session.scalars(select(User).order_by(User.id)).all()


def get_user(session: Session, user_id: int) -> User:
    """One user by id, or ``NotFound``."""
    user = session.get(User, user_id)
    if user is None:
        raise NotFound(f"no user with id {user_id}", field="user_id")
    return user


def find_user(session: Session, username: str) -> User | None:
    """The user called ``username`` (case-insensitive), if any."""
    return session.scalar(select(User).where(User.username == normalise_username(username)))


def update_user(
    session: Session, user_id: int, *, active: bool | None = None, password: str | None = None
) -> User:
    """Activate or deactivate a user, or set their password."""
    if password is not None:
        _check_password_rules(password)
    user = get_user(session, user_id)
    if active is not None:
        user.active = active
    if password is not None:
        user.password_hash = hash_password(password)
    return user


def authenticate_password(session: Session, username: str, password: str) -> User | None:
    """The active user with this username and password, else None (same time either way)."""
    user = find_user(session, username) if len(password) <= MAX_PASSWORD_LENGTH else None
    ok = check_password(user.password_hash if user else None, password[:MAX_PASSWORD_LENGTH])
    if user is None or not ok or not user.active:
        return None
    return user


@dataclass(frozen=True)
class NewToken:
    """A token just created: ``secret`` is shown once and never stored."""

    token: ApiToken
    secret: str


def create_token(
    session: Session, user_id: int, *, days: int = DEFAULT_TOKEN_DAYS, name: str = ""
) -> NewToken:
    """A new API token for a user, valid for ``days`` days."""
    if not 1 <= days <= MAX_TOKEN_DAYS:
        raise InvalidInput(f"a token lives 1 to {MAX_TOKEN_DAYS} days", field="days")
    secret = generate_token()
    user = get_user(session, user_id)
    now = utcnow()
    token = ApiToken(
        user_id=user.id,
        name=name,
        token_hash=hash_token(secret),
        prefix=token_prefix(secret),
        created_at=now,
        expires_at=now + timedelta(days=days),
    )
    session.add(token)
    session.flush()
    return NewToken(token=token, secret=secret)


def list_tokens(session: Session, user_id: int) -> Sequence[ApiToken]:
    """The tokens of a user (hashes only), newest first."""
    get_user(session, user_id)
    return session.scalars(
        select(ApiToken).where(ApiToken.user_id == user_id).order_by(ApiToken.id.desc())
    ).all()


def revoke_token(session: Session, user_id: int, token_id: int) -> ApiToken:
    """Revoke a token of ``user_id`` (idempotent); ``NotFound`` if it is not theirs."""
    token = session.get(ApiToken, token_id)
    if token is None or token.user_id != user_id:
        raise NotFound(f"user {user_id} has no token {token_id}", field="token_id")
    if token.revoked_at is None:
        token.revoked_at = utcnow()
    return token


class TokenRefused(Exception):
    """A bearer token that does not authenticate anyone; the message says why."""


_TOKEN, _USER = ApiToken.__table__.c, User.__table__.c
_TOKEN_HOLDER = Prepared(  # one round trip, plain rows (authentication runs on every request)
    select(
        _USER.id,
        _USER.username,
        _USER.role,
        _USER.league_code,
        _USER.participant_code,
        _USER.rights,
        _USER.active,
        _TOKEN.id.label("token_id"),
        _TOKEN.revoked_at,
        _TOKEN.expires_at,
    )
    .join_from(ApiToken.__table__, User.__table__, _USER.id == _TOKEN.user_id)
    .where(_TOKEN.token_hash == bindparam("token_hash"))
)


def resolve_token(session: Session, secret: str) -> Actor:
    """The actor behind a bearer token, or ``TokenRefused``."""
    if not well_formed(secret):
        raise TokenRefused("malformed API token")
    found = _TOKEN_HOLDER.first(session, {"token_hash": hash_token(secret)})
    if found is None:
        raise TokenRefused("unknown API token")
    status = token_status(found.revoked_at, found.expires_at)
    if status != "active":
        raise TokenRefused(f"this API token is {status}; create a new one")
    if not found.active:
        raise TokenRefused("the user of this API token is deactivated")
    return Actor(
        username=found.username,
        role=found.role,
        league_code=found.league_code,
        user_id=found.id,
        auth="token",
        token_id=found.token_id,
        participant=found.participant_code,
        rights=found.rights,
    )


def record_action(session: Session, **fields: Any) -> None:
    """Append one entry to the action log (in the caller's unit of work): one Core INSERT,
    no ORM object to flush (it is written on every state-changing request), sent with the
    unit of work's COMMIT on PostgreSQL (nothing reads it back before)."""
    prepared_insert(ActionLog.__table__, tuple(fields)).defer(session, fields)


def query_action_log(
    session: Session,
    *,
    page: int,
    page_size: int,
    username: str | None = None,
    method: str | None = None,
    status: int | None = None,
    path: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
) -> tuple[Sequence[ActionLog], int]:
    """A page of the action log, newest first, and the number of matching entries."""
    conditions = []
    if username is not None:
        conditions.append(ActionLog.username == normalise_username(username))
    if method is not None:
        conditions.append(ActionLog.method == method.upper())
    if status is not None:
        conditions.append(ActionLog.status == status)
    if path is not None:
        conditions.append(ActionLog.path.startswith(path, autoescape=True))
    if since is not None:
        conditions.append(ActionLog.at >= since)
    if until is not None:
        conditions.append(ActionLog.at < until)
    total = session.scalar(select(func.count()).select_from(ActionLog).where(*conditions)) or 0
    items = session.scalars(
        select(ActionLog)
        .where(*conditions)
        .order_by(ActionLog.id.desc())
        .offset(first_row(page, page_size))
        .limit(page_size)
    ).all()
    return items, total
