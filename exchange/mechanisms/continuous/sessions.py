"""Session calendars of continuous markets: when the book takes orders, and the trading day.

- ``cn_workdays`` (the default for new markets): Monday to Friday, 9:30-11:30 and
  13:00-15:00 Beijing time, as the national carbon market (public holidays are not
  modelled: a regulator halts the market on those days);
- ``always``: open around the clock (the demo's market, so a newcomer can trade at once).

The trading day is the Beijing calendar date; the close of a day is computed at its
session end (15:00 Beijing for ``cn_workdays``, midnight Beijing for ``always``).
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

BEIJING = ZoneInfo("Asia/Shanghai")
CN_WORKDAYS = "cn_workdays"
ALWAYS = "always"
CALENDARS = (CN_WORKDAYS, ALWAYS)
DEFAULT_CALENDAR = CN_WORKDAYS
SESSIONS = ((time(9, 30), time(11, 30)), (time(13, 0), time(15, 0)))
"""The sessions of a working day (Beijing time), start included, end excluded."""


def trading_day(now: datetime) -> date:
    """The trading day ``now`` (timezone-aware) falls in: its Beijing date."""
    return now.astimezone(BEIJING).date()


def is_open(calendar: str | None, now: datetime) -> bool:
    """Does the book take orders at ``now``?"""
    if (calendar or DEFAULT_CALENDAR) == ALWAYS:
        return True
    local = now.astimezone(BEIJING)
    if local.weekday() >= 5:
        return False
    moment = local.time()
    return any(start <= moment < end for start, end in SESSIONS)


def describe(calendar: str | None) -> str:
    """The hours in one line (for error messages)."""
    if (calendar or DEFAULT_CALENDAR) == ALWAYS:
        return "open around the clock"
    return "Monday to Friday 9:30-11:30 and 13:00-15:00 Beijing time"


def last_finished_day(calendar: str | None, now: datetime) -> date:
    """The latest trading day whose sessions have ended at ``now`` (the close to compute)."""
    local = now.astimezone(BEIJING)
    if (calendar or DEFAULT_CALENDAR) == ALWAYS:
        return local.date() - timedelta(days=1)
    day = local.date()
    if local.time() < SESSIONS[-1][1] or day.weekday() >= 5:
        day -= timedelta(days=1)
    while day.weekday() >= 5:
        day -= timedelta(days=1)
    return day


def close_trigger_fields(calendar: str | None) -> dict[str, str]:
    """Cron fields (Beijing time) of the close job: at each session end."""
    if (calendar or DEFAULT_CALENDAR) == ALWAYS:
        return {"day_of_week": "*", "hour": "0", "minute": "0", "second": "5"}
    return {"day_of_week": "mon-fri", "hour": "15", "minute": "0", "second": "5"}
