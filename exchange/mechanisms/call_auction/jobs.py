"""Scheduled clearing: one APScheduler job per market, on the market's cron schedule.

Rules (also in docs/trading.md):

- A job firing at time T clears the window W = the latest scheduled time <= T
  (computed from the cron expression, not from when the job happened to run).
  The database allows one run per (market, window), so a second scheduler, a
  retry or a clock that jumps back cannot clear a window twice.
- Missed windows (the app was down): when a scheduler starts, each market's
  latest window is cleared once if it has no run yet ("catch_up"); earlier
  missed windows are not replayed one by one. Orders are good until cancelled,
  so one auction over the accumulated book is what those windows would have
  added up to, and single-run orders expire at that first run.
- Markets added or rescheduled while the scheduler runs are picked up within a
  minute (the scheduler's sync job asks each market's mechanism for its jobs).
"""

from __future__ import annotations

from datetime import datetime

from flask import Flask
from sqlalchemy import select

from exchange.mechanisms.call_auction.run import MECHANISM, RunOutcome, run_clearing
from exchange.models import Market, MarketStatus
from exchange.models.base import utcnow
from exchange.models.trading import ClearingRun, RunTrigger
from exchange.schedule import latest_window

SCHEDULER_ACTOR = "scheduler"
SYNC_SECONDS = 60


def clear_due(
    app: Flask,
    market_id: int,
    *,
    trigger: RunTrigger = RunTrigger.SCHEDULE,
    now: datetime | None = None,
) -> RunOutcome | None:
    """Clear the market's current window if it has not been cleared; None if none is due."""
    factory = app.extensions["exchange.db"]["sessions"]
    session = factory()
    try:
        market = session.get(Market, market_id)
        if market is None or market.status is not MarketStatus.OPEN:
            return None
        window = latest_window(market.clearing_schedule, now or utcnow())
        if window is None:
            return None
        done = session.scalar(
            select(ClearingRun.id).where(
                ClearingRun.market_id == market_id, ClearingRun.window == window
            )
        )
    finally:
        session.close()
    if done is not None:
        return RunOutcome(done, created=False)
    outcome = run_clearing(factory, market_id, window, trigger=trigger, actor=SCHEDULER_ACTOR)
    app.logger.info(
        "clearing market %s window %s: run %s%s",
        market_id,
        window.isoformat(),
        outcome.run_id,
        "" if outcome.created else " (already done)",
    )
    return outcome


def scheduled_clear(app: Flask, market_id: int) -> None:
    """The body of a market's clearing job: clear the due window, never raise."""
    try:
        clear_due(app, market_id)
    except Exception:  # a job must never kill the scheduler; the run records its failure
        app.logger.exception("scheduled clearing of market %s failed", market_id)


def catch_up(app: Flask) -> None:
    """At start: clear each open call-auction market's latest window once if it was missed."""
    session = app.extensions["exchange.db"]["sessions"]()
    try:
        ids = list(
            session.scalars(
                select(Market.id).where(
                    Market.status == MarketStatus.OPEN, Market.mechanism == MECHANISM
                )
            )
        )
    finally:
        session.close()
    for market_id in ids:
        try:
            clear_due(app, market_id, trigger=RunTrigger.CATCH_UP)
        except Exception:
            app.logger.exception("catch-up clearing of market %s failed", market_id)
