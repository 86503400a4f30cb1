"""Continuous trading under parallel intake, replay of the session and the close.

Runs on SQLite and on PostgreSQL (TEST_DATABASE_URL): many clients enter and cancel
orders in one market at once; afterwards no fill is lost or doubled, the book is not
crossed, the ledger verifies and the recorded order flow replays to the same trades.
"""

from __future__ import annotations

import random
import threading
from collections import defaultdict
from datetime import UTC, datetime

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

import ledger
from exchange.errors import ExchangeError
from exchange.extensions import db
from exchange.mechanisms.continuous import close, sessions
from exchange.mechanisms.continuous.replay import replay_session
from exchange.models import Order, Side, Trade
from exchange.models.continuous import ContinuousEvent, ContinuousTrade, DailyClose
from exchange.models.trading import LIVE_STATUSES
from exchange.services.commands import PlaceOrder
from exchange.services.orders import cancel_order, place_order
from exchange.uow import new_unit_of_work
from tests.exchange.continuous_helpers import Auth, funded_market, order
from tests.exchange.trading_helpers import fund, verify_ok

SELLERS = ("ordos", "wuhai", "alxa")
BUYERS = ("baotou", "chifeng", "hohhot")


def _client_flow(app: Flask, mid: int, league: str, seed: int, errors: list[str]) -> None:
    rng = random.Random(seed)
    side = Side.SELL if league in SELLERS else Side.BUY
    mine: list[int] = []
    with app.app_context():
        for n in range(25):
            try:
                with new_unit_of_work(db.session_factory) as s:
                    if mine and rng.random() < 0.2:
                        cancel_order(
                            s,
                            order_id=mine.pop(rng.randrange(len(mine))),
                            league=league,
                            actor=league,
                        )
                        continue
                    placed = place_order(
                        s,
                        PlaceOrder(
                            mid,
                            side,
                            rng.randint(1, 40) * 10,
                            rng.randint(9_600, 10_400),
                            f"{league}-{seed}-{n}",
                        ),
                        league=league,
                        actor=league,
                    )
                    mine.append(placed.order.id)
            except ExchangeError as exc:  # a cancel of an order filled meanwhile: fine
                if exc.code not in ("order_not_open",):
                    errors.append(f"{league} {n}: {exc.code} {exc.message}")
            except Exception as exc:
                errors.append(f"{league} {n}: {type(exc).__name__}: {exc}")


@pytest.mark.slow
def test_parallel_intake_loses_and_doubles_no_fill(
    demo_registry: Flask, client: FlaskClient, auth: Auth
) -> None:
    app = demo_registry
    mid = funded_market(app, client, auth)
    fund(app, rights={("alxa", mid): 1_000_000}, cash={"hohhot": 10**12})
    errors: list[str] = []
    threads = [
        threading.Thread(target=_client_flow, args=(app, mid, league, i, errors))
        for i, league in enumerate(2 * (SELLERS + BUYERS))  # 12 clients, 2 per league
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    with app.app_context(), new_unit_of_work(db.session_factory) as s:
        trades = s.scalars(select(ContinuousTrade).where(ContinuousTrade.market_id == mid)).all()
        assert trades, "the flow should have crossed"
        per_order: dict[int, int] = defaultdict(int)
        for t in trades:
            per_order[t.buy_order_id or 0] += t.quantity
            per_order[t.sell_order_id or 0] += t.quantity
        for o in s.scalars(select(Order).where(Order.market_id == mid)):
            assert o.filled_quantity == per_order.get(o.id, 0), o.id
            assert sum(f.quantity for f in o.fills) == o.filled_quantity
        fills = s.scalar(select(func.count()).select_from(Trade).where(Trade.market_id == mid))
        assert fills == 2 * len(trades)
        bid = s.scalar(
            select(func.max(Order.limit_price)).where(
                Order.market_id == mid, Order.side == Side.BUY, Order.status.in_(LIVE_STATUSES)
            )
        )
        ask = s.scalar(
            select(func.min(Order.limit_price)).where(
                Order.market_id == mid, Order.side == Side.SELL, Order.status.in_(LIVE_STATUSES)
            )
        )
        assert bid is None or ask is None or bid < ask
        seqs = list(
            s.scalars(
                select(ContinuousEvent.seq)
                .where(ContinuousEvent.market_id == mid)
                .order_by(ContinuousEvent.seq)
            )
        )
        assert seqs == list(range(1, len(seqs) + 1))
        day = sessions.trading_day(datetime.now(UTC))
        report = replay_session(s, mid, day)
        assert report.ok, report.differences
        assert len(report.recorded) == len(trades)
        # rights and cash are conserved between the parties
        rights = ledger.market_asset(mid)
        sold = sum(t.quantity for t in trades)
        bought = sum(v.posted for lg in BUYERS for v in ledger.balances(s, lg) if v.asset == rights)
        assert bought == sold
    verify_ok(app)


def test_replay_session_cli_and_close(
    demo_registry: Flask, client: FlaskClient, auth: Auth
) -> None:
    app = demo_registry
    mid = funded_market(app, client, auth)
    assert order(client, auth, "ordos", mid, "sell", 100, 10_000, "s1").status_code == 201
    assert order(client, auth, "wuhai", mid, "sell", 100, 10_300, "s2").status_code == 201
    assert order(client, auth, "baotou", mid, "buy", 150, 10_300, "b1").status_code == 201
    day = sessions.trading_day(datetime.now(UTC))
    with app.app_context(), new_unit_of_work(db.session_factory) as s:
        report = replay_session(s, mid, day)
        assert report.ok and len(report.recorded) == 2
        row = close.compute_close(s, mid, day)
        # VWAP of (100 @ 10000, 50 @ 10300) = 10100
        assert (row.open, row.high, row.low, row.close, row.volume) == (
            10_000,
            10_300,
            10_000,
            10_100,
            150,
        )
        again = close.compute_close(s, mid, day)
        assert again.id == row.id
        assert s.scalar(select(func.count()).select_from(DailyClose)) == 1
    runner = app.test_cli_runner()
    from exchange.commands.trading import replay_session_command

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr("exchange.create_app", lambda: app)
        result = runner.invoke(replay_session_command, ["CEA-C-TEST", day.isoformat()])
    assert result.exit_code == 0, result.output
    assert "matches 2 trades" in result.output


def test_entry_takes_the_market_entry_lock_first_on_postgresql(
    demo_registry: Flask, client: FlaskClient, auth: Auth
) -> None:
    """The advisory lock is taken by the entry's first statement for a continuous market
    only (a call auction's entries stay parallel)."""
    from sqlalchemy import text

    from exchange import mechanisms
    from tests.exchange.trading_helpers import market_id

    app = demo_registry
    if app.extensions["exchange.db"]["engine"].dialect.name != "postgresql":
        pytest.skip("advisory locks are PostgreSQL's; SQLite serialises writers")
    mid = funded_market(app, client, auth)
    auction = market_id(app, "CEA-2026")
    fund(app, rights={("ordos", auction): 1_000})
    held = text(
        "SELECT objid FROM pg_locks WHERE locktype = 'advisory' AND classid = :k "
        "AND pid = pg_backend_pid()"
    )
    with app.app_context():
        for market, expected in ((mid, [mid]), (auction, [])):
            s = db.session_factory()
            try:
                place_order(s, PlaceOrder(market, Side.SELL, 100, 10_000, f"lock-{market}"),
                            league="ordos", actor="t")  # fmt: skip
                locks = list(s.scalars(held, {"k": mechanisms.ENTRY_LOCK_CLASS}))
                assert locks == expected
            finally:
                s.rollback()
                s.close()
