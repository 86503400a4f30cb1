"""Compliance cycles: periods, verified figures, objections, surrenders, snapshots, penalties.

A period is one market family (``carbon``, ``pollutant:COD``, ...) and one year;
its obligated parties are the leagues eligible for that year's vintage market.
Surrenders, frozen snapshots and penalties are records regulators rely on: the
migration makes them append-only on both databases (penalties keep one mutable
column, what has been deducted so far).
"""

from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    ForeignKey,
    Integer,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from exchange.models.base import Base, UTCDateTime, utcnow


class PeriodStatus(enum.StrEnum):
    OPEN = "open"
    CLOSED = "closed"


class ComplianceStatus(enum.StrEnum):
    """The UK ETS registry's statuses of an obligated party for one period."""

    A = "A"
    """Compliant: surrendered at least the verified figure."""
    B = "B"
    """Surrender missing: verified figure above what was surrendered."""
    C = "C"
    """Verified figure missing (after the reporting deadline)."""
    EXCLUDED = "EXCLUDED"
    NOT_APPLICABLE = "NOT_APPLICABLE"


class CompliancePeriod(Base):
    """One market family and year, with its deadlines and rules."""

    __tablename__ = "compliance_periods"
    __table_args__ = (
        UniqueConstraint("market_family", "year", name="uq_compliance_periods_family_year"),
        CheckConstraint("status IN ('open', 'closed')", name="status_known"),
        CheckConstraint("offset_percent BETWEEN 0 AND 100", name="offset_percent_range"),
        CheckConstraint("penalty_fixed >= 0", name="penalty_fixed_non_negative"),
        CheckConstraint("penalty_price_multiple >= 0", name="penalty_multiple_non_negative"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    market_family: Mapped[str] = mapped_column(String(64))
    year: Mapped[int] = mapped_column(Integer)
    market_id: Mapped[int] = mapped_column(ForeignKey("markets.id"))
    offset_market_id: Mapped[int | None] = mapped_column(ForeignKey("markets.id"))
    reporting_deadline: Mapped[date] = mapped_column(Date)
    verification_deadline: Mapped[date] = mapped_column(Date)
    surrender_deadline: Mapped[date] = mapped_column(Date)
    objection_days: Mapped[int] = mapped_column(Integer, default=7)
    decision_days: Mapped[int] = mapped_column(Integer, default=10)
    offset_percent: Mapped[int] = mapped_column(Integer, default=5)
    penalty_fixed: Mapped[int] = mapped_column(BigInteger, default=0)
    penalty_price_multiple: Mapped[int] = mapped_column(Integer, default=0)
    deduct_shortfall: Mapped[bool] = mapped_column(Boolean, default=False)
    status: Mapped[str] = mapped_column(String(16), default=PeriodStatus.OPEN.value)
    closed_as_of: Mapped[date | None] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class VerifiedFigure(Base):
    """A league's verified emissions or use for a period (or its exclusion)."""

    __tablename__ = "compliance_figures"
    __table_args__ = (
        UniqueConstraint("period_id", "league_code", name="uq_compliance_figures_period_league"),
        CheckConstraint("verified IS NULL OR verified >= 0", name="verified_non_negative"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    period_id: Mapped[int] = mapped_column(ForeignKey("compliance_periods.id"))
    league_code: Mapped[str] = mapped_column(ForeignKey("leagues.code"))
    verified: Mapped[int | None] = mapped_column(BigInteger)
    excluded: Mapped[bool] = mapped_column(Boolean, default=False)
    evidence: Mapped[str] = mapped_column(String(500), default="")
    entered_on: Mapped[date] = mapped_column(Date)
    entered_by: Mapped[str] = mapped_column(String(64))
    final: Mapped[bool] = mapped_column(Boolean, default=False)


class Objection(Base):
    """A league's one objection to its verified figure, and the regulator's decision."""

    __tablename__ = "compliance_objections"
    __table_args__ = (
        UniqueConstraint("figure_id", name="uq_compliance_objections_figure_id"),
        CheckConstraint(
            "decision IS NULL OR decision IN ('accepted', 'rejected')", name="decision_known"
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    figure_id: Mapped[int] = mapped_column(ForeignKey("compliance_figures.id"))
    league_code: Mapped[str] = mapped_column(ForeignKey("leagues.code"))
    reason: Mapped[str] = mapped_column(String(1000))
    proposed: Mapped[int | None] = mapped_column(BigInteger)
    filed_on: Mapped[date] = mapped_column(Date)
    decision: Mapped[str | None] = mapped_column(String(16))
    decided_on: Mapped[date | None] = mapped_column(Date)
    decided_by: Mapped[str | None] = mapped_column(String(64))


class MonthlyFigure(Base):
    """A league's unverified figure for one month of the period's year."""

    __tablename__ = "compliance_monthly"
    __table_args__ = (
        UniqueConstraint("period_id", "league_code", "month", name="uq_compliance_monthly_key"),
        CheckConstraint("month BETWEEN 1 AND 12", name="month_range"),
        CheckConstraint("quantity >= 0", name="quantity_non_negative"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    period_id: Mapped[int] = mapped_column(ForeignKey("compliance_periods.id"))
    league_code: Mapped[str] = mapped_column(ForeignKey("leagues.code"))
    month: Mapped[int] = mapped_column(Integer)
    quantity: Mapped[int] = mapped_column(BigInteger)
    reported_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class Surrender(Base):
    """Units (and offsets) a league surrendered against a period: one ledger journal."""

    __tablename__ = "compliance_surrenders"
    __table_args__ = (
        UniqueConstraint(
            "period_id", "league_code", "client_ref", name="uq_compliance_surrenders_client_ref"
        ),
        CheckConstraint("quantity >= 0 AND offsets >= 0", name="amounts_non_negative"),
        CheckConstraint("quantity + offsets > 0", name="amounts_positive"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    period_id: Mapped[int] = mapped_column(ForeignKey("compliance_periods.id"))
    league_code: Mapped[str] = mapped_column(ForeignKey("leagues.code"))
    quantity: Mapped[int] = mapped_column(BigInteger)
    offsets: Mapped[int] = mapped_column(BigInteger)
    client_ref: Mapped[str] = mapped_column(String(64))
    journal_id: Mapped[int] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class StatusSnapshot(Base):
    """The frozen status of one league at the period's deadline (taken exactly once)."""

    __tablename__ = "compliance_snapshots"
    __table_args__ = (
        UniqueConstraint("period_id", "league_code", name="uq_compliance_snapshots_key"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    period_id: Mapped[int] = mapped_column(ForeignKey("compliance_periods.id"))
    league_code: Mapped[str] = mapped_column(ForeignKey("leagues.code"))
    status: Mapped[str] = mapped_column(String(16))
    verified: Mapped[int | None] = mapped_column(BigInteger)
    surrendered: Mapped[int] = mapped_column(BigInteger)
    offsets: Mapped[int] = mapped_column(BigInteger)
    shortfall: Mapped[int] = mapped_column(BigInteger)
    as_of: Mapped[date] = mapped_column(Date)
    taken_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class Penalty(Base):
    """A shortfall at the deadline: the fine (a cash claim in the ledger) and any deduction."""

    __tablename__ = "compliance_penalties"
    __table_args__ = (
        UniqueConstraint("period_id", "league_code", name="uq_compliance_penalties_key"),
        CheckConstraint("deducted BETWEEN 0 AND deduction", name="deducted_range"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    period_id: Mapped[int] = mapped_column(ForeignKey("compliance_periods.id"))
    league_code: Mapped[str] = mapped_column(ForeignKey("leagues.code"))
    shortfall: Mapped[int] = mapped_column(BigInteger)
    fine: Mapped[int] = mapped_column(BigInteger)
    price: Mapped[int] = mapped_column(BigInteger)
    journal_id: Mapped[int | None] = mapped_column(BigInteger)
    deduction: Mapped[int] = mapped_column(BigInteger)
    deducted: Mapped[int] = mapped_column(BigInteger, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class Deduction(Base):
    """Units of a later allocation taken against a penalty's shortfall (one journal)."""

    __tablename__ = "compliance_deductions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    penalty_id: Mapped[int] = mapped_column(ForeignKey("compliance_penalties.id"))
    market_id: Mapped[int] = mapped_column(ForeignKey("markets.id"))
    quantity: Mapped[int] = mapped_column(BigInteger)
    journal_id: Mapped[int] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
