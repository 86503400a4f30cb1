"""What the public report of an agreement shows (and its CSV): one row per period.

A row has the period's reading in force (class and concentrations), the class
against the target, what the settlement paid (at settlement and later on its claim),
what is still unpaid, and the cumulative net payment (fen; > 0: downstream has paid
upstream that much more than it received).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy.orm import Session

from exchange.compensation import agreements, settlement
from exchange.compensation.periods import term_periods
from exchange.models import (
    CompensationAgreement,
    CompensationReading,
    CompensationSettlement,
    utcnow,
)


@dataclass(frozen=True)
class ReportRow:
    """One assessment period of an agreement."""

    period: str
    target_class: int
    measured_class: int | None
    concentrations: dict[str, int] = field(default_factory=dict)
    corrected: bool = False
    settlement: CompensationSettlement | None = None
    paid: int = 0
    unpaid: int = 0
    cumulative: int = 0

    @property
    def against_target(self) -> int | None:
        """Classes better (> 0) or worse (< 0) than the target; None without a class."""
        return None if self.measured_class is None else self.target_class - self.measured_class


@dataclass(frozen=True)
class Report:
    agreement: CompensationAgreement
    rows: list[ReportRow]
    readings: Sequence[CompensationReading]
    claims_outstanding: int


def build_report(session: Session, agreement_id: int, now: datetime | None = None) -> Report:
    """The rows of every period of the term that has begun, in order."""
    agreement = agreements.get_agreement(session, agreement_id)
    entries = agreements.readings(session, agreement_id)
    current = {r.period: r for r in entries}
    settled = {s.period: s for s in settlement.list_settlements(session, agreement_id)}
    claims = settlement.claims(session, agreement_id)
    claim_paid = {c.settlement_id: c.paid for c in claims}
    now = now or utcnow()
    rows: list[ReportRow] = []
    cumulative = 0
    for period in term_periods(agreement.first_year, agreement.last_year, agreement.assessment):
        done = settled.get(str(period))
        reading = current.get(str(period))
        if done is None and reading is None and not period.closed(now):
            continue
        paid = unpaid = 0
        if done is not None:  # paid at settlement, and since on its claim
            paid = done.from_deposit + done.from_cash + claim_paid.get(done.id, 0)
            unpaid = abs(done.total) - paid
            cumulative += paid if done.total > 0 else -paid
        measured = done.measured_class if done is not None else None
        if measured is None and reading is not None:
            measured = reading.measured_class
        rows.append(
            ReportRow(
                period=str(period),
                target_class=agreement.target_class,
                measured_class=measured,
                concentrations=dict(reading.concentrations) if reading else {},
                corrected=reading is not None and reading.supersedes_id is not None,
                settlement=done,
                paid=paid,
                unpaid=unpaid,
                cumulative=cumulative,
            )
        )
    outstanding = sum(c.outstanding for c in claims)
    return Report(agreement, rows, entries, outstanding)
