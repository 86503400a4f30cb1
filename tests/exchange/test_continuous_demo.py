"""The demo's continuous market: open around the clock, with depth and first trades."""

from __future__ import annotations

import pytest
from flask import Flask
from flask.testing import FlaskClient

from exchange.extensions import db
from exchange.services.demo import seed_demo
from exchange.services.demo_continuous import seed_continuous_book
from exchange.uow import new_unit_of_work
from tests.exchange.trading_helpers import market_id, verify_ok

pytestmark = pytest.mark.slow  # each test seeds the whole demo


def test_demo_continuous_market_has_a_book_and_trades(app: Flask, client: FlaskClient) -> None:
    with app.app_context():
        with new_unit_of_work(db.session_factory) as s:
            seed_demo(s)
        assert seed_continuous_book(db.session_factory) == (
            "continuous market CEA-2026-L: 12 orders entered"
        )
        assert seed_continuous_book(db.session_factory) is None  # once
    mid = market_id(app, "CEA-2026-L")
    market = client.get(f"/api/v1/markets/{mid}").get_json()
    assert (market["mechanism"], market["session_calendar"]) == ("continuous", "always")
    book = client.get(f"/api/v1/markets/{mid}/book").get_json()
    assert book["open"] is True
    assert len(book["bids"]) == 5 and len(book["asks"]) >= 3
    assert book["bids"][0]["price"] < book["asks"][0]["price"]
    trades = client.get(f"/api/v1/markets/{mid}/trades").get_json()
    assert trades["today"]["volume"] > 0
    verify_ok(app)
    assert client.get("/").status_code == 200
    assert client.get("/markets/CEA-2026-L").status_code == 200
    assert client.get("/markets/CEA-2026-L/live").status_code == 200


def test_demo_continuous_flow_keeps_trading(app: Flask) -> None:
    import random

    from exchange.services.demo_continuous import continuous_tick

    with app.app_context():
        with new_unit_of_work(db.session_factory) as s:
            seed_demo(s)
        seed_continuous_book(db.session_factory)
        rng = random.Random(3)
        placed = sum(continuous_tick(app, rng) for _ in range(10))
    assert placed > 5
    verify_ok(app)
