"""Two entries of one league at once, the second crossing the first: the second is refused
(PostgreSQL: SQLite serialises every writer, so nothing overlaps there).

Entry locks the league's row, so a league's entries run one at a time. The second entry
waits for that lock; when it gets it, what it reads of the league's live orders must
include the order the first entry has just committed. In PostgreSQL's read committed, a
statement reads as of its own start: a lock taken and a book read in one statement would
read the book as it was before the wait. Here the first entry is held, by a patch of its
hold, until the second is seen waiting for the lock.
"""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select, text

from exchange.errors import Conflict
from exchange.extensions import db
from exchange.models import Side
from exchange.models.trading import Order
from exchange.services import orders as orders_service
from exchange.services.commands import PlaceOrder
from exchange.services.order_batches import place_orders
from exchange.services.orders import place_order
from exchange.uow import new_unit_of_work
from tests.conftest import PG_URL
from tests.exchange.trading_helpers import fund, market_id, verify_ok


def _place(app: Flask, mid: int, side: Side, price: int, key: str, batch: bool = False) -> Any:
    """The order's id, or the exception that refused it; ``batch``: as a batch of one."""
    try:
        with app.app_context(), new_unit_of_work(db.session_factory) as s:
            s.execute(text("SET LOCAL lock_timeout = '10s'"))
            command = PlaceOrder(
                market_id=mid, side=side, quantity=100, limit_price=price, client_order_id=key
            )
            if batch:
                return place_orders(s, league="ordos", items=[command], actor="test")[0].order.id
            return place_order(s, command, league="ordos", actor="test").order.id
    except Exception as exc:  # the outcome under test
        return exc


def _someone_waits_for_a_lock(app: Flask) -> bool:
    deadline = time.monotonic() + 10
    with app.app_context(), db.engine.connect() as conn:
        while time.monotonic() < deadline:
            waiting = conn.execute(
                text(
                    "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'"
                    " AND datname = current_database()"
                )
            ).scalar_one()
            if waiting:
                return True
            time.sleep(0.02)
    return False


@pytest.mark.parametrize("second", ["order", "batch"])
def test_an_entry_that_waited_for_its_league_sees_the_order_it_waited_for(
    demo_registry: Flask, monkeypatch: pytest.MonkeyPatch, second: str
) -> None:
    if not PG_URL:
        pytest.skip("row locks of concurrent writers (SQLite has one writer at a time)")
    app = demo_registry
    mid = market_id(app, "CEA-2026")
    fund(app, rights={("ordos", mid): 1_000}, cash={"ordos": 100_000_000})

    outcome: dict[str, Any] = {}
    real_hold = orders_service._hold
    first = threading.Event()

    def hold_once_the_second_waits(*args: Any, **kwargs: Any) -> Any:
        if not first.is_set():  # the first entry, its league locked
            first.set()
            second = threading.Thread(
                target=lambda: outcome.setdefault(
                    "sell", _place(app, mid, Side.SELL, 8_900, "s", batch=second == "batch")
                )
            )
            second.start()
            outcome["second_waited"] = _someone_waits_for_a_lock(app)
            outcome["thread"] = second
        return real_hold(*args, **kwargs)

    monkeypatch.setattr(orders_service, "_hold", hold_once_the_second_waits)
    outcome["buy"] = _place(app, mid, Side.BUY, 9_000, "b")
    outcome["thread"].join(timeout=30)
    monkeypatch.undo()

    assert outcome["second_waited"], "the second entry did not wait for the first"
    assert isinstance(outcome["buy"], int), outcome["buy"]
    refused = outcome["sell"]
    assert isinstance(refused, Conflict) and refused.code == "self_trade", refused
    with app.app_context(), new_unit_of_work(db.session_factory) as s:
        keys = s.scalars(select(Order.client_order_id).where(Order.league_code == "ordos")).all()
    assert sorted(keys) == ["b"]
    verify_ok(app)
