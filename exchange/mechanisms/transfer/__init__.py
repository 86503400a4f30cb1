"""Negotiated term transfers (协议转让): proposal, acceptance, four-eyes approval, delivery.

- trades are formed by a contract: a seller promises a yearly volume of a water
  family (one vintage market per year) to a named buyer for a term of years, at
  a price per unit per year; the counterparty accepts, a regulator reviews and a
  different regulator approves (:mod:`exchange.approvals`); each year of the
  term is then delivered against payment (:mod:`.delivery`), due on 1 January
  of the year or at approval when that is later, or when the year's water is
  allocated to the seller if that comes later still;
- visibility (:mod:`.visibility`): proposals to their two parties and the
  regulator; approved transfers to everyone;
- jobs: none per market; one daily job rolls every transfer (installed by the
  composition root, it calls ``exchange.services.transfers.roll``).

The use cases (propose, accept, ..., roll, the allocation hook) are in
``exchange.services.transfers``: they need the market families of
``exchange.services``, which mechanisms do not import.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from flask import Flask
from sqlalchemy import Select, false, select
from sqlalchemy.orm import Session

import ledger
from exchange.mechanisms.base import FormTrades, JobSpec, Mechanism, OrderView, TradeOutcome
from exchange.mechanisms.transfer import delivery, visibility
from exchange.models import DeliveryStatus, Transfer, TransferDelivery, TransferStatus

if TYPE_CHECKING:
    from exchange.identity.actor import Actor
    from exchange.models import Market, Order


class TransferMechanism(Mechanism):
    """Bilateral contracts for a term of years, delivered yearly against payment."""

    name = delivery.MECHANISM
    title = "negotiated term transfer: proposal, acceptance, four-eyes approval, yearly delivery"

    def jobs(self, app: Flask, market: Market) -> Sequence[JobSpec]:
        """None per market: the daily roll is one job for every transfer."""
        return ()

    def form_trades(self, session: Session, command: FormTrades) -> TradeOutcome:
        """Deliver every secured year of an active transfer in ``command.market_id`` due by
        ``command.window``; ``source_id`` is the last delivery's id (0 if none)."""
        rows = session.execute(
            select(TransferDelivery, Transfer)
            .join(Transfer, Transfer.id == TransferDelivery.transfer_id)
            .where(
                TransferDelivery.market_id == command.market_id,
                TransferDelivery.status == DeliveryStatus.SECURED,
                Transfer.status == TransferStatus.ACTIVE,
            )
            .order_by(TransferDelivery.id)
            .with_for_update()
        ).all()
        last = 0
        for row, transfer in rows:
            if due_on(transfer, row.year) <= command.window:
                delivery.deliver(session, transfer, row, command.actor, datetime.now(UTC))
                last = row.id
        return TradeOutcome(last, bool(last))

    def order_visible(self, viewer: Actor, order: OrderView) -> bool:
        """A proposal (``live``: still in negotiation) is seen by its party and the regulator."""
        return visibility.may_see(viewer, (order.league_code,), public=not order.live)

    def restrict_orders(self, query: Select[tuple[Order]], viewer: Actor) -> Select[tuple[Order]]:
        """Transfers take no orders: nothing of theirs is in a book."""
        return query.where(false())

    def restrict_transfers(self, query: Select[Any], viewer: Actor) -> Select[Any]:
        """``query`` over transfers limited to those ``viewer`` may see (:mod:`.visibility`)."""
        return visibility.restrict(query, viewer)

    def transfer_visible(self, viewer: Actor, transfer: Transfer) -> bool:
        """Whether ``viewer`` may see ``transfer`` (:mod:`.visibility`)."""
        public = visibility.is_public(transfer.status, transfer.approved_at is not None)
        return visibility.may_see(viewer, transfer.parties, public)

    def settlement_specs(
        self,
        session: Session,
        market_id: int,
        trades: Sequence[Any],
        *,
        reference: str,
        actor: str,
    ) -> Sequence[ledger.JournalSpec]:
        """The DvP journals of ``trades``: ``(transfer, delivery)`` pairs of secured years."""
        return [delivery.delivery_spec(session, t, d, actor) for t, d in trades]


def due_on(transfer: Transfer, year: int) -> datetime:
    """When a year is due: 1 January of the year, or the approval when that is later."""
    start = datetime(year, 1, 1, tzinfo=UTC)
    if transfer.approved_at is not None and transfer.approved_at > start:
        return transfer.approved_at
    return start


__all__ = ["TransferMechanism", "due_on"]
