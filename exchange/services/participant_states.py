"""Changing a participant's account state (``POST /api/v1/participants/<code>/state``).

Who: the regulator, any participant but a pending or refused one, to any settable
state; a league official, its own enterprises only, and only to ``restricted`` or
``suspended`` (lifting a restriction, closing and reopening are the regulator's).
The request is in the action log like every state change; the reason is required.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

import ledger
from exchange.errors import Conflict, Forbidden, InvalidInput, NotFound
from exchange.identity.actor import Actor
from exchange.models import League, ParticipantKind, ParticipantState, Role
from exchange.models.trading import LIVE_STATUSES, Order
from exchange.services import orders
from exchange.services.enterprises import LEAGUE_SETTABLE, SETTABLE

MAX_REASON = 500


def _may_set(actor: Actor, participant: League, state: ParticipantState) -> None:
    if actor.role is Role.REGULATOR:
        return
    own = (
        actor.role is Role.LEAGUE
        and participant.kind == ParticipantKind.ENTERPRISE.value
        and participant.parent_code == actor.league_code
    )
    if own and state in LEAGUE_SETTABLE:
        return
    raise Forbidden(
        "a league official may only restrict or suspend its own enterprises; "
        "the regulator changes any state"
    )


def live_orders(session: Session, code: str) -> list[int]:
    """Ids of ``code``'s live orders."""
    query = select(Order.id).where(Order.league_code == code, Order.status.in_(LIVE_STATUSES))
    return list(session.scalars(query.order_by(Order.id)))


def _check_closable(session: Session, code: str) -> None:
    if live_orders(session, code):
        raise Conflict(f"{code} has live orders: cancel them first", code="live_orders")
    left = [b.asset for b in ledger.balances(session, code) if b.posted]
    if left:
        raise Conflict(
            f"{code} still holds {', '.join(left)}: a closed account holds nothing",
            code="balances_not_zero",
            details={"assets": left},
        )


def change_state(session: Session, actor: Actor, code: str, state: str, reason: str) -> League:
    """Set ``code``'s state; suspending cancels its live orders (nothing of it moves)."""
    try:
        target = ParticipantState(state)
    except ValueError:
        target = None
    if target is None or target not in SETTABLE:
        allowed = ", ".join(s.value for s in SETTABLE)
        raise InvalidInput(f"state: one of {allowed}", field="state")
    text = (reason or "").strip()
    if not 1 <= len(text) <= MAX_REASON:
        raise InvalidInput(f"give a reason of 1-{MAX_REASON} characters", field="reason")
    participant = session.get(League, code, with_for_update=True)
    if participant is None:
        raise NotFound(f"no participant {code!r}", field="code")
    _may_set(actor, participant, target)
    if participant.status in (ParticipantState.PENDING, ParticipantState.REJECTED):
        raise Conflict(f"{code} is {participant.status}: it is not open yet", code="not_opened")
    if participant.status == ParticipantState.CLOSED and target is not ParticipantState.CLOSED:
        raise Conflict(f"{code} is closed", code="participant_closed")
    if target is ParticipantState.CLOSED:
        _check_closable(session, code)
    if target is ParticipantState.SUSPENDED:
        for order_id in live_orders(session, code):
            orders.cancel_order(session, order_id=order_id, league=code, actor=actor.username)
    participant.status = target.value
    participant.status_reason = text
    session.flush()
    return participant
