"""Entry rules of a continuous market: session, price band and T+1, checked at entry.

Each refusal is a 4xx naming the field (the unit of work rolls the order back).
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

import ledger
from exchange.errors import Conflict, InvalidInput
from exchange.mechanisms.continuous import sessions
from exchange.models import Market
from exchange.models.continuous import ContinuousTrade, DailyClose
from exchange.models.trading import Order, Side
from matching import InvalidBook
from matching.continuous import Band, price_band

DEFAULT_BAND_PERCENT = 10
BLOCK_BAND_PERCENT = 30
BLOCK_MINIMUM = 100_000
"""Block trades: at least this many units, within +-30 % of the previous close."""


def lock_market(session: Session, market_id: int) -> Market:
    """The market row, locked until commit, after the market's entry lock (PostgreSQL:
    an advisory lock that order entry takes in its first statement, before any hold):
    entries, block confirmations and the close of one market serialise."""
    from exchange import mechanisms

    mechanisms.lock_market_entries(session, market_id)
    # FOR NO KEY UPDATE: entries waiting for the entry lock already hold the market's
    # key-share lock (their first statement takes it, before any account); FOR UPDATE
    # would wait for them while they wait for us.
    return session.scalars(
        select(Market)
        .where(Market.id == market_id)
        .with_for_update(key_share=True)
        .execution_options(populate_existing=True)
    ).one()


def previous_close(session: Session, market: Market, day: date) -> int | None:
    """The latest close before ``day``, else the market's reference price (None: neither)."""
    close = session.scalar(
        select(DailyClose.close)
        .where(
            DailyClose.market_id == market.id,
            DailyClose.day < day,
            DailyClose.close.is_not(None),
        )
        .order_by(DailyClose.day.desc())
        .limit(1)
    )
    return close if close is not None else market.reference_price


def band_of(market: Market, reference: int | None, percent: int | None = None) -> Band | None:
    """The allowed limit prices (None: no band: no percent or no reference yet)."""
    pct = market.band_percent if percent is None else percent
    if pct is None or reference is None or reference <= 0:
        return None
    try:
        return price_band(reference, pct, market.tick)
    except InvalidBook:
        return None


def check_session(market: Market, now: datetime) -> None:
    """409 ``outside_session`` when the book is closed."""
    if not sessions.is_open(market.session_calendar, now):
        raise Conflict(
            f"market {market.code} takes orders only in its sessions "
            f"({sessions.describe(market.session_calendar)})",
            field="market_id",
            code="outside_session",
        )


def check_band(band: Band | None, price: int, *, field: str = "limit_price") -> None:
    """422 naming ``field`` with the allowed range when ``price`` is outside the band."""
    if band is not None and not band.low <= price <= band.high:
        raise InvalidInput(
            f"{field} {price} is outside the price band: allowed {band.low} to {band.high} "
            "fen (previous close +-band)",
            field=field,
            code="outside_band",
            details={"band": {"low": band.low, "high": band.high}},
        )


def bought_on(session: Session, market_id: int, league: str, day: date) -> int:
    """Units ``league`` bought in the market on ``day`` (listed and block trades)."""
    return int(
        session.scalar(
            select(func.coalesce(func.sum(ContinuousTrade.quantity), 0)).where(
                ContinuousTrade.market_id == market_id,
                ContinuousTrade.day == day,
                ContinuousTrade.buyer == league,
            )
        )
        or 0
    )


def check_t_plus_one(session: Session, order: Order, day: date) -> None:
    """A sell may not use units bought today: after its hold, the available rights must
    still cover today's purchases (422 ``t_plus_one`` on ``quantity``)."""
    if order.side is not Side.SELL:
        return
    bought = bought_on(session, order.market_id, order.league_code, day)
    if not bought:
        return
    asset = ledger.market_asset(order.market_id)
    view = next((v for v in ledger.balances(session, order.league_code) if v.asset == asset), None)
    available = 0 if view is None else view.available
    if available < bought:
        sellable = max(0, available + order.quantity - bought)
        raise InvalidInput(
            f"quantity {order.quantity}: units bought today cannot be sold today (T+1); "
            f"{bought} units were bought today, {sellable} may be sold",
            field="quantity",
            code="t_plus_one",
            details={"bought_today": bought, "sellable": sellable},
        )
