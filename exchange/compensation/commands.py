"""Typed commands of ecological compensation (frozen dataclasses; services never commit)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

MANUAL = "manual"
SCHEDULE = "schedule"


@dataclass(frozen=True)
class RegisterAgreement:
    """An agreement as the regulator registers it; amounts in fen, baselines in ug/L."""

    upstream: str
    downstream: str
    section: str
    target_class: int
    amount_per_class: int
    indicators: Mapping[str, int]
    amount_per_point: int
    index_cap: int
    assessment: str
    first_year: int
    last_year: int
    actor: str
    deposit: int = 0


@dataclass(frozen=True)
class EnterReading:
    """A period's measured class and concentrations (ug/L); supersedes an earlier one."""

    agreement_id: int
    period: str
    measured_class: int
    concentrations: Mapping[str, int]
    actor: str
    now: datetime | None = None


@dataclass(frozen=True)
class Settle:
    """Settle one closed period of an agreement (once; a repeat returns the first)."""

    agreement_id: int
    period: str
    actor: str
    trigger: str = MANUAL
    now: datetime | None = None
