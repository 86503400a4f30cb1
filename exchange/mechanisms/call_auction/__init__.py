"""The call auction: scheduled, sealed-bid, uniform-price (or zonal-price) clearing runs.

- trades are formed by a clearing run per (market, window) over the sealed book
  (:mod:`.run`), on the market's cron schedule (:mod:`.jobs`);
- nobody but the regulator sees other leagues' live orders; an auditor sees
  orders once a run has cleared them (visibility, :meth:`CallAuction.order_visible`);
- each run settles delivery versus payment through the exchange's clearing
  house, with buyer refunds and congestion rent (:mod:`.settlement`).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from flask import Flask
from sqlalchemy import Select
from sqlalchemy.orm import Session

import ledger
from exchange.mechanisms.base import FormTrades, JobSpec, Mechanism, OrderView, TradeOutcome
from exchange.mechanisms.call_auction import jobs, joint, settlement, visibility
from exchange.mechanisms.call_auction.run import MECHANISM, clear_in_session
from exchange.models.trading import RunTrigger
from exchange.schedule import latest_window, parse_schedule

__all__ = ["CallAuction", "joint"]  # joint: registers the clearing of bundle orders

if TYPE_CHECKING:
    from exchange.identity.actor import Actor
    from exchange.models import Market, Order


class CallAuction(Mechanism):
    """Scheduled clearing runs over a sealed book; settlement via the clearing house."""

    name = MECHANISM
    title = "sealed-bid call auction, cleared in scheduled runs (single price or zonal prices)"

    def jobs(self, app: Flask, market: Market) -> Sequence[JobSpec]:
        """One clearing job on the market's cron schedule."""
        schedule = market.clearing_schedule
        return [
            JobSpec(
                id=f"market:{market.id}:clear",
                name=f"clear market {market.id} ({schedule})",
                trigger=parse_schedule(schedule),
                func=jobs.scheduled_clear,
                kwargs={"app": app, "market_id": market.id},
                signature=schedule,
            )
        ]

    def market_terms(self, command: Any) -> dict[str, Any]:
        """The schedule, and the reference price of the stability rule ``min_price_percent``
        (:mod:`.stability`; None: the last run's price)."""
        return {**super().market_terms(command), "reference_price": command.reference_price}

    def startup_jobs(self, app: Flask) -> Sequence[JobSpec]:
        """Clear each market's latest window once if it was missed while no scheduler ran."""
        return [
            JobSpec(
                id="call-auction:catch-up",
                name="catch up missed clearing windows",
                trigger=None,
                func=jobs.catch_up,
                kwargs={"app": app},
            )
        ]

    def due_window(self, schedule: str | None, now: datetime) -> datetime | None:
        """The latest window of the market's cron schedule at or before ``now``."""
        if not schedule:
            return None
        try:
            return latest_window(schedule, now)
        except ValueError:  # a schedule that no longer parses: nothing is due
            return None

    def form_trades(self, session: Session, command: FormTrades) -> TradeOutcome:
        """One clearing run of ``command.window``, in the caller's transaction."""
        outcome = clear_in_session(
            session,
            command.market_id,
            command.window,
            RunTrigger(command.trigger),
            command.actor,
        )
        return TradeOutcome(outcome.run_id, outcome.created)

    def order_visible(self, viewer: Actor, order: OrderView) -> bool:
        """Sealed bids (:mod:`.visibility`): owner and regulator; auditors once not live."""
        return visibility.may_see(viewer, order.league_code, live=order.live)

    def restrict_orders(self, query: Select[tuple[Order]], viewer: Actor) -> Select[tuple[Order]]:
        """The sealed-bid rule in SQL (:func:`.visibility.restrict_orders`)."""
        return visibility.restrict_orders(query, viewer)

    def settlement_specs(
        self,
        session: Session,
        market_id: int,
        trades: Sequence[Any],
        *,
        reference: str,
        actor: str,
    ) -> Sequence[ledger.JournalSpec]:
        """DvP journals of a run's fills (:class:`settlement.Fill`), then its congestion rent."""
        if not trades:
            return []
        asset = ledger.market_asset(market_id)
        specs, _totals = settlement.settlement_specs(
            session, asset=asset, fills=trades, reference=reference, actor=actor
        )
        return specs
