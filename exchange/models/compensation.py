"""Ecological compensation: agreements, readings, settlements and claims.

Readings and settlements are records regulators rely on: append-only in the
database too (the migration adds the ledger's triggers). A correction of a reading
is a new reading that names the one it supersedes; a settlement is unique per
agreement and period.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from exchange.models.base import Base, UTCDateTime, utcnow


class CompensationAgreement(Base):
    """An agreement between an upstream and a downstream participant at a boundary section."""

    __tablename__ = "compensation_agreements"
    __table_args__ = (
        CheckConstraint("upstream <> downstream", name="two_sides"),
        CheckConstraint("target_class BETWEEN 1 AND 6", name="target_class_range"),
        CheckConstraint("amount_per_class >= 0", name="amount_per_class_non_negative"),
        CheckConstraint("amount_per_point >= 0", name="amount_per_point_non_negative"),
        CheckConstraint("index_cap >= 0", name="index_cap_non_negative"),
        CheckConstraint("deposit >= 0", name="deposit_non_negative"),
        CheckConstraint("assessment IN ('annual', 'monthly')", name="assessment_known"),
        CheckConstraint("first_year <= last_year", name="term_ordered"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    upstream: Mapped[str] = mapped_column(ForeignKey("leagues.code"), index=True)
    downstream: Mapped[str] = mapped_column(ForeignKey("leagues.code"), index=True)
    section: Mapped[str] = mapped_column(String(128))
    target_class: Mapped[int] = mapped_column(Integer)
    amount_per_class: Mapped[int] = mapped_column(BigInteger)
    indicators: Mapped[dict[str, int]] = mapped_column(JSON)
    amount_per_point: Mapped[int] = mapped_column(BigInteger)
    index_cap: Mapped[int] = mapped_column(BigInteger)
    assessment: Mapped[str] = mapped_column(String(8))
    first_year: Mapped[int] = mapped_column(Integer)
    last_year: Mapped[int] = mapped_column(Integer)
    deposit: Mapped[int] = mapped_column(BigInteger, default=0)
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class CompensationReading(Base):
    """The measured class and concentrations (ug/L) of a period; append-only."""

    __tablename__ = "compensation_readings"
    __table_args__ = (
        CheckConstraint("measured_class BETWEEN 1 AND 6", name="class_range"),
        Index("ix_compensation_readings_period", "agreement_id", "period", "id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    agreement_id: Mapped[int] = mapped_column(ForeignKey("compensation_agreements.id"))
    period: Mapped[str] = mapped_column(String(7))
    measured_class: Mapped[int] = mapped_column(Integer)
    concentrations: Mapped[dict[str, int]] = mapped_column(JSON)
    supersedes_id: Mapped[int | None] = mapped_column(
        ForeignKey("compensation_readings.id"), unique=True
    )
    entered_by: Mapped[str] = mapped_column(String(64))
    entered_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class CompensationSettlement(Base):
    """What one period of an agreement paid: once per (agreement, period); append-only.

    ``total`` > 0: the downstream side paid the upstream side; < 0: the reverse.
    ``from_deposit + from_cash + claimed == abs(total)``.
    """

    __tablename__ = "compensation_settlements"
    __table_args__ = (
        UniqueConstraint("agreement_id", "period", name="uq_compensation_settlements_period"),
        CheckConstraint("from_deposit >= 0 AND from_cash >= 0 AND claimed >= 0", name="parts"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    agreement_id: Mapped[int] = mapped_column(ForeignKey("compensation_agreements.id"))
    period: Mapped[str] = mapped_column(String(7))
    measured_class: Mapped[int] = mapped_column(Integer)
    class_term: Mapped[int] = mapped_column(BigInteger)
    index_term: Mapped[int] = mapped_column(BigInteger)
    total: Mapped[int] = mapped_column(BigInteger)
    payer: Mapped[str | None] = mapped_column(String(32))
    payee: Mapped[str | None] = mapped_column(String(32))
    from_deposit: Mapped[int] = mapped_column(BigInteger)
    from_cash: Mapped[int] = mapped_column(BigInteger)
    claimed: Mapped[int] = mapped_column(BigInteger)
    journal_id: Mapped[int | None] = mapped_column(BigInteger)
    breakdown: Mapped[dict[str, Any]] = mapped_column(JSON)
    trigger: Mapped[str] = mapped_column(String(16))
    settled_by: Mapped[str] = mapped_column(String(64))
    settled_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class CompensationClaim(Base):
    """What a payer could not pay when its period was settled: owed, never a negative balance."""

    __tablename__ = "compensation_claims"
    __table_args__ = (
        CheckConstraint("amount > 0", name="amount_positive"),
        CheckConstraint("paid >= 0 AND paid <= amount", name="paid_in_range"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    settlement_id: Mapped[int] = mapped_column(
        ForeignKey("compensation_settlements.id"), unique=True
    )
    agreement_id: Mapped[int] = mapped_column(ForeignKey("compensation_agreements.id"), index=True)
    debtor: Mapped[str] = mapped_column(String(32))
    creditor: Mapped[str] = mapped_column(String(32))
    amount: Mapped[int] = mapped_column(BigInteger)
    paid: Mapped[int] = mapped_column(BigInteger, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    @property
    def outstanding(self) -> int:
        return self.amount - self.paid
