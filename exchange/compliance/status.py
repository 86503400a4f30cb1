"""Status per league and period, as the UK ETS registry computes it.

- ``EXCLUDED``: the regulator excluded the league from this period;
- ``NOT_APPLICABLE``: no obligation (not eligible for the vintage market), or no
  verified figure yet while the reporting deadline has not passed;
- ``C``: the verified figure is missing after the reporting deadline;
- ``B``: the verified figure exceeds what was surrendered (units plus offsets);
- ``A``: compliant, surrendered at least the verified figure.

Live while the period is open; once closed, the snapshot frozen at the deadline.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from exchange.compliance.figures import obligated_leagues
from exchange.compliance.periods import get_period, period_json
from exchange.models import (
    CompliancePeriod,
    ComplianceStatus,
    League,
    PeriodStatus,
    StatusSnapshot,
    Surrender,
    VerifiedFigure,
)


@dataclass(frozen=True)
class LeagueStatus:
    league: str
    status: ComplianceStatus
    verified: int | None
    surrendered: int
    offsets: int
    shortfall: int

    def as_json(self) -> dict[str, Any]:
        return {
            "league": self.league,
            "status": self.status.value,
            "verified": self.verified,
            "surrendered": self.surrendered,
            "offsets": self.offsets,
            "shortfall": self.shortfall,
        }


def classify(
    *,
    obligated: bool,
    excluded: bool,
    verified: int | None,
    surrendered: int,
    offsets: int,
    reporting_over: bool,
) -> tuple[ComplianceStatus, int]:
    """The status and shortfall of one league (a pure rule)."""
    if not obligated:
        return ComplianceStatus.NOT_APPLICABLE, 0
    if excluded:
        return ComplianceStatus.EXCLUDED, 0
    if verified is None:
        return (ComplianceStatus.C if reporting_over else ComplianceStatus.NOT_APPLICABLE), 0
    shortfall = max(0, verified - surrendered - offsets)
    return (ComplianceStatus.B if shortfall else ComplianceStatus.A), shortfall


def surrendered_totals(session: Session, period_id: int) -> dict[str, tuple[int, int]]:
    """League -> (units, offsets) surrendered against the period."""
    rows = session.execute(
        select(
            Surrender.league_code,
            func.coalesce(func.sum(Surrender.quantity), 0),
            func.coalesce(func.sum(Surrender.offsets), 0),
        )
        .where(Surrender.period_id == period_id)
        .group_by(Surrender.league_code)
    )
    return {league: (int(q), int(o)) for league, q, o in rows}


def live_status(session: Session, period: CompliancePeriod, as_of: date) -> list[LeagueStatus]:
    """Every league's status now (all leagues: those without obligation are not applicable)."""
    obligated = set(obligated_leagues(session, period))
    figures = {
        f.league_code: f
        for f in session.scalars(
            select(VerifiedFigure).where(VerifiedFigure.period_id == period.id)
        )
    }
    totals: dict[str, tuple[int, int]] = defaultdict(lambda: (0, 0))
    totals.update(surrendered_totals(session, period.id))
    result = []
    for league in session.scalars(select(League.code).order_by(League.code)):
        figure = figures.get(league)
        units, offsets = totals[league]
        status, shortfall = classify(
            obligated=league in obligated,
            excluded=figure is not None and figure.excluded,
            verified=None if figure is None else figure.verified,
            surrendered=units,
            offsets=offsets,
            reporting_over=as_of > period.reporting_deadline,
        )
        verified = None if figure is None else figure.verified
        result.append(LeagueStatus(league, status, verified, units, offsets, shortfall))
    return result


def frozen_status(session: Session, period: CompliancePeriod) -> list[LeagueStatus]:
    rows = session.scalars(
        select(StatusSnapshot)
        .where(StatusSnapshot.period_id == period.id)
        .order_by(StatusSnapshot.league_code)
    )
    return [
        LeagueStatus(
            r.league_code,
            ComplianceStatus(r.status),
            r.verified,
            r.surrendered,
            r.offsets,
            r.shortfall,
        )
        for r in rows
    ]


def period_status(session: Session, period_id: int, today: date) -> dict[str, Any]:
    """``{"period", "as_of", "frozen", "leagues": [...]}``: live if open, else the snapshot."""
    period = get_period(session, period_id)
    if period.status == PeriodStatus.CLOSED:
        leagues = frozen_status(session, period)
        as_of = period.closed_as_of or today
    else:
        leagues = live_status(session, period, today)
        as_of = today
    return {
        "period": period_json(session, period),
        "as_of": as_of.isoformat(),
        "frozen": period.status == PeriodStatus.CLOSED,
        "leagues": [row.as_json() for row in leagues],
    }


def statuses_of(session: Session, code: str, today: date) -> list[dict[str, Any]]:
    """One participant's status in every period (an enterprise's, for its league's view)."""
    result = []
    for period in session.scalars(select(CompliancePeriod).order_by(CompliancePeriod.id)):
        rows = period_status(session, period.id, today)["leagues"]
        mine = next((row for row in rows if row["league"] == code), None)
        if mine is not None:
            result.append({"period_id": period.id, "year": period.year, **mine})
    return result
