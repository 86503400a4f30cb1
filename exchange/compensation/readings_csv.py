"""Readings from a CSV file: parse, check every row without keeping it, then import all.

Columns (header required, in any order): ``agreement`` (id), ``period`` (``YYYY`` or
``YYYY-MM``), ``class`` (1-6), and one column per indicator (``COD``, ``NH3-N``, ``TP``,
``TN``) in **mg/L** with at most three decimals (stored as integer ug/L); an empty cell
is an indicator not measured. Rows are entered in file order, so a later row for the same
period supersedes an earlier one, as single entries do.

:func:`check` runs each row through :func:`agreements.enter_reading` inside a savepoint
that is rolled back (the preview); :func:`import_rows` enters them all in the caller's
unit of work (all or nothing).
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from sqlalchemy.orm import Session

from exchange.compensation import formula
from exchange.compensation.agreements import enter_reading
from exchange.compensation.commands import EnterReading
from exchange.errors import ExchangeError, InvalidInput

MAX_ROWS = 2000
REQUIRED = ("agreement", "period", "class")


@dataclass
class Row:
    """One data row of the file, parsed; ``problem`` says why it cannot be entered."""

    line: int
    agreement_id: int | None = None
    period: str = ""
    measured_class: int | None = None
    concentrations: dict[str, int] = field(default_factory=dict)
    problem: ExchangeError | None = None

    def command(self, actor: str) -> EnterReading:
        assert self.agreement_id is not None and self.measured_class is not None
        return EnterReading(
            agreement_id=self.agreement_id,
            period=self.period,
            measured_class=self.measured_class,
            concentrations=self.concentrations,
            actor=actor,
        )


def mg_to_ug(text: str) -> int:
    """``"16.5"`` mg/L -> 16500 ug/L exactly; ``ValueError`` otherwise."""
    cleaned = text.strip()
    try:
        value = Decimal(cleaned) if cleaned.isascii() else Decimal("nan")
    except InvalidOperation:
        value = Decimal("nan")
    if not value.is_finite() or value < 0 or value * 1000 != int(value * 1000):
        raise ValueError("mg/L with at most three decimals, e.g. 0.125")
    if value > 1_000_000:
        raise ValueError("too large")
    return int(value * 1000)


def _whole(text: str, name: str, low: int, high: int) -> int:
    cleaned = text.strip()
    if not (cleaned.isascii() and cleaned.isdigit()) or not low <= int(cleaned) <= high:
        raise InvalidInput(f"{name} must be a whole number {low}-{high}", field=name)
    return int(cleaned)


def _parse_row(line: int, record: dict[str, str]) -> Row:
    row = Row(line)
    try:
        row.agreement_id = _whole(record.get("agreement") or "", "agreement", 1, 2**31 - 1)
        row.period = (record.get("period") or "").strip()
        row.measured_class = _whole(record.get("class") or "", "class", 1, 6)
        for name in formula.INDICATORS:
            cell = (record.get(name) or "").strip()
            if cell:
                try:
                    row.concentrations[name] = mg_to_ug(cell)
                except ValueError as exc:
                    raise InvalidInput(f"{name}: {exc}", field=f"indicators.{name}") from None
    except ExchangeError as exc:
        row.problem = exc
    return row


def parse(text: str) -> list[Row]:
    """The rows of a CSV text; ``InvalidInput`` if the file itself is unusable."""
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    header = [h.strip() for h in reader.fieldnames or []]
    missing = [c for c in REQUIRED if c not in header]
    if missing:
        raise InvalidInput(f"the header lacks {', '.join(missing)}", field="file")
    unknown = [h for h in header if h not in REQUIRED and h not in formula.INDICATORS]
    if unknown:
        raise InvalidInput(f"unknown columns {', '.join(unknown)}", field="file")
    reader.fieldnames = header
    rows = []
    for index, record in enumerate(reader, start=2):
        if index - 1 > MAX_ROWS:
            raise InvalidInput(f"at most {MAX_ROWS} rows per file", field="file")
        if not any((v or "").strip() for v in record.values() if isinstance(v, str)):
            continue
        rows.append(_parse_row(index, record))
    if not rows:
        raise InvalidInput("the file has no rows", field="file")
    return rows


def check(session: Session, rows: list[Row], actor: str) -> list[Row]:
    """Each parsed row entered in a savepoint that is rolled back: its problem, if any.

    Rows are checked in order on top of the earlier good ones, as the import enters them.
    """
    outer = session.begin_nested()
    try:
        for row in rows:
            if row.problem is not None:
                continue
            inner = session.begin_nested()
            try:
                enter_reading(session, row.command(actor))
            except ExchangeError as exc:
                inner.rollback()
                row.problem = exc
            else:
                inner.commit()
    finally:
        outer.rollback()
    return rows


def import_rows(session: Session, rows: list[Row], actor: str) -> int:
    """Enter every row (all or nothing: the first problem raises); how many were entered."""
    for row in rows:
        try:
            if row.problem is not None:
                raise row.problem
            enter_reading(session, row.command(actor))
        except ExchangeError as exc:
            raise type(exc)(
                f"line {row.line}: {exc.message}", field=exc.field, code=exc.code
            ) from exc
    return len(rows)
