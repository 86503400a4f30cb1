"""Verified figures from a CSV file: a checked preview first, then all rows or none.

Columns ``league,verified[,evidence]`` (a header line first). The preview checks
every row as :func:`figures.enter_figure` would (known and obligated league, a
whole number, no league twice, the figure not final, no pending objection) and
names the line and the reason of every problem; the import enters every row in
the caller's unit of work, or none when any row is refused.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy.orm import Session

from exchange.compliance.commands import EnterFigure
from exchange.compliance.figures import (
    enter_figure,
    figure_of,
    is_final,
    objection_of,
    obligated_leagues,
)
from exchange.compliance.periods import get_period
from exchange.errors import InvalidInput

MAX_ROWS = 1_000
MAX_VERIFIED = 10**15


@dataclass(frozen=True)
class FigureRow:
    line: int
    league: str
    verified: int | None
    evidence: str
    error: str | None = None
    code: str | None = None

    def as_json(self) -> dict[str, Any]:
        return {
            "line": self.line,
            "league": self.league,
            "verified": self.verified,
            "evidence": self.evidence,
            "error": self.error,
            "code": self.code,
        }


def _parse(text: str) -> list[tuple[int, dict[str, str]]]:
    reader = csv.DictReader(io.StringIO(text))
    missing = {"league", "verified"} - set(reader.fieldnames or [])
    if missing:
        raise InvalidInput(
            f"CSV header needs columns league and verified (missing: {', '.join(sorted(missing))})",
            field="csv",
        )
    rows = []
    for row in reader:
        rows.append((reader.line_num, {k: (v or "").strip() for k, v in row.items() if k}))
        if len(rows) > MAX_ROWS:
            raise InvalidInput(f"at most {MAX_ROWS} rows", field="csv")
    if not rows:
        raise InvalidInput("the CSV has no rows", field="csv")
    return rows


def _check(
    session: Session,
    period: Any,
    league: str,
    verified: int | None,
    raw: str,
    evidence: str,
    seen: set[str],
    today: date,
) -> tuple[str | None, str | None]:
    """(code, message) of the reason a row would be refused, or (None, None)."""
    if league not in obligated_leagues(session, period):
        return "not_obligated", f"league {league!r} has no obligation in this period"
    if league in seen:
        return "duplicate", f"league {league!r} appears twice"
    if verified is None or verified > MAX_VERIFIED:
        return "not_a_number", f"verified {raw!r} is not a whole number of units"
    if len(evidence) > 500:
        return "evidence_too_long", "evidence: at most 500 characters"
    figure = figure_of(session, period.id, league)
    if figure is not None:
        objection = objection_of(session, figure)
        if is_final(period, figure, objection, today):
            return "figure_final", "the verified figure is final"
        if objection is not None:
            return "objection_pending", "an objection to this figure is pending"
    return None, None


def preview(session: Session, period_id: int, text: str, today: date) -> list[FigureRow]:
    """Every row of ``text`` with the reason it would be refused (``error``), if any."""
    period = get_period(session, period_id)
    seen: set[str] = set()
    result = []
    for line, row in _parse(text):
        league, raw, evidence = (
            row.get("league", ""),
            row.get("verified", ""),
            row.get("evidence", ""),
        )
        verified = int(raw) if raw.isascii() and raw.isdigit() and len(raw) <= 16 else None
        code, error = _check(session, period, league, verified, raw, evidence, seen, today)
        seen.add(league)
        result.append(FigureRow(line, league, verified, evidence, error, code))
    return result


def import_figures(
    session: Session, period_id: int, text: str, *, actor: str, today: date
) -> list[FigureRow]:
    """Enter every row, or none (:class:`InvalidInput` naming the refused lines)."""
    rows = preview(session, period_id, text, today)
    refused = [r for r in rows if r.error]
    if refused:
        raise InvalidInput(
            "; ".join(f"line {r.line}: {r.error}" for r in refused[:10]),
            field="csv",
            details={"rows": [r.as_json() for r in refused]},
        )
    for row in rows:
        enter_figure(
            session,
            EnterFigure(period_id, row.league, row.verified, row.evidence, actor, today),
        )
    return rows
