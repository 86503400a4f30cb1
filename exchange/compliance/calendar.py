"""Working days (Monday to Friday; public holidays are not modelled yet)."""

from __future__ import annotations

from datetime import date

import numpy as np


def add_working_days(start: date, days: int) -> date:
    """The ``days``-th working day after ``start`` (a window ends at the end of that day)."""
    result = np.busday_offset(np.datetime64(start, "D"), days, roll="forward")
    return date.fromisoformat(str(result))
