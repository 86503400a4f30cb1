"""Yearly delivery of transfers: the daily roll, the allocation hook, defaults.

- :func:`roll` (``exchange transfers roll --date``, and the daily scheduler job)
  does what is due on a date: every active transfer's years due by then are
  delivered against payment; a due year whose water was allocated but cannot be
  held puts the transfer in default. Idempotent: a delivered year is never
  delivered again (each transfer is row-locked while it is rolled).
- :func:`serve_transfer_obligations` is called by the allocation service: a
  seller's new allocation serves its transfer obligations first (it is held for
  them at once), so the same water can never be sold twice. An allocation that
  cannot cover the year puts the transfer in default.
- a default is recorded on the transfer (party, year, reason), every year not
  delivered is cancelled and its holds released; the regulator's console lists
  it. Nothing is ever delivered partly: a year is one journal or nothing.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Protocol

from sqlalchemy import select
from sqlalchemy.orm import Session

import ledger
from exchange.errors import ExchangeError
from exchange.mechanisms.transfer import delivery as settle
from exchange.mechanisms.transfer import due_on
from exchange.models import (
    DeliveryStatus,
    Market,
    Transfer,
    TransferDelivery,
    TransferStatus,
)
from exchange.models.base import utcnow
from exchange.services import families, participants
from exchange.uow import savepoint

log = logging.getLogger(__name__)

OPEN_STATUSES = (TransferStatus.ACCEPTED, TransferStatus.REVIEWED, TransferStatus.ACTIVE)
"""Transfers whose seller owes water: accepted, in approval, or active."""


@dataclass
class RollResult:
    """What one roll (or an allocation) did."""

    delivered: list[tuple[int, int]] = field(default_factory=list)
    secured: list[tuple[int, int]] = field(default_factory=list)
    defaulted: list[int] = field(default_factory=list)
    completed: list[int] = field(default_factory=list)


def allocated(session: Session, league: str, market_id: int) -> bool:
    """Whether ``league`` has ever been allocated rights of the market."""
    total, _page = ledger.list_journals(
        session,
        owner=league,
        asset=ledger.market_asset(market_id),
        kind=ledger.JournalKind.ISSUANCE,
        limit=1,
    )
    return total > 0


def _lock(session: Session, transfer_id: int) -> Transfer:
    transfer = session.scalar(
        select(Transfer)
        .where(Transfer.id == transfer_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    assert transfer is not None
    for row in transfer.deliveries:
        session.refresh(row)
    return transfer


def roll(session: Session, on: date, actor: str) -> RollResult:
    """Deliver what is due by the end of ``on`` (UTC) for every active transfer."""
    until = datetime.combine(on, time(0), tzinfo=UTC) + timedelta(days=1)
    result = RollResult()
    ids = session.scalars(
        select(Transfer.id).where(Transfer.status == TransferStatus.ACTIVE).order_by(Transfer.id)
    ).all()
    for transfer_id in ids:
        transfer = _lock(session, transfer_id)
        if transfer.status is TransferStatus.ACTIVE:
            _settle(session, transfer, until, actor, result, inclusive=False)
    return result


def settle_due(session: Session, transfer: Transfer, now: datetime, actor: str) -> RollResult:
    """Deliver the years of an active ``transfer`` due by ``now`` (at approval, at allocation)."""
    result = RollResult()
    _settle(session, transfer, now, actor, result, inclusive=True)
    return result


def _settle(
    session: Session,
    transfer: Transfer,
    until: datetime,
    actor: str,
    result: RollResult,
    *,
    inclusive: bool,
) -> None:
    for row in transfer.deliveries:
        due = due_on(transfer, row.year)
        if due > until or (due == until and not inclusive):
            break
        if row.status is DeliveryStatus.PENDING and not _try_secure(
            session, transfer, row, actor, result
        ):
            if transfer.status is TransferStatus.DEFAULTED:
                return
            continue  # not yet allocated: delivered when it is
        if row.status is DeliveryStatus.SECURED and not _deliver(
            session, transfer, row, actor, result
        ):
            return
    _complete_if_done(session, transfer, actor, result)


def _try_secure(
    session: Session, transfer: Transfer, row: TransferDelivery, actor: str, result: RollResult
) -> bool:
    """Hold a pending year if its water is allocated; default if it cannot be held."""
    market = families.vintage_market(session, transfer.market_family, row.year)
    if market is None or not allocated(session, transfer.seller, market.id):
        return False
    try:
        with savepoint(session):
            settle.secure(session, transfer, row, market.id, actor)
    except ledger.InsufficientFunds as err:
        record_default(
            session,
            transfer,
            party=transfer.seller,
            year=row.year,
            reason=f"the seller cannot deliver {row.quantity} of {row.year}: {err}",
            actor=actor,
        )
        result.defaulted.append(transfer.id)
        return False
    result.secured.append((transfer.id, row.year))
    return True


def _deliver(
    session: Session, transfer: Transfer, row: TransferDelivery, actor: str, result: RollResult
) -> bool:
    market = session.get(Market, row.market_id)
    try:
        if market is not None:  # an import keeps the region within its total
            participants.check_region_total(
                session, market, transfer.seller, transfer.buyer, row.quantity
            )
    except ExchangeError as err:
        record_default(
            session,
            transfer,
            party=transfer.seller,
            year=row.year,
            reason=err.message,
            actor=actor,
        )
        result.defaulted.append(transfer.id)
        return False
    try:
        with savepoint(session):
            settle.deliver(session, transfer, row, actor, utcnow())
    except ledger.InsufficientFunds as err:
        session.refresh(row)
        record_default(
            session,
            transfer,
            party=transfer.buyer,
            year=row.year,
            reason=f"the buyer cannot pay {row.payment} fen for {row.year}: {err}",
            actor=actor,
        )
        result.defaulted.append(transfer.id)
        return False
    result.delivered.append((transfer.id, row.year))
    return True


def _complete_if_done(session: Session, transfer: Transfer, actor: str, result: RollResult) -> None:
    if all(r.status is DeliveryStatus.DELIVERED for r in transfer.deliveries):
        settle.release(
            session,
            transfer.buyer_hold_id,
            actor=actor,
            reference=f"{settle.source(transfer)}/release",
        )
        transfer.status = TransferStatus.COMPLETED
        transfer.closed_at = transfer.updated_at = utcnow()
        transfer.closed_by = actor
        result.completed.append(transfer.id)


def release_all(session: Session, transfer: Transfer, actor: str) -> None:
    """Give back every hold of a transfer's undelivered years and the buyer's payment hold."""
    reference = f"{settle.source(transfer)}/release"
    for row in transfer.deliveries:
        if row.status is DeliveryStatus.SECURED:
            settle.release(session, row.hold_id, actor=actor, reference=reference)
    settle.release(session, transfer.buyer_hold_id, actor=actor, reference=reference)


def record_default(
    session: Session, transfer: Transfer, *, party: str, year: int, reason: str, actor: str
) -> None:
    """Put ``transfer`` in default: the failed year, the rest cancelled, holds released."""
    release_all(session, transfer, actor)
    for row in transfer.deliveries:
        if row.year == year and row.status is not DeliveryStatus.DELIVERED:
            row.status = DeliveryStatus.DEFAULTED
        elif row.status in (DeliveryStatus.PENDING, DeliveryStatus.SECURED):
            row.status = DeliveryStatus.CANCELLED
    transfer.status = TransferStatus.DEFAULTED
    transfer.defaulted_party = party
    transfer.defaulted_year = year
    transfer.reason = reason[:500]
    transfer.closed_at = transfer.updated_at = utcnow()
    transfer.closed_by = actor
    log.warning("transfer %s in default by %s (%s): %s", transfer.id, party, year, reason)


class Allocated(Protocol):
    """An allocation made: a league and a market code."""

    @property
    def league(self) -> str: ...

    @property
    def market(self) -> str: ...


def serve_transfer_obligations(
    session: Session, allocations: Iterable[Allocated], *, actor: str
) -> RollResult:
    """After an allocation: hold each seller's new water for its transfers first.

    For every market allocated and every league allocated in it that sells the
    market's vintage by transfer (accepted, in approval or active), the year's
    volume is held at once; an active transfer whose year is due delivers it.
    An allocation that cannot cover the year puts the transfer in default.
    """
    result = RollResult()
    by_market: dict[str, set[str]] = {}
    for item in allocations:
        by_market.setdefault(item.market, set()).add(item.league)
    for code, sellers in sorted(by_market.items()):
        market = session.scalar(select(Market).where(Market.code == code))
        if market is None or not market.vintage.isdigit():
            continue
        rows = session.execute(
            select(Transfer.id)
            .join(TransferDelivery, TransferDelivery.transfer_id == Transfer.id)
            .where(
                Transfer.market_family == families.family_of(market),
                Transfer.seller.in_(sellers),
                Transfer.status.in_(OPEN_STATUSES),
                TransferDelivery.year == int(market.vintage),
                TransferDelivery.status == DeliveryStatus.PENDING,
            )
            .order_by(Transfer.id)
        ).scalars()
        for transfer_id in list(rows):
            transfer = _lock(session, transfer_id)
            row = next(r for r in transfer.deliveries if r.year == int(market.vintage))
            if transfer.status not in OPEN_STATUSES or row.status is not DeliveryStatus.PENDING:
                continue
            secured = _try_secure(session, transfer, row, actor, result)
            if secured and transfer.status is TransferStatus.ACTIVE:
                _settle(session, transfer, utcnow(), actor, result, inclusive=True)
    return result
