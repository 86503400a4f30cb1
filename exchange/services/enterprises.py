"""Enterprises below the leagues: opening (four eyes), account states, who acts for whom.

Modelled on the UK ETS registry (FACTS.md, "Registry accounts"): an enterprise's account
is opened on a request that a second, different official approves; until then it holds
nothing and trades nothing (it is eligible in no market). Its accounts then have a state:

=================  =====================================================================
``open``           everything
``restricted``     surrender only (and cancelling its own live orders, which only
                   lowers what it risks); allocations still arrive
``suspended``      nothing moves: no order, cancel, transfer, surrender or allocation;
                   suspending cancels its live orders (their holds are released)
``closure_pending`` no new order, transfer or allocation; it may surrender and cancel
``closed``         nothing; only with zero balances and no live orders
=================  =====================================================================

The rule of which state allows what is :data:`ALLOWED`, checked by :func:`check_state`
everywhere (order entry reads the state in the statement it runs anyway).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from exchange import approvals
from exchange.errors import Conflict, Forbidden, InvalidInput, NotFound
from exchange.identity.actor import Actor
from exchange.models import (
    League,
    Market,
    MarketLeague,
    ParticipantKind,
    ParticipantState,
    RightType,
    Role,
)
from exchange.services import credit_code
from exchange.services.participants import CODE_CHARS

SECTORS = (
    "power",
    "coal_chemical",
    "chemical",
    "nonferrous",
    "steel",
    "building_materials",
    "irrigation",
    "industrial_water",
    "data_centre",
    "other",
)
ALL_RIGHTS = frozenset(RightType)
SECTOR_RIGHTS: dict[str, frozenset[RightType]] = {
    "irrigation": frozenset({RightType.WATER}),
    "industrial_water": frozenset({RightType.WATER}),
    "data_centre": frozenset({RightType.ENERGY, RightType.WATER}),
}
"""The right types an enterprise of a sector trades (and is obligated in); others: all.
An irrigation district holds water quotas only; a data centre buys energy-use rights
(and water); emitters (power, chemicals, metals, building materials) trade everything."""
TRADE, CANCEL, SURRENDER, RECEIVE = "trade", "cancel", "surrender", "receive"
S = ParticipantState
ALLOWED: dict[str, frozenset[str]] = {
    S.OPEN: frozenset({TRADE, CANCEL, SURRENDER, RECEIVE}),
    S.RESTRICTED: frozenset({CANCEL, SURRENDER, RECEIVE}),
    S.SUSPENDED: frozenset(),
    S.CLOSURE_PENDING: frozenset({CANCEL, SURRENDER}),
    S.CLOSED: frozenset(),
    S.PENDING: frozenset(),
    S.REJECTED: frozenset(),
}
SETTABLE = (S.OPEN, S.RESTRICTED, S.SUSPENDED, S.CLOSURE_PENDING, S.CLOSED)
LEAGUE_SETTABLE = (S.RESTRICTED, S.SUSPENDED)
OPENING = approvals.FourEyes(roles=(Role.REGULATOR, Role.LEAGUE))


def allows(status: str, action: str) -> bool:
    """Whether a participant in ``status`` may do ``action`` (unknown states: nothing)."""
    return action in ALLOWED.get(status, frozenset())


def check_state(code: str, status: str, action: str) -> None:
    """409 ``participant_<status>`` unless ``status`` allows ``action``."""
    if not allows(status, action):
        raise Conflict(
            f"participant {code} is {status}: it may not {action}",
            field="participant",
            code=f"participant_{status}",
            details={"participant": code, "state": status, "action": action},
        )


def require_state(session: Session, code: str, action: str) -> League:
    """The participant ``code``, if its state allows ``action``."""
    participant = session.get(League, code)
    if participant is None:
        raise NotFound(f"no participant {code!r}", field="participant")
    check_state(code, participant.status, action)
    return participant


@dataclass(frozen=True)
class OpenEnterprise:
    """A request to open an enterprise's account below ``league``."""

    code: str
    league: str
    name_zh: str
    name_en: str
    sector: str
    credit_code: str
    synthetic: bool = False


def subject(code: str) -> str:
    """The four-eyes subject of opening ``code``."""
    return f"participant:{code}"


