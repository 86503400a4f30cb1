"""Clearing schedules: cron expressions interpreted in the exchange's time zone."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
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


def latest_window(expression: str, now: datetime) -> datetime | None:
    """The last scheduled time at or before ``now`` (the window a run at ``now`` belongs to).

    Searches backwards with a doubling step, then forwards, so it is cheap for any
    schedule from every minute to once a year. ``None`` if the schedule never fired
    in the last two years.
    """
    trigger = parse_schedule(expression)
    step = timedelta(minutes=1)
    start = now - step
    fire: datetime | None = trigger.get_next_fire_time(None, start)
    while fire is None or fire > now:
        step *= 2
        if step > timedelta(days=800):
            return None
        start = now - step
        fire = trigger.get_next_fire_time(None, start)
    while True:
        following = trigger.get_next_fire_time(fire, fire + timedelta(seconds=1))
        if following is None or following > now:
            return fire.astimezone(UTC)
        fire = following
