"""Seed the demo's compliance cycles (idempotent): a closed 2025 period, the open 2026 one."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

import ledger
from exchange.compliance import closing, figures, periods, surrenders
from exchange.compliance.commands import (
    ClosePeriod,
    CreatePeriod,
    EnterFigure,
    ReportMonthly,
    SurrenderUnits,
)
from exchange.data import demo_compliance as data
from exchange.models import CompliancePeriod, Market
from exchange.services.commands import CreateMarket
from exchange.services.registry import create_market

ACTOR = "demo"


def _closed_2025(session: Session) -> None:
    market = session.scalar(select(Market).where(Market.code == data.MARKET_2025["code"]))
    if market is None:
        market = create_market(session, CreateMarket.from_data(data.MARKET_2025))
    asset = ledger.market_asset(market.id)
    ledger.issue_many(
        session,
        [(code, data.ALLOCATED_2025, "allocation:demo:CEA-2025") for code in data.FIGURES_2025],
        asset=asset,
        actor=ACTOR,
        cap=market.cap,
    )
    period = periods.create_period(session, CreatePeriod(**data.PERIOD_2025))
    for league, (verified, surrendered) in data.FIGURES_2025.items():
        figures.enter_figure(
            session,
            EnterFigure(period.id, league, verified, "demo verification report", ACTOR,
                        data.ENTERED_2025),
        )  # fmt: skip
        surrenders.surrender(
            session,
            SurrenderUnits(period.id, league, surrendered, 0, "demo-2025", ACTOR,
                           data.SURRENDERED_2025),
        )  # fmt: skip
    closing.close_period(
        session, ClosePeriod(period.id, data.PERIOD_2025["surrender_deadline"], ACTOR)
    )


def _open_2026(session: Session) -> None:
    period = periods.create_period(session, CreatePeriod(**data.PERIOD_2026))
    asset = ledger.market_asset(period.market_id)
    for league in figures.obligated_leagues(session, period):
        allocated = ledger.balance_of(session, ledger.league_account(league, asset))
        monthly = allocated * data.PACE_2026.get(league, 100) // 100 // 12
        for month in range(1, data.MONTHS_2026 + 1):
            wobble = monthly * ((month * 7 + len(league)) % 9 - 4) // 100  # +-4 %
            figures.report_monthly(
                session, ReportMonthly(period.id, league, month, max(0, monthly + wobble))
            )


def _paid_use(session: Session) -> None:
    from exchange.services import paid_use

    for league, market, tonnes in data.PAID_ISSUES:
        paid_use.issue_paid(
            session,
            paid_use.IssuePaid(league, market, tonnes, ACTOR, data.PAID_ISSUED, "paid use: demo"),
        )


def seed_demo_compliance(session: Session) -> str | None:
    """Both demo periods, unless a compliance period exists; what was done, for the CLI."""
    if session.scalar(select(CompliancePeriod.id).limit(1)) is not None:
        return None
    if session.scalar(select(Market.id).where(Market.code == "CEA-2026")) is None:
        return None
    _closed_2025(session)
    _open_2026(session)
    _paid_use(session)
    return "compliance: carbon 2025 closed (wuhai short, fined), carbon 2026 open; 2 paid-use bills"
