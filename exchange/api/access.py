"""Who may do what: the one place every view asks.

Views call :func:`require_roles` or :func:`require_league_access`; they never
look at tokens or sessions themselves.

Authentication (resolved once per request, cached in ``flask.g``):

- ``Authorization: Bearer <token>``: an API token of a user (see
  ``exchange.identity.service``). A malformed, unknown, expired or revoked
  token, or the token of a deactivated user, is refused with 401 on *every*
  route, public ones included: bad credentials are never silently ignored.
- otherwise the Flask-Login session cookie of a user logged in on the web
  pages. State-changing requests authenticated by the cookie must carry the
  CSRF token (form field ``csrf_token`` or header ``X-CSRFToken``), on the
  API as on the pages; requests with a bearer token need none, since a
  browser never adds an ``Authorization`` header on its own
  (``exchange.identity.security``).
- otherwise an anonymous visitor.

The rules (roles come from ``exchange.models.identity.Role``):

- anonymous visitors see only public market data: leagues, basins, right
  types, markets, and (once trading exists) *past* clearing prices and
  volumes. Every other route answers 401 to them.
- ``league`` users are bound to one league: they see and act only for it
  (:func:`require_league_access`); another league's resources answer 403 (or
  404 where even existence is private) and change nothing.
- ``regulator``: registers markets and allocations, deposits cash, triggers
  clearing runs, sees everything.
- ``auditor``: read-only; sees what a regulator sees (ledger, verify, replay,
  exports, the action log) and changes nothing.
- ``admin``: manages users and tokens; sees no trading data.

Sealed bids (for the trading routes): while an order is live (open or
partially filled) **no one but the regulator and its league sees it**; an
auditor sees orders once they are no longer live; the public sees only auction
results of past runs, never orders or curves. The rule is stated once, in
``exchange.services.visibility``; a list of orders filters by it in the query.
"""

from __future__ import annotations

from flask import request

from exchange.errors import Forbidden
from exchange.identity.actor import ANONYMOUS, READ_METHODS, Actor, Role, Unauthorized
from exchange.identity.authn import current_actor

__all__ = [
    "ANONYMOUS",
    "READ_METHODS",
    "Actor",
    "Role",
    "Unauthorized",
    "current_actor",
    "guard_writes",
    "require_league_access",
    "require_roles",
]


def _login_needed() -> Unauthorized:
    return Unauthorized("log in or send an API token (Authorization: Bearer <token>)")


def require_roles(*roles: Role) -> Actor:
    """The current actor if it has one of ``roles``; else 401 (anonymous) or 403."""
    actor = current_actor()
    if not actor.authenticated:
        raise _login_needed()
    if actor.role in roles:
        return actor
    raise Forbidden(f"this needs the role {' or '.join(r.value for r in roles)}")


def require_league_access(league_code: str, *, write: bool = False) -> Actor:
    """The actor may see (or, with ``write``, act for) ``league_code``.

    A league user only for their own league; a representative may read its own
    enterprise (and acts only through the routes that check its rights); regulators and
    auditors may read every league; only the league itself may act for it.
    """
    actor = current_actor()
    if not actor.authenticated:
        raise _login_needed()
    if actor.role is Role.LEAGUE:
        if actor.league_code == league_code:
            return actor
        raise Forbidden("a league user may only see and act for their own league")
    if actor.role is Role.REPRESENTATIVE:
        if not write and actor.participant == league_code:
            return actor  # its enterprise's balances, statement, compliance: read only
        raise Forbidden(
            "a representative sees its own enterprise only (it acts through orders, "
            "transfers, instructions and surrenders)"
        )
    if not write and actor.role in (Role.REGULATOR, Role.AUDITOR):
        return actor
    raise Forbidden("only the league itself may do this")


def guard_writes() -> None:
    """``before_request`` hook of registry blueprints: state changes need the regulator."""
    if request.method not in READ_METHODS:
        require_roles(Role.REGULATOR)
