"""Demo trading: a few weeks of cleared history, then a steady trickle of orders.

Everything goes through the real services (order entry with holds, clearing
runs settled in the ledger), so the demo's history verifies and replays like
any other. Randomness comes from a seeded generator: the same demo each time.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

from apscheduler.schedulers.base import BaseScheduler
from flask import Flask
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

import ledger
from exchange.data.demo_trading import HISTORY_DAYS, ORDER_FLOW, ORDERS_PER_RUN
from exchange.errors import ExchangeError
from exchange.mechanisms.call_auction.run import run_clearing
from exchange.models import Market, MarketStatus
from exchange.models.trading import ClearingRun, RunTrigger, Side
from exchange.services.commands import PlaceOrder
from exchange.services.orders import place_order
from exchange.uow import unit_of_work

DEMO_ACTOR = "demo"


def seed_history(
    factory: sessionmaker[Session],
    *,
    days: int = HISTORY_DAYS,
    now: datetime | None = None,
    seed: int = 2027,
) -> str | None:
    """Clear one run per market per day over the last ``days`` days, unless runs exist."""
    session = factory()
    try:
        if session.scalar(select(func.count()).select_from(ClearingRun)):
            return None
        markets = [(m.id, m.code) for m in session.scalars(select(Market).order_by(Market.id))]
    finally:
        session.close()
    rng = random.Random(seed)
    start = (now or datetime.now(UTC)).replace(hour=2, minute=0, second=0, microsecond=0)
    levels = {code: ORDER_FLOW[code][0] for _mid, code in markets if code in ORDER_FLOW}
    runs = orders = 0
    for day in range(days, 0, -1):
        window = start - timedelta(days=day)
        for market_id, code in markets:
            if code not in levels:
                continue
            # a slow random walk of the price level, kept near its anchor
            anchor = ORDER_FLOW[code][0]
            levels[code] = max(
                1, round(levels[code] * rng.uniform(0.97, 1.03) * 0.9 + anchor * 0.1)
            )
            orders += post_random_orders(
                factory,
                market_id,
                rng,
                count=rng.randint(*ORDERS_PER_RUN),
                level=levels[code],
                tag=f"h{day}",
            )
            run_clearing(factory, market_id, window, trigger=RunTrigger.SCHEDULE, actor=DEMO_ACTOR)
            runs += 1
    return f"trading history: {orders} orders, {runs} clearing runs over {days} days"


def post_random_orders(
    factory: sessionmaker[Session],
    market_id: int,
    rng: random.Random,
    *,
    count: int,
    level: int | None = None,
    tag: str = "",
) -> int:
    """Post ``count`` plausible orders from eligible leagues that can afford them."""
    session = factory()
    placed = 0
    try:
        market = session.get(Market, market_id)
        if market is None or market.status is not MarketStatus.OPEN:
            return 0
        if market.code not in ORDER_FLOW:
            return 0
        anchor, spread, (lo, hi) = ORDER_FLOW[market.code]
        level = level or _last_price(session, market_id) or anchor
        leagues = [e.league_code for e in market.eligibility]
        rights = ledger.market_asset(market_id)
        for n in range(count):
            league = rng.choice(leagues)
            side = rng.choice([Side.BUY, Side.SELL])
            quantity = rng.randint(lo, hi) * market.lot
            skew = 1 + spread * (rng.random() - (0.6 if side is Side.SELL else 0.4))
            price = int(level * skew) // market.tick * market.tick
            ceiling = market.price_ceiling if market.price_ceiling is not None else price
            price = min(max(price, market.price_floor), ceiling)
            available = _available(session, league, rights if side is Side.SELL else ledger.CASH)
            need = quantity if side is Side.SELL else quantity * price
            if available < need:
                continue
            command = PlaceOrder(
                market_id=market_id,
                side=side,
                quantity=quantity,
                limit_price=price,
                client_order_id=f"demo-{tag}-{market_id}-{n}-{rng.getrandbits(32):08x}",
            )
            try:
                with unit_of_work(session):  # each order is one desk's request
                    place_order(session, command, league=league, actor=f"{league}-desk")
                placed += 1
            except ExchangeError:  # rolled back by the unit of work; the flow goes on
                pass
        return placed
    finally:
        session.close()


def _available(session: Session, league: str, asset: str) -> int:
    for view in ledger.balances(session, league):
        if view.asset == asset:
            return view.available
    return 0


def _last_price(session: Session, market_id: int) -> int | None:
    return session.scalar(
        select(ClearingRun.price)
        .where(ClearingRun.market_id == market_id, ClearingRun.price.is_not(None))
        .order_by(ClearingRun.window.desc())
        .limit(1)
    )


def demo_tick(app: Flask, rng: random.Random) -> int:
    """One step of the demo's order flow: a few orders in a random market."""
    factory = app.extensions["exchange.db"]["sessions"]
    session = factory()
    try:
        ids = list(session.scalars(select(Market.id).where(Market.status == MarketStatus.OPEN)))
    finally:
        session.close()
    if not ids:
        return 0
    return post_random_orders(factory, rng.choice(ids), rng, count=rng.randint(2, 5), tag="live")


def install_demo_order_flow(app: Flask, scheduler: BaseScheduler) -> None:
    """With ``DEMO_ORDER_FLOW`` on, leagues keep posting sample orders."""
    if not app.config.get("DEMO_ORDER_FLOW"):
        return
    rng = random.Random()
    scheduler.add_job(
        _safe_tick,
        "interval",
        seconds=app.config.get("DEMO_ORDER_SECONDS", 15),
        id="demo-order-flow",
        kwargs={"app": app, "rng": rng},
        replace_existing=True,
    )


def _safe_tick(app: Flask, rng: random.Random) -> None:
    try:
        demo_tick(app, rng)
    except Exception:  # the demo flow must never stop the scheduler
        app.logger.exception("demo order flow failed")
