"""The demo's continuous market: a resting book and a few trades, through order entry.

Runs once (when the market has no recorded order flow). Sellers post asks above the
reference price, buyers bids below it, then two buyers lift the best asks, so a newcomer
sees depth and last trades, and can trade at once (the market is open around the clock).
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from exchange.errors import ExchangeError
from exchange.models import Market
from exchange.models.continuous import ContinuousEvent
from exchange.models.trading import Side
from exchange.services.commands import PlaceOrder
from exchange.services.orders import place_order
from exchange.uow import unit_of_work

DEMO_MARKET = "CEA-2026-L"
SELLERS = ("ordos", "wuhai", "alxa", "baotou", "ordos")
BUYERS = ("hohhot", "chifeng", "tongliao", "hulunbuir", "ulanqab")
STEPS = (5, 12, 20, 31, 45)
"""Ask and bid offsets from the reference, in tenths of a percent."""


def _orders(reference: int, lot: int) -> list[tuple[str, Side, int, int]]:
    flow: list[tuple[str, Side, int, int]] = []
    for n, step in enumerate(STEPS):
        flow.append((SELLERS[n], Side.SELL, (5 + 3 * n) * lot, reference * (1000 + step) // 1000))
        flow.append((BUYERS[n], Side.BUY, (4 + 2 * n) * lot, reference * (1000 - step) // 1000))
    # two buyers lift the best asks: the first trades of the day
    flow.append(("bayannur", Side.BUY, 3 * lot, reference * 1005 // 1000))
    flow.append(("xilingol", Side.BUY, 6 * lot, reference * 1012 // 1000))
    return flow


def seed_continuous_book(factory: sessionmaker[Session]) -> str | None:
    """Seed the demo continuous market's book once; what was done, for the CLI."""
    session = factory()
    try:
        market = session.scalar(select(Market).where(Market.code == DEMO_MARKET))
        if market is None or market.reference_price is None:
            return None
        seen = session.scalar(
            select(ContinuousEvent.id).where(ContinuousEvent.market_id == market.id).limit(1)
        )
        if seen is not None:
            return None
        placed = 0
        for n, (league, side, quantity, price) in enumerate(
            _orders(market.reference_price, market.lot)
        ):
            command = PlaceOrder(market.id, side, quantity, price, f"demo-cont-{n}")
            try:
                with unit_of_work(session):
                    place_order(session, command, league=league, actor=f"{league}-desk")
                placed += 1
            except ExchangeError:  # e.g. a league without enough cash: skip it
                pass
        return f"continuous market {DEMO_MARKET}: {placed} orders entered"
    finally:
        session.close()
