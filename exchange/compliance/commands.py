"""Typed commands of the compliance use cases (validated by the API schemas first)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date


@dataclass(frozen=True)
class CreatePeriod:
    market_family: str
    year: int
    reporting_deadline: date
    verification_deadline: date
    surrender_deadline: date
    objection_days: int = 7
    decision_days: int = 10
    offset_percent: int = 5
    offset_market: str | None = None
    penalty_fixed: int = 0
    penalty_price_multiple: int = 0
    deduct_shortfall: bool = False


@dataclass(frozen=True)
class EnterFigure:
    period_id: int
    league: str
    verified: int | None
    evidence: str
    actor: str
    today: date
    excluded: bool = False


@dataclass(frozen=True)
class FileObjection:
    period_id: int
    league: str
    reason: str
    today: date
    proposed: int | None = None


@dataclass(frozen=True)
class DecideObjection:
    period_id: int
    objection_id: int
    decision: str  # accepted | rejected
    actor: str
    today: date
    verified: int | None = None


@dataclass(frozen=True)
class ReportMonthly:
    period_id: int
    league: str
    month: int
    quantity: int


@dataclass(frozen=True)
class SurrenderUnits:
    period_id: int
    league: str
    quantity: int
    offsets: int
    client_ref: str
    actor: str
    today: date


@dataclass(frozen=True)
class ClosePeriod:
    period_id: int
    as_of: date
    actor: str
