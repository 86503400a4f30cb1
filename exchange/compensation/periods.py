"""Assessment periods: ``YYYY`` (a year) or ``YYYY-MM`` (a month), and when they close.

Pure values; the clock is passed in. A period closes at the end of its last day in
Beijing time (the exchange's time zone): it can be settled from then on.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from exchange.compensation.formula import ANNUAL, MONTHLY

BEIJING = ZoneInfo("Asia/Shanghai")
PERIOD = re.compile(r"^([0-9]{4})(?:-([0-9]{2}))?\Z")
MIN_YEAR, MAX_YEAR = 1990, 2100


@dataclass(frozen=True, order=True)
class Period:
    """A year (``month`` None) or a month of a year."""

    year: int
    month: int | None = None

    def __str__(self) -> str:
        return f"{self.year}" if self.month is None else f"{self.year}-{self.month:02d}"

    @property
    def assessment(self) -> str:
        return ANNUAL if self.month is None else MONTHLY

    def closes_at(self) -> datetime:
        """The first instant after the period (Beijing time)."""
        if self.month is None or self.month == 12:
            return datetime(self.year + 1, 1, 1, tzinfo=BEIJING)
        return datetime(self.year, self.month + 1, 1, tzinfo=BEIJING)

    def closed(self, now: datetime) -> bool:
        return now >= self.closes_at()

    def months(self) -> list[Period]:
        """The months of a year (a month is its own only month)."""
        if self.month is not None:
            return [self]
        return [Period(self.year, m) for m in range(1, 13)]


def parse_period(text: str) -> Period:
    """``YYYY`` or ``YYYY-MM`` -> :class:`Period`; ``ValueError`` saying what is wrong."""
    match = PERIOD.match(text) if isinstance(text, str) else None
    if match is None:
        raise ValueError("a period is YYYY (a year) or YYYY-MM (a month)")
    year = int(match.group(1))
    if not MIN_YEAR <= year <= MAX_YEAR:
        raise ValueError(f"the year must be between {MIN_YEAR} and {MAX_YEAR}")
    if match.group(2) is None:
        return Period(year)
    month = int(match.group(2))
    if not 1 <= month <= 12:
        raise ValueError("the month must be 01-12")
    return Period(year, month)


def term_periods(first_year: int, last_year: int, assessment: str) -> list[Period]:
    """Every period an agreement settles, in order."""
    years = range(first_year, last_year + 1)
    if assessment == MONTHLY:
        return [Period(y, m) for y in years for m in range(1, 13)]
    return [Period(y) for y in years]
