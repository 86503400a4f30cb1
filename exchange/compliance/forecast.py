"""The open period's forecast: projected obligation, holdings, shortfall and its cost.

Per league: the unverified monthly figures so far, extrapolated to twelve months
(sum x 12 / months reported, rounded up), or the verified figure once there is
one; what it holds of the vintage market (available plus held by open sell
orders) and has on order to buy (open buy quantity); the projected shortfall
(obligation - surrendered - held - bought, at least 0) and what covering it would
cost at the market's last clearing price (fen). Sorted by risk: the largest
projected shortfall relative to the obligation first.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

import ledger
from exchange.compliance.figures import obligated_leagues
from exchange.compliance.periods import get_period, period_json
from exchange.compliance.status import surrendered_totals
from exchange.models import (
    ClearingRun,
    CompliancePeriod,
    MonthlyFigure,
    Order,
    OrderStatus,
    RunStatus,
    Side,
    VerifiedFigure,
)

LIVE = (OrderStatus.OPEN, OrderStatus.PARTIALLY_FILLED)


def last_price(session: Session, market_id: int) -> int | None:
    return session.scalar(
        select(ClearingRun.price)
        .where(
            ClearingRun.market_id == market_id,
            ClearingRun.status == RunStatus.COMPLETED,
            ClearingRun.price.is_not(None),
        )
        .order_by(ClearingRun.window.desc())
        .limit(1)
    )


def _projection(months: dict[int, int]) -> int:
    if not months:
        return 0
    return -(-sum(months.values()) * 12 // len(months))


def _on_order(session: Session, period: CompliancePeriod, league: str) -> int:
    remaining = Order.quantity - Order.filled_quantity
    total = session.scalar(
        select(func.coalesce(func.sum(remaining), 0)).where(
            Order.market_id == period.market_id,
            Order.league_code == league,
            Order.side == Side.BUY,
            Order.status.in_(LIVE),
        )
    )
    return int(total or 0)


def league_forecast(
    session: Session, period: CompliancePeriod, league: str, price: int | None
) -> dict[str, Any]:
    months = {
        m.month: m.quantity
        for m in session.scalars(
            select(MonthlyFigure).where(
                MonthlyFigure.period_id == period.id, MonthlyFigure.league_code == league
            )
        )
    }
    figure = session.scalar(
        select(VerifiedFigure).where(
            VerifiedFigure.period_id == period.id, VerifiedFigure.league_code == league
        )
    )
    verified = None if figure is None else figure.verified
    obligation = verified if verified is not None else _projection(months)
    units, offsets = surrendered_totals(session, period.id).get(league, (0, 0))
    held = ledger.balance_of(
        session, ledger.league_account(league, ledger.market_asset(period.market_id))
    ) + ledger.balance_of(
        session, ledger.escrow_account(league, ledger.market_asset(period.market_id))
    )
    on_order = _on_order(session, period, league)
    shortfall = max(0, obligation - units - offsets - held - on_order)
    return {
        "league": league,
        "months": [{"month": m, "quantity": q} for m, q in sorted(months.items())],
        "verified": verified,
        "projected": obligation,
        "surrendered": units + offsets,
        "held": held,
        "on_order": on_order,
        "shortfall": shortfall,
        "price": price,
        "cost": None if price is None else shortfall * price,
        "risk": 0.0 if obligation == 0 else round(shortfall / obligation, 4),
    }


def forecast(session: Session, period_id: int, league: str | None, today: date) -> dict[str, Any]:
    """The forecast for one league, or every obligated league sorted by risk."""
    period = get_period(session, period_id)
    price = last_price(session, period.market_id)
    leagues = [league] if league is not None else obligated_leagues(session, period)
    rows = [league_forecast(session, period, code, price) for code in leagues]
    rows.sort(key=lambda r: (-r["risk"], -r["shortfall"], r["league"]))
    return {"period": period_json(session, period), "as_of": today.isoformat(), "leagues": rows}
