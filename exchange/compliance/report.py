"""The public compliance report of a period (the EU transaction log's compliance table).

Every league's verified figure, units and offsets surrendered, shortfall and
status; live while the period is open, frozen once it is closed. As CSV too
(spreadsheet-safe cells, ``exchange.csv_safe``).
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from exchange.compliance.status import period_status
from exchange.csv_safe import SafeWriter
from exchange.models import League

CSV_COLUMNS = (
    "league", "league_name_zh", "league_name_en", "status", "verified", "surrendered",
    "offsets", "shortfall",
)  # fmt: skip


def public_report(session: Session, period_id: int, today: date) -> dict[str, Any]:
    """The period's status with the leagues' names."""
    result = period_status(session, period_id, today)
    names = {
        code: (zh, en)
        for code, zh, en in session.execute(select(League.code, League.name_zh, League.name_en))
    }
    for row in result["leagues"]:
        zh, en = names.get(row["league"], (row["league"], row["league"]))
        row["league_name_zh"], row["league_name_en"] = zh, en
    return result


def report_csv(session: Session, period_id: int, today: date) -> Iterator[str]:
    """The public report as CSV lines (header first)."""
    report = public_report(session, period_id, today)
    buffer = io.StringIO()
    writer = SafeWriter(buffer)
    writer.writerow(CSV_COLUMNS)
    for row in report["leagues"]:
        writer.writerow([row[c] for c in CSV_COLUMNS])
    yield buffer.getvalue()
