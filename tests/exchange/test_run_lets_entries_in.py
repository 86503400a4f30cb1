"""A clearing run does not hold order entry up, and still holds up cancels of its book
(PostgreSQL: SQLite serialises every writer, so nothing overlaps there).

The run locks its market ``FOR NO KEY UPDATE``, which lets through the key-share lock
that entry takes in its first statement, and locks the live orders it loads. Here, in
the middle of a real run (between loading the book and settling it), another connection
enters an order in the same market and tries to cancel one of the booked orders.
"""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select, text
from sqlalchemy.exc import OperationalError

from exchange.extensions import db
from exchange.mechanisms.call_auction import run as call_auction_run
from exchange.models import Side
from exchange.models.trading import ClearingRun, Order, OrderStatus
from exchange.services.commands import PlaceOrder
from exchange.services.orders import cancel_order, place_order
from exchange.uow import new_unit_of_work
from tests.conftest import PG_URL
from tests.exchange.trading_helpers import clear, fund, market_id, verify_ok


def _place(app: Flask, mid: int, league: str, side: Side, price: int, key: str) -> int:
    with app.app_context(), new_unit_of_work(db.session_factory) as s:
        s.execute(text("SET LOCAL lock_timeout = '5s'"))
        command = PlaceOrder(
            market_id=mid, side=side, quantity=100, limit_price=price, client_order_id=key
        )
        return place_order(s, command, league=league, actor="test").order.id


def test_an_order_enters_during_a_run_and_a_cancel_of_the_book_waits(
    demo_registry: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    if not PG_URL:
        pytest.skip("row locks of concurrent writers (SQLite has one writer at a time)")
    app = demo_registry
    mid = market_id(app, "CEA-2026")
    fund(app, rights={("ordos", mid): 1_000}, cash={"baotou": 100_000_000, "hohhot": 100_000_000})
    booked = _place(app, mid, "ordos", Side.SELL, 9_000, "sell")
    _place(app, mid, "baotou", Side.BUY, 9_500, "buy")

    during: dict[str, Any] = {}
    real_clear = call_auction_run.stability.clear

    def clear_with_visitors(*args: Any) -> Any:
        during["entered"] = _place(app, mid, "hohhot", Side.BUY, 9_200, "during")
        with app.app_context(), new_unit_of_work(db.session_factory) as s:
            s.execute(text("SET LOCAL lock_timeout = '300ms'"))
            try:
                cancel_order(s, order_id=booked, league="ordos", actor="test")
            except OperationalError as exc:  # the lock timeout
                during["cancel"] = str(exc)
        return real_clear(*args)

    monkeypatch.setattr(call_auction_run.stability, "clear", clear_with_visitors)
    outcome = clear(app, mid)
    monkeypatch.undo()

    assert "lock timeout" in during.get("cancel", "cancelled"), during
    with app.app_context(), new_unit_of_work(db.session_factory) as s:
        run = s.get(ClearingRun, outcome.run_id)
        assert run is not None and run.order_count == 2 and run.volume == 100
        statuses = dict(s.execute(select(Order.client_order_id, Order.status)).all())
    assert statuses == {
        "sell": OrderStatus.FILLED,
        "buy": OrderStatus.FILLED,
        "during": OrderStatus.OPEN,  # in the book for the next window
    }
    verify_ok(app)
