"""Reading transfers: who may see which (asked of the transfer mechanism), lists, details."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from exchange import approvals, mechanisms
from exchange.errors import InvalidInput, NotFound
from exchange.identity.actor import Actor
from exchange.mechanisms.transfer import TransferMechanism, due_on
from exchange.models import League, Transfer, TransferStatus
from exchange.paging import first_row


def mechanism() -> TransferMechanism:
    """The registered transfer mechanism (its visibility rule is the one rule)."""
    return cast(TransferMechanism, mechanisms.get("transfer"))


def visible_transfer(actor: Actor, transfer: Transfer) -> bool:
    """Whether ``actor`` may see ``transfer`` now."""
    return mechanism().transfer_visible(actor, transfer)


def get_transfer(session: Session, transfer_id: int, actor: Actor) -> Transfer:
    """A transfer ``actor`` may see, or 404 (a private proposal does not exist for others)."""
    transfer = session.get(Transfer, transfer_id)
    if transfer is None or not visible_transfer(actor, transfer):
        raise NotFound(f"no transfer {transfer_id}")
    return transfer


@dataclass(frozen=True)
class TransferQuery:
    """Filters of a transfer list."""

    status: TransferStatus | None = None
    party: str | None = None
    page: int = 1
    per_page: int = 50


def list_transfers(
    session: Session, query: TransferQuery, actor: Actor
) -> tuple[int, Sequence[Transfer]]:
    """``(total, page)`` of the transfers ``actor`` may see, newest first."""
    stmt = mechanism().restrict_transfers(select(Transfer), actor)
    if query.status is not None:
        stmt = stmt.where(Transfer.status == query.status)
    if query.party is not None:
        if session.get(League, query.party) is None:
            raise InvalidInput(f"unknown league {query.party!r}", field="party")
        stmt = stmt.where(or_(Transfer.seller == query.party, Transfer.buyer == query.party))
    total = session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    items = session.scalars(
        stmt.order_by(Transfer.id.desc())
        .offset(first_row(query.page, query.per_page))
        .limit(query.per_page)
    ).all()
    return int(total), items


def approval_steps(session: Session, transfer: Transfer) -> list[dict[str, Any]]:
    """The four-eyes steps of a transfer: who, what, when, why."""
    return [
        {
            "step": a.step.value,
            "username": a.username,
            "at": a.created_at,
            "reason": a.reason,
        }
        for a in approvals.history(session, f"transfer:{transfer.id}")
    ]


def schedule(transfer: Transfer) -> list[dict[str, Any]]:
    """Each year of the term: volume, payment, when due, status, and its journal's hash."""
    return [
        {
            "year": row.year,
            "quantity": row.quantity,
            "received": row.received,
            "payment": row.payment,
            "due": _due(transfer, row.year),
            "status": row.status.value,
            "journal_id": row.journal_id,
            "journal_hash": row.journal_hash,
            "trade_id": row.trade_id,
            "delivered_at": row.delivered_at,
        }
        for row in transfer.deliveries
    ]


def _due(transfer: Transfer, year: int) -> datetime:
    return due_on(transfer, year)


def transfer_dict(session: Session, transfer: Transfer) -> dict[str, Any]:
    """A transfer with its schedule and approval steps (what the API and pages show)."""
    years = transfer.last_year - transfer.first_year + 1
    return {
        "id": transfer.id,
        "market_family": transfer.market_family,
        "seller": transfer.seller,
        "buyer": transfer.buyer,
        "proposer": transfer.proposer,
        "quantity_per_year": transfer.quantity_per_year,
        "first_year": transfer.first_year,
        "last_year": transfer.last_year,
        "price": transfer.price,
        "payment": transfer.payment.value,
        "total_quantity": transfer.quantity_per_year * years,
        "total_amount": transfer.quantity_per_year * transfer.price * years,
        "client_ref": transfer.client_ref,
        "status": transfer.status.value,
        "created_at": transfer.created_at,
        "accepted_at": transfer.accepted_at,
        "approved_at": transfer.approved_at,
        "closed_at": transfer.closed_at,
        "reason": transfer.reason,
        "defaulted_party": transfer.defaulted_party,
        "defaulted_year": transfer.defaulted_year,
        "deliveries": schedule(transfer),
        "approvals": approval_steps(session, transfer),
    }


def defaults(session: Session) -> Sequence[Transfer]:
    """Transfers in default, newest first: the regulator's console shows them."""
    return session.scalars(
        select(Transfer)
        .where(Transfer.status == TransferStatus.DEFAULTED)
        .order_by(Transfer.closed_at.desc(), Transfer.id.desc())
    ).all()


def approval_queue(session: Session) -> Sequence[Transfer]:
    """Accepted transfers awaiting review and reviewed ones awaiting approval, oldest first."""
    return session.scalars(
        select(Transfer)
        .where(Transfer.status.in_((TransferStatus.ACCEPTED, TransferStatus.REVIEWED)))
        .order_by(Transfer.id)
    ).all()
