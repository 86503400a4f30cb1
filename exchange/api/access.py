"""Who may do what: the one place every view asks.

Views call :func:`require_roles` or :func:`require_league_access`; they never
look at tokens or sessions themselves. Until identity exists, the acting user
is a development superuser when ``EXCHANGE_OPEN_WRITES`` is on, and an
anonymous visitor otherwise (then every state change is refused).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from flask import current_app, request

from exchange.errors import ExchangeError, Forbidden

READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


class Role(enum.StrEnum):
    """Roles of users of the exchange."""

    LEAGUE = "league"
    REGULATOR = "regulator"
    AUDITOR = "auditor"
    ADMIN = "admin"


@dataclass(frozen=True)
class Actor:
    """The user behind the current request (or an anonymous visitor)."""

    username: str
    role: Role | None = None
    league_code: str | None = None
    user_id: int | None = None
    superuser: bool = False

    @property
    def authenticated(self) -> bool:
        """True for a logged-in user (or the development superuser)."""
        return self.superuser or self.role is not None


ANONYMOUS = Actor(username="anonymous")
DEVELOPER = Actor(username="developer", superuser=True)


class Unauthorized(ExchangeError):
    """No valid credentials were given."""

    status = 401
    code = "unauthorized"


def current_actor() -> Actor:
    """The actor of the current request."""
    if current_app.config.get("OPEN_WRITES"):
        return DEVELOPER
    return ANONYMOUS


def require_roles(*roles: Role) -> Actor:
    """The current actor if it has one of ``roles``; else 401 (anonymous) or 403."""
    actor = current_actor()
    if actor.superuser or actor.role in roles:
        return actor
    if not actor.authenticated:
        if not current_app.config.get("OPEN_WRITES") and request.method not in READ_METHODS:
            raise Forbidden(
                "state-changing endpoints are disabled; set EXCHANGE_OPEN_WRITES=1 "
                "(development only) to enable them",
                code="writes_disabled",
            )
        raise Unauthorized("log in or send an API token (Authorization: Bearer ...)")
    raise Forbidden(f"this needs the role {' or '.join(r.value for r in roles)}")


def require_league_access(league_code: str, *, write: bool = False) -> Actor:
    """The actor may see (or, with ``write``, act for) ``league_code``.

    A league user only for their own league; regulators and auditors may read
    every league; only the league itself may act for it.
    """
    actor = current_actor()
    if actor.superuser:
        return actor
    if not actor.authenticated:
        raise Unauthorized("log in or send an API token (Authorization: Bearer ...)")
    if actor.role is Role.LEAGUE:
        if actor.league_code == league_code:
            return actor
        raise Forbidden("a league user may only see and act for their own league")
    if not write and actor.role in (Role.REGULATOR, Role.AUDITOR):
        return actor
    raise Forbidden("only the league itself may do this")


def guard_writes() -> None:
    """``before_request`` hook of registry blueprints: state changes need the regulator."""
    if request.method not in READ_METHODS:
        require_roles(Role.REGULATOR)
