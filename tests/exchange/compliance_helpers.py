"""Builders for the compliance tests: a carbon 2026 period on the demo registry."""

from __future__ import annotations

from datetime import date
from typing import Any

from flask import Flask

from exchange.compliance import figures, periods
from exchange.compliance.commands import CreatePeriod, EnterFigure
from exchange.extensions import db
from exchange.uow import new_unit_of_work

FAMILY = "carbon"
YEAR = 2026
ENTERED = date(2027, 4, 1)  # a Thursday
DEADLINE = date(2027, 9, 30)


def period_command(**overrides: Any) -> CreatePeriod:
    values: dict[str, Any] = {
        "market_family": FAMILY,
        "year": YEAR,
        "reporting_deadline": date(2027, 3, 31),
        "verification_deadline": date(2027, 6, 30),
        "surrender_deadline": DEADLINE,
        "offset_percent": 5,
        "penalty_fixed": 2_000_000,  # 20,000 yuan
        "penalty_price_multiple": 3,
        "deduct_shortfall": True,
    }
    values.update(overrides)
    return CreatePeriod(**values)


def make_period(app: Flask, **overrides: Any) -> int:
    with app.app_context(), new_unit_of_work(db.session_factory) as session:
        return periods.create_period(session, period_command(**overrides)).id


def enter(app: Flask, period_id: int, league: str, verified: int | None, **kw: Any) -> None:
    with app.app_context(), new_unit_of_work(db.session_factory) as session:
        figures.enter_figure(
            session,
            EnterFigure(
                period_id,
                league,
                verified,
                "report.pdf",
                "regulator",
                kw.pop("today", ENTERED),
                **kw,
            ),
        )


def matrix_period(app: Flask, market_code: str, league: str) -> int:
    """A period over ``market_code``'s family and vintage, open today, with ``league``'s
    verified figure entered today (the authorization matrix's ``{period_id}``)."""
    from datetime import UTC, datetime, timedelta

    from sqlalchemy import select

    from exchange.models import Market
    from exchange.services.families import family_of

    today = datetime.now(UTC).date()
    with app.app_context(), new_unit_of_work(db.session_factory) as session:
        market = session.scalar(select(Market).where(Market.code == market_code))
        assert market is not None
        year = int(market.vintage)
        command = period_command(
            market_family=family_of(market),
            year=year,
            surrender_deadline=max(date(year + 1, 9, 30), today + timedelta(days=365)),
        )
        period_id = periods.create_period(session, command).id
    enter(app, period_id, league, 10**6, today=today)
    return period_id


def matrix_bill(app: Flask, league: str) -> int:
    """A paid-use bill of ``league`` for 1 t of COD-2027 (5,000 yuan, paid at once)."""
    from exchange.services import paid_use

    with app.app_context(), new_unit_of_work(db.session_factory) as session:
        issued = paid_use.issue_paid(
            session, paid_use.IssuePaid(league, "COD-2027", 1, "regulator", date(2027, 1, 4))
        )
    return int(issued["bill"]["id"])
