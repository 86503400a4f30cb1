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
  minute (a sync job).
"""

from __future__ import annotations

from datetime import datetime

from apscheduler.schedulers.base import BaseScheduler
from flask import Flask
from sqlalchemy import select

from exchange.models import Market, MarketStatus
from exchange.models.base import utcnow
from exchange.models.trading import ClearingRun, RunTrigger
from exchange.schedule import latest_window, parse_schedule
from exchange.scheduler import job_installer
from exchange.services.clearing import RunOutcome, run_clearing

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


def _open_markets(app: Flask) -> list[tuple[int, str]]:
    session = app.extensions["exchange.db"]["sessions"]()
    try:
        return [
            (m.id, m.clearing_schedule)
            for m in session.scalars(select(Market).where(Market.status == MarketStatus.OPEN))
        ]
    finally:
        session.close()


def sync_jobs(app: Flask, scheduler: BaseScheduler) -> None:
    """Make the clearing jobs match the open markets and their schedules."""
    wanted = {f"clear:{mid}": (mid, schedule) for mid, schedule in _open_markets(app)}
    for job in scheduler.get_jobs():
        if job.id.startswith("clear:") and job.id not in wanted:
            job.remove()
    for job_id, (market_id, schedule) in wanted.items():
        job = scheduler.get_job(job_id)
        if job is not None and job.kwargs.get("schedule") == schedule:
            continue
        scheduler.add_job(
            _scheduled_clear,
            trigger=parse_schedule(schedule),
            id=job_id,
            name=f"clear market {market_id} ({schedule})",
            kwargs={"app": app, "market_id": market_id, "schedule": schedule},
            replace_existing=True,
        )


def _scheduled_clear(app: Flask, market_id: int, schedule: str) -> None:
    try:
        clear_due(app, market_id)
    except Exception:  # a job must never kill the scheduler; the run records its failure
        app.logger.exception("scheduled clearing of market %s failed", market_id)


def catch_up(app: Flask) -> None:
    """At start: clear each market's latest window once if it was missed."""
    for market_id, _schedule in _open_markets(app):
        try:
            clear_due(app, market_id, trigger=RunTrigger.CATCH_UP)
        except Exception:
            app.logger.exception("catch-up clearing of market %s failed", market_id)


@job_installer
def install_clearing_jobs(app: Flask, scheduler: BaseScheduler) -> None:
    """Clearing jobs per market, a sync job, and a one-off catch-up at start."""
    sync_jobs(app, scheduler)
    scheduler.add_job(
        sync_jobs,
        "interval",
        seconds=SYNC_SECONDS,
        id="sync-markets",
        kwargs={"app": app, "scheduler": scheduler},
        replace_existing=True,
    )
    scheduler.add_job(catch_up, id="catch-up", kwargs={"app": app}, replace_existing=True)