def _official_of(actor: Actor, league: str) -> None:
    """The regulator, or a league official of ``league``; else 403."""
    if actor.role is Role.REGULATOR:
        return
    if actor.role is Role.LEAGUE and actor.league_code == league:
        return
    raise Forbidden("only the regulator or an official of the enterprise's league may do this")


def _validate(session: Session, command: OpenEnterprise) -> League:
    code = command.code
    if not 1 <= len(code) <= 32 or not set(code) <= CODE_CHARS:
        raise InvalidInput("code: 1-32 lower-case letters, digits, _ or -", field="code")
    parent = session.get(League, command.league)
    if parent is None or parent.kind != ParticipantKind.LEAGUE.value:
        raise InvalidInput("an enterprise belongs to one of the leagues", field="league")
    for name in ("name_zh", "name_en"):
        value = getattr(command, name).strip()
        if not 1 <= len(value) <= (64 if name == "name_zh" else 128):
            raise InvalidInput(f"{name}: give a name", field=name)
    if command.sector not in SECTORS:
        raise InvalidInput(f"sector: one of {', '.join(SECTORS)}", field="sector")
    problem = credit_code.problem(command.credit_code)
    if problem is not None:
        raise InvalidInput(problem, field="credit_code", code="invalid_credit_code")
    if session.get(League, code) is not None:
        raise Conflict(f"participant {code!r} exists", field="code")
    taken = session.scalar(select(League.code).where(League.credit_code == command.credit_code))
    if taken is not None:
        raise Conflict(f"credit code already registered ({taken})", field="credit_code")
    return parent


def request_enterprise(session: Session, actor: Actor, command: OpenEnterprise) -> League:
    """The first official's request: the enterprise exists, ``pending``, eligible nowhere."""
    _official_of(actor, command.league)
    parent = _validate(session, command)
    enterprise = League(
        code=command.code,
        name_zh=command.name_zh.strip(),
        name_en=command.name_en.strip(),
        region=parent.region,
        kind=ParticipantKind.ENTERPRISE.value,
        parent_code=parent.code,
        sector=command.sector,
        credit_code=command.credit_code,
        status=ParticipantState.PENDING.value,
        synthetic=command.synthetic,
        basins=list(parent.basins),
    )
    session.add(enterprise)
    session.flush()
    approvals.review(session, subject(command.code), actor, OPENING)
    return enterprise


def _pending_enterprise(session: Session, code: str, actor: Actor) -> League:
    enterprise = session.get(League, code, with_for_update=True)
    if enterprise is None or enterprise.kind != ParticipantKind.ENTERPRISE.value:
        raise NotFound(f"no enterprise {code!r}", field="code")
    _official_of(actor, enterprise.parent_code or "")
    if enterprise.status != ParticipantState.PENDING.value:
        raise Conflict(f"enterprise {code} is {enterprise.status}", code="not_pending")
    return enterprise


def approve_enterprise(session: Session, actor: Actor, code: str) -> League:
    """The second, different official opens the enterprise: it becomes eligible in every
    market its league trades in (of the right types of its sector, :data:`SECTOR_RIGHTS`),
    in its league's zone."""
    enterprise = _pending_enterprise(session, code, actor)
    approvals.approve(session, subject(code), actor, OPENING)
    enterprise.status = ParticipantState.OPEN.value
    kinds = SECTOR_RIGHTS.get(enterprise.sector or "", ALL_RIGHTS)
    rows = session.scalars(
        select(MarketLeague)
        .join(Market, Market.id == MarketLeague.market_id)
        .where(
            MarketLeague.league_code == enterprise.parent_code,
            Market.right_type.in_(sorted(kinds)),
        )
    ).all()
    for row in rows:
        session.add(MarketLeague(market_id=row.market_id, league_code=code, zone=row.zone))
    session.flush()
    return enterprise


def reject_enterprise(session: Session, actor: Actor, code: str, reason: str) -> League:
    """An official refuses the request (any of the two, with a reason)."""
    enterprise = _pending_enterprise(session, code, actor)
    approvals.reject(session, subject(code), actor, reason, OPENING)
    enterprise.status = ParticipantState.REJECTED.value
    return enterprise


def enterprises_of(session: Session, league: str) -> Sequence[League]:
    """A league's enterprises, by code."""
    return session.scalars(
        select(League).where(League.parent_code == league).order_by(League.code)
    ).all()
