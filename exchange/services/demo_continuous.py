"""The demo's continuous market: a resting book and a few trades, through order entry.

Runs once (when the market has no recorded order flow). Sellers post asks above the
reference price, buyers bids below it, then two buyers lift the best asks, so a newcomer
sees depth and last trades, and can trade at once (the market is open around the clock).
"""

from __future__ import annotations

import random

from apscheduler.schedulers.base import BaseScheduler
from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from exchange.errors import ExchangeError
from exchange.mechanisms.continuous import market_data
from exchange.models import Market, MarketStatus
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


def continuous_tick(app: Flask, rng: random.Random) -> int:
    """One step of the demo's continuous flow: a few orders around the book's middle."""
    factory = app.extensions["exchange.db"]["sessions"]
    session = factory()
    placed = 0
    try:
        market = session.scalar(select(Market).where(Market.code == DEMO_MARKET))
        if market is None or market.status is not MarketStatus.OPEN:
            return 0
        middle = _middle(session, market)
        leagues = [e.league_code for e in market.eligibility]
        for n in range(rng.randint(1, 3)):
            side = rng.choice([Side.BUY, Side.SELL])
            skew = rng.randint(-6, 4) if side is Side.BUY else rng.randint(-4, 6)
            price = max(market.tick, middle * (1000 + skew) // 1000)
            command = PlaceOrder(market.id, side, rng.randint(1, 8) * market.lot, price,
                                 f"demo-cont-live-{rng.getrandbits(48):012x}-{n}")  # fmt: skip
            league = rng.choice(leagues)
            try:
                with unit_of_work(session):
                    place_order(session, command, league=league, actor=f"{league}-desk")
                placed += 1
            except ExchangeError:  # self-trade, T+1, funds, band: the flow goes on
                pass
        return placed
    finally:
        session.close()


def _middle(session: Session, market: Market) -> int:
    book = market_data.book(session, market.id)
    bid = book["bids"][0]["price"] if book["bids"] else None
    ask = book["asks"][0]["price"] if book["asks"] else None
    if bid is not None and ask is not None:
        return int((bid + ask) // 2)
    return int(bid or ask or book["previous_close"] or market.reference_price or market.price_floor)


def install_continuous_demo_flow(app: Flask, scheduler: BaseScheduler) -> None:
    """With ``DEMO_ORDER_FLOW`` on, leagues keep trading in the demo's continuous market."""
    if not app.config.get("DEMO_ORDER_FLOW"):
        return
    rng = random.Random()

    def tick() -> None:
        try:
            continuous_tick(app, rng)
        except Exception:  # the demo flow must never stop the scheduler
            app.logger.exception("demo continuous flow failed")

    scheduler.add_job(tick, "interval", seconds=app.config.get("DEMO_ORDER_SECONDS", 15),
                      id="demo-continuous-flow", replace_existing=True)  # fmt: skip
