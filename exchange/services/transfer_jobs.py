"""The daily roll of transfers as a scheduler job (installed by the composition root)."""

from __future__ import annotations

import logging
from datetime import UTC, date, datetime
from typing import Any

from flask import Flask

from exchange.services.transfer_delivery import RollResult, roll

log = logging.getLogger(__name__)

ROLL_JOB_ID = "transfers:roll"
SCHEDULER_ACTOR = "scheduler"


def run_roll(app: Flask, on: date, actor: str) -> RollResult:
    """One roll of every transfer for ``on``, in its own unit of work."""
    from exchange.extensions import db
    from exchange.uow import new_unit_of_work

    with app.app_context(), new_unit_of_work(db.session_factory) as session:
        return roll(session, on, actor)


def today() -> date:
    """The day the daily job rolls (UTC)."""
    return datetime.now(UTC).date()


def _roll_job(app: Flask) -> None:
    try:
        result = run_roll(app, today(), SCHEDULER_ACTOR)
        log.info(
            "transfers rolled: %d delivered, %d defaulted, %d completed",
            len(result.delivered),
            len(result.defaulted),
            len(result.completed),
        )
    except Exception:
        log.exception("the daily roll of transfers could not run")


def install_transfer_roll_job(app: Flask, scheduler: Any) -> None:
    """Daily at 00:05 UTC (and the roll is idempotent: a second scheduler delivers nothing)."""
    scheduler.add_job(
        _roll_job,
        "cron",
        hour=0,
        minute=5,
        timezone=UTC,
        id=ROLL_JOB_ID,
        kwargs={"app": app},
        replace_existing=True,
    )
