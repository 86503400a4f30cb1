"""Continuous trading (挂牌协议): price-time priority at entry, price band, sessions, close.

- trades are formed when an order is entered (:mod:`.entry`): it matches the resting
  book of :class:`matching.continuous.OrderBook` at the resting orders' prices, in the
  order's unit of work, and settles per trade (:mod:`.settle`);
- limit prices within +-``band_percent`` of the previous close (:mod:`.rules`); orders
  only in the market's sessions (:mod:`.sessions`); units bought today not sold today;
- the close (VWAP of the day's listed trades) is computed at session end (:mod:`.close`);
- the book's depth (best five levels) and the trades are public (:mod:`.market_data`);
  single orders are seen as in the call auction (their league and the regulator);
- block trades (大宗协议) are negotiated and confirmed by both parties (:mod:`.block`).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import TYPE_CHECKING, Any

from apscheduler.triggers.cron import CronTrigger
from flask import Flask
from sqlalchemy import Select
from sqlalchemy.orm import Session

import ledger
from exchange.mechanisms.base import FormTrades, JobSpec, Mechanism, OrderView, TradeOutcome
from exchange.mechanisms.call_auction import visibility
from exchange.mechanisms.continuous import close, entry, rules, sessions
from exchange.models import Market

if TYPE_CHECKING:
    from exchange.identity.actor import Actor
    from exchange.models import Order

MECHANISM = entry.MECHANISM


class Continuous(Mechanism):
    """Listed orders matched at entry (price-time priority) within a price band."""

    name = MECHANISM
    title = "continuous trading: orders match at entry by price-time priority, within a band"
    serial_entry = True

    def jobs(self, app: Flask, market: Market) -> Sequence[JobSpec]:
        """The close at each session end."""
        fields = sessions.close_trigger_fields(market.session_calendar)
        signature = "close " + " ".join(f"{k}={v}" for k, v in sorted(fields.items()))
        return [
            JobSpec(
                id=f"market:{market.id}:close",
                name=f"close of market {market.id}",
                trigger=CronTrigger(timezone=sessions.BEIJING, **fields),
                func=close.scheduled_close,
                kwargs={"app": app, "market_id": market.id},
                signature=signature,
            )
        ]

    def market_terms(self, command: Any) -> dict[str, Any]:
        """No clearing schedule; a band (default 10 %) and a calendar (default: the real
        hours); the reference price until the first close."""
        return {
            "clearing_schedule": "",
            "band_percent": command.band_percent or rules.DEFAULT_BAND_PERCENT,
            "session_calendar": command.session_calendar or sessions.DEFAULT_CALENDAR,
            "reference_price": command.reference_price,
        }

    def startup_jobs(self, app: Flask) -> Sequence[JobSpec]:
        """At scheduler start, the close of each market's last finished day if missed."""
        return [
            JobSpec(
                id="continuous:close-catch-up",
                name="catch up missed closes of continuous markets",
                trigger=None,
                func=close.catch_up,
                kwargs={"app": app},
            )
        ]

    def after_order_entered(self, session: Session, order: Order, *, actor: str) -> None:
        """Check session, band and T+1, record the order and match it at once."""
        entry.enter(session, order, actor=actor)

    def form_trades(self, session: Session, command: FormTrades) -> TradeOutcome:
        """The step at session end: the close of the day of ``command.window``."""
        day: date = sessions.trading_day(command.window)
        row = close.compute_close(session, command.market_id, day)
        return TradeOutcome(row.id, created=True)

    def order_visible(self, viewer: Actor, order: OrderView) -> bool:
        """Single orders as in the call auction; the aggregated depth is public."""
        return visibility.may_see(viewer, order.league_code, live=order.live)

    def restrict_orders(self, query: Select[tuple[Order]], viewer: Actor) -> Select[tuple[Order]]:
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
        """DvP journals of fills (two per trade) through the clearing house."""
        if not trades:
            return []
        from exchange.mechanisms.call_auction.settlement import settlement_specs

        specs, _totals = settlement_specs(
            session,
            asset=ledger.market_asset(market_id),
            fills=trades,
            reference=reference,
            actor=actor,
        )
        return specs
