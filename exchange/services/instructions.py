"""Four eyes among an enterprise's representatives (the UK ETS registry's rule).

A representative with ``initiate`` only does not act alone: its order, transfer
proposal or acceptance is stored as an *instruction* (nothing held, nothing in the
book) until a second representative of the same enterprise, with ``approve`` or
``initiate_and_approve``, approves it; then it is entered with every check of entry run
again (funds are held then). A representative with ``initiate_and_approve`` acts alone,
and so does one with ``initiate`` whose transfer counterparty is on the enterprise's
trusted list (effective after its delay, ``exchange.services.trusted``). Orders have no
counterparty of the enterprise's choosing, so they always need the second
representative unless the initiator may do both. Cancelling an order needs no second
representative (it only lowers what is at risk). ``surrender_only`` representatives
surrender; ``read_only`` ones see.

The steps are rows of ``approvals`` (subject ``instruction:<id>``): the initiator's
review, the approver's approval (a different user, enforced there) or a rejection.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from exchange import approvals
from exchange.errors import Conflict, Forbidden, NotFound
from exchange.identity.actor import Actor
from exchange.models import Instruction, Payment, Rights, Role
from exchange.models.base import utcnow
from exchange.services import bundles, orders, participants, transfers, trusted
from exchange.services.commands import PlaceOrder

RULE = approvals.FourEyes(roles=(Role.REPRESENTATIVE,))
ORDER, TRANSFER, ACCEPT, BUNDLE = "order", "transfer", "accept", "bundle"


@dataclass(frozen=True)
class Outcome:
    """What an approved instruction made: a kind and an id (``order``, 12)."""

    kind: str
    id: int


def needs_second(session: Session, actor: Actor, counterparty: str | None = None) -> bool:
    """Whether what ``actor`` initiates waits for a second representative."""
    if actor.role is not Role.REPRESENTATIVE:
        return False
    if actor.rights == Rights.INITIATE_AND_APPROVE.value:
        return False
    if counterparty is not None and actor.participant is not None:
        return not trusted.is_trusted(session, actor.participant, counterparty)
    return True


def subject(instruction_id: int) -> str:
    """The four-eyes subject of an instruction."""
    return f"instruction:{instruction_id}"


def initiate(session: Session, actor: Actor, kind: str, payload: dict[str, Any]) -> Instruction:
    """Store what ``actor`` (a representative who may initiate) asks, pending approval."""
    party = actor.participant
    if party is None or not participants.acts_for(session, actor, party):
        raise Forbidden("this representative may not initiate", field="rights")
    row = Instruction(
        participant_code=party,
        kind=kind,
        payload=json.dumps(payload, sort_keys=True, default=str),
        status="pending",
        initiated_by=actor.username,
        created_at=utcnow(),
    )
    session.add(row)
    session.flush()
    approvals.review(session, subject(row.id), actor, RULE)
    return row


def may_see(actor: Actor, row: Instruction) -> bool:
    """The enterprise's representatives (any rights) and the regulator."""
    if actor.role is Role.REGULATOR:
        return True
    return actor.role is Role.REPRESENTATIVE and actor.participant == row.participant_code


def listing(session: Session, actor: Actor, participant: str | None) -> Sequence[Instruction]:
    """Instructions ``actor`` may see, newest first."""
    query = select(Instruction).order_by(Instruction.id.desc()).limit(500)
    if actor.role is Role.REPRESENTATIVE:
        query = query.where(Instruction.participant_code == actor.participant)
    elif participant is not None:
        query = query.where(Instruction.participant_code == participant)
    return [row for row in session.scalars(query) if may_see(actor, row)]


def get(session: Session, actor: Actor, instruction_id: int, *, lock: bool = False) -> Instruction:
    """One instruction ``actor`` may see, or 404."""
    row = session.get(Instruction, instruction_id, with_for_update=lock)
    if row is None or not may_see(actor, row):
        raise NotFound(f"no instruction {instruction_id}", field="instruction_id")
    return row


def _initiator(row: Instruction) -> Actor:
    """The initiating representative, as the actor of what the instruction enters."""
    return Actor(
        username=row.initiated_by,
        role=Role.REPRESENTATIVE,
        participant=row.participant_code,
        rights=Rights.INITIATE.value,
    )


def _order(session: Session, row: Instruction, data: dict[str, Any]) -> Outcome:
    placed = orders.place_order(
        session, PlaceOrder.from_data(data), league=row.participant_code, actor=row.initiated_by
    )
    return Outcome(ORDER, placed.order.id)


def _transfer(session: Session, row: Instruction, data: dict[str, Any]) -> Outcome:
    command = transfers.ProposeTransfer(**{**data, "payment": Payment(data["payment"])})
    transfer, _created = transfers.propose(session, command, _initiator(row))
    return Outcome("transfer", transfer.id)


def _accept(session: Session, row: Instruction, data: dict[str, Any]) -> Outcome:
    command = transfers.TransferAction(int(data["transfer_id"]))
    transfer = transfers.accept(session, command, _initiator(row))
    return Outcome("transfer", transfer.id)


def _bundle(session: Session, row: Instruction, data: dict[str, Any]) -> Outcome:
    data = {**data, "window": datetime.fromisoformat(data["window"])}
    command = bundles.PlaceBundle.from_data(bundles.with_market_ids(session, data))
    placed = bundles.place_bundle(
        session, command, league=row.participant_code, actor=row.initiated_by
    )
    return Outcome(BUNDLE, placed.bundle.id)


EXECUTORS: dict[str, Callable[[Session, Instruction, dict[str, Any]], Outcome]] = {
    ORDER: _order,
    BUNDLE: _bundle,
    TRANSFER: _transfer,
    ACCEPT: _accept,
}


def _pending(session: Session, actor: Actor, instruction_id: int) -> Instruction:
    row = get(session, actor, instruction_id, lock=True)
    if not participants.represents(actor, row.participant_code, participants.APPROVING_RIGHTS):
        raise Forbidden("approving needs the right approve or initiate_and_approve")
    if row.status != "pending":
        raise Conflict(f"instruction {row.id} is {row.status}", code="not_pending")
    return row


def approve(session: Session, actor: Actor, instruction_id: int) -> tuple[Instruction, Outcome]:
    """A second representative approves: the order or transfer is entered now."""
    row = _pending(session, actor, instruction_id)
    approvals.approve(session, subject(row.id), actor, RULE)
    outcome = EXECUTORS[row.kind](session, row, json.loads(row.payload))
    row.status, row.result = "approved", f"{outcome.kind}:{outcome.id}"
    row.decided_by, row.decided_at = actor.username, utcnow()
    return row, outcome


def reject(session: Session, actor: Actor, instruction_id: int, reason: str) -> Instruction:
    """A representative who may approve refuses it (with a reason); nothing is entered."""
    row = _pending(session, actor, instruction_id)
    approvals.reject(session, subject(row.id), actor, reason, RULE)
    row.status, row.result = "rejected", None
    row.decided_by, row.decided_at = actor.username, utcnow()
    return row
