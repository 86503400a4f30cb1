"""Which clearing windows a manual run may name: past windows of the market's schedule.

A window in the future would take the scheduler's run of that window (one run
per market and window) and hide the missed-window alert; a time that is not on
the schedule is no window at all. Both are refused with 422 naming ``window``.
"""

from __future__ import annotations

from datetime import UTC, datetime

from exchange.errors import InvalidInput
from exchange.schedule import latest_window


def check_window(schedule: str, window: datetime, now: datetime) -> datetime:
    """``window`` (UTC) if it is a time of ``schedule`` not after ``now``; else ``InvalidInput``."""
    if window.tzinfo is None:
        raise InvalidInput("window: give a time zone offset, e.g. 2027-03-01T10:00:00+08:00",
                           field="window")  # fmt: skip
    window = window.astimezone(UTC)
    if window > now:
        raise InvalidInput(
            f"window: {window.isoformat()} is in the future; only past windows can be cleared "
            "by hand (the scheduler clears the next one)",
            field="window",
        )
    fire = latest_window(schedule, window)
    if fire is None or fire != window:
        hint = f" (the last one before it: {fire.isoformat()})" if fire is not None else ""
        raise InvalidInput(
            f"window: {window.isoformat()} is not a time of the market's schedule "
            f"{schedule!r}{hint}",
            field="window",
        )
    return window
