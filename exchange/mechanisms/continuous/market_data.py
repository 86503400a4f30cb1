"""Public market data of a continuous market: depth, last trades, the day, daily closes.

The book of a continuous market is visible by design (unlike sealed bids): the best
five price levels per side, aggregated (total quantity and number of orders), without
who posted them. Trades are shown without the parties.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from exchange.errors import NotFound
from exchange.mechanisms.continuous import rules, sessions
from exchange.mechanisms.continuous.close import day_trades
from exchange.mechanisms.continuous.entry import MECHANISM
from exchange.models import Market
from exchange.models.base import utcnow
from exchange.models.continuous import ContinuousTrade, DailyClose
from exchange.models.trading import LIVE_STATUSES, Order, Side
from matching.continuous import day_summary

DEPTH_LEVELS = 5


def continuous_market(session: Session, market_id: int) -> Market:
    """The market, or 404 if there is none or it does not trade continuously."""
    market = session.get(Market, market_id)
    if market is None or market.mechanism != MECHANISM:
        raise NotFound(f"no continuous market with id {market_id}", field="market_id")
    return market


def _levels(session: Session, market_id: int, side: Side, levels: int) -> list[dict[str, int]]:
    remaining = func.sum(Order.quantity - Order.filled_quantity)
    rows = session.execute(
        select(Order.limit_price, remaining, func.count(Order.id))
        .where(Order.market_id == market_id, Order.side == side, Order.status.in_(LIVE_STATUSES))
        .group_by(Order.limit_price)
        .order_by(Order.limit_price.desc() if side is Side.BUY else Order.limit_price.asc())
        .limit(levels)
    ).all()
    return [{"price": p, "quantity": int(q), "orders": int(n)} for p, q, n in rows]


def book(session: Session, market_id: int) -> dict[str, Any]:
    """``previous_close``, ``band`` {low, high}, ``bids`` and ``asks`` (best five levels)."""
    market = continuous_market(session, market_id)
    now = utcnow()
    day = sessions.trading_day(now)
    reference = rules.previous_close(session, market, day)
    band = rules.band_of(market, reference)
    return {
        "market_id": market.id,
        "day": day,
        "open": sessions.is_open(market.session_calendar, now),
        "session_calendar": market.session_calendar,
        "previous_close": reference,
        "band_percent": market.band_percent,
        "band": None if band is None else {"low": band.low, "high": band.high},
        "bids": _levels(session, market.id, Side.BUY, DEPTH_LEVELS),
        "asks": _levels(session, market.id, Side.SELL, DEPTH_LEVELS),
    }


def day_figures(session: Session, market: Market, day: date) -> dict[str, Any]:
    """Open, high, low, close (so far), volume and turnover of the day's listed trades."""
    summary = day_summary(
        day_trades(session, market.id, day), rules.previous_close(session, market, day), market.tick
    )
    block = sum(t.quantity for t in day_trades(session, market.id, day, "block"))
    return {
        "day": day,
        "open": summary.open,
        "high": summary.high,
        "low": summary.low,
        "close": summary.close,
        "volume": summary.volume,
        "turnover": summary.turnover,
        "trades": summary.trades,
        "block_volume": block,
    }


def trades(session: Session, market_id: int, *, limit: int = 50) -> dict[str, Any]:
    """The last ``limit`` trades (newest first), the day's figures and its price path."""
    market = continuous_market(session, market_id)
    day = sessions.trading_day(utcnow())
    rows = session.scalars(
        select(ContinuousTrade)
        .where(ContinuousTrade.market_id == market.id)
        .order_by(ContinuousTrade.id.desc())
        .limit(limit)
    ).all()
    return {
        "market_id": market.id,
        "today": day_figures(session, market, day),
        "trades": [
            {
                "id": t.id,
                "kind": t.kind,
                "price": t.price,
                "quantity": t.quantity,
                "aggressor": t.aggressor,
                "traded_at": t.traded_at,
                "day": t.day,
            }
            for t in rows
        ],
        "path": [
            {"t": t.traded_at, "price": t.price, "quantity": t.quantity}
            for t in day_trades(session, market.id, day)
        ][-500:],
    }


def closes(session: Session, market_id: int, *, limit: int = 90) -> list[DailyClose]:
    """The latest daily closes, oldest first."""
    market = continuous_market(session, market_id)
    rows = session.scalars(
        select(DailyClose)
        .where(DailyClose.market_id == market.id)
        .order_by(DailyClose.day.desc())
        .limit(limit)
    ).all()
    return list(reversed(rows))
