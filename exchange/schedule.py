"""Clearing schedules: cron expressions interpreted in the exchange's time zone."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from apscheduler.triggers.cron import CronTrigger

# Inner Mongolia keeps Beijing time; cron schedules of markets are read in it.
EXCHANGE_TZ = ZoneInfo("Asia/Shanghai")


def parse_schedule(expression: str) -> CronTrigger:
    """Parse a five-field crontab expression; ``ValueError`` says what is wrong."""
    fields = expression.split()
    if len(fields) != 5:
        raise ValueError(
            f"expected 5 crontab fields (minute hour day month weekday), got {len(fields)}"
        )
    try:
        return CronTrigger.from_crontab(expression, timezone=EXCHANGE_TZ)
    except (ValueError, KeyError, TypeError) as exc:
        raise ValueError(f"not a valid crontab expression: {exc}") from exc


def next_run(expression: str, after: datetime) -> datetime | None:
    """The first scheduled time strictly after ``after`` (timezone-aware)."""
    trigger = parse_schedule(expression)
    fire: datetime | None = trigger.get_next_fire_time(None, after)
    if fire is not None and fire <= after:
        fire = trigger.get_next_fire_time(None, after + timedelta(seconds=1))
    return fire
