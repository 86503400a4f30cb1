"""Continuous trading through HTTP: matching at entry, settlement, band, sessions, T+1."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

import ledger
from exchange.extensions import db
from exchange.models.continuous import ContinuousEvent, ContinuousTrade
from exchange.uow import new_unit_of_work
from tests.exchange.continuous_helpers import Auth, create_market, funded_market, order
from tests.exchange.trading_helpers import balance, verify_ok


@pytest.fixture
def market(demo_registry: Flask, client: FlaskClient, auth: Auth) -> int:
    return funded_market(demo_registry, client, auth)


def test_market_is_created_continuous_with_defaults(
    demo_registry: Flask, client: FlaskClient, auth: Auth
) -> None:
    body = create_market(client, auth, code="CEA-C-DEF", session_calendar=None, band_percent=None)
    assert body["mechanism"] == "continuous"
    assert body["session_calendar"] == "cn_workdays"
    assert body["band_percent"] == 10
    assert body["clearing_schedule"] == ""


def test_call_auction_still_needs_a_schedule(
    demo_registry: Flask, client: FlaskClient, auth: Auth
) -> None:
    body = {k: v for k, v in create_market.__globals__["MARKET"].items()}
    body.update(code="CA-NO-SCHEDULE", mechanism="call_auction")
    response = client.post("/api/v1/markets", json=body, headers=auth("regulator"))
    assert response.status_code == 422
    assert "clearing_schedule" in str(response.get_json())


def test_orders_match_at_entry_at_the_resting_price_and_settle(
    demo_registry: Flask, client: FlaskClient, auth: Auth, market: int
) -> None:
    app = demo_registry
    rights = ledger.market_asset(market)
    sell = order(client, auth, "ordos", market, "sell", 300, 10_000, "s1")
    assert sell.status_code == 201, sell.get_json()
    assert sell.get_json()["fills"] == []
    buy = order(client, auth, "baotou", market, "buy", 500, 10_500, "b1")
    assert buy.status_code == 201, buy.get_json()
    body = buy.get_json()
    assert body["filled_quantity"] == 300
    assert body["status"] == "partially_filled"
    assert [(f["quantity"], f["price"]) for f in body["fills"]] == [(300, 10_000)]
    # the buyer paid the resting price; the rest of its hold stays for the 200 left
    assert balance(app, "baotou", rights)["posted"] == 300
    cash = balance(app, "baotou", ledger.CASH)
    assert cash["posted"] == 10**12 - 300 * 10_000
    assert cash["held"] == 200 * 10_500
    assert balance(app, "ordos", ledger.CASH)["posted"] == 300 * 10_000
    assert balance(app, "ordos", rights) == {
        "posted": 1_000_000 - 300,
        "held": 0,
        "available": 1_000_000 - 300,
    }
    sold = client.get(f"/api/v1/orders/{sell.get_json()['id']}", headers=auth("league", "ordos"))
    assert sold.get_json()["status"] == "filled"
    book = client.get(f"/api/v1/markets/{market}/book").get_json()
    assert book["bids"] == [{"price": 10_500, "quantity": 200, "orders": 1}]
    assert book["asks"] == []
    assert book["previous_close"] == 10_000
    assert book["band"] == {"low": 9_000, "high": 11_000}
    trades = client.get(f"/api/v1/markets/{market}/trades").get_json()
    assert [(t["price"], t["quantity"]) for t in trades["trades"]] == [(10_000, 300)]
    assert trades["today"]["volume"] == 300
    assert trades["today"]["close"] == 10_000
    verify_ok(app)


def test_price_time_priority_across_levels(
    demo_registry: Flask, client: FlaskClient, auth: Auth, market: int
) -> None:
    assert order(client, auth, "ordos", market, "sell", 100, 10_200, "a").status_code == 201
    assert order(client, auth, "wuhai", market, "sell", 100, 10_100, "b").status_code == 201
    assert order(client, auth, "ordos", market, "sell", 100, 10_100, "c").status_code == 201
    buy = order(client, auth, "baotou", market, "buy", 250, 10_200, "x").get_json()
    fills = [(f["price"], f["quantity"]) for f in buy["fills"]]
    assert fills == [(10_100, 100), (10_100, 100), (10_200, 50)]
    with demo_registry.app_context(), new_unit_of_work(db.session_factory) as s:
        rows = s.scalars(select(ContinuousTrade).order_by(ContinuousTrade.id)).all()
        assert [r.seller for r in rows] == ["wuhai", "ordos", "ordos"]
        assert [e.kind for e in s.scalars(select(ContinuousEvent))] == ["order"] * 4


def test_band_refusal_names_limit_price_and_the_range(
    demo_registry: Flask, client: FlaskClient, auth: Auth, market: int
) -> None:
    response = order(client, auth, "baotou", market, "buy", 10, 11_001, "hi")
    assert response.status_code == 422
    body = response.get_json()
    assert "limit_price" in str(body)
    assert "9000" in body["message"] and "11000" in body["message"]
    assert balance(demo_registry, "baotou", ledger.CASH)["held"] == 0
    assert order(client, auth, "baotou", market, "buy", 10, 11_000, "edge").status_code == 201


def test_t_plus_one_units_bought_today_cannot_be_sold(
    demo_registry: Flask, client: FlaskClient, auth: Auth, market: int
) -> None:
    fund_baotou = {("baotou", market): 50}
    from tests.exchange.trading_helpers import fund

    fund(demo_registry, rights=fund_baotou)
    assert order(client, auth, "ordos", market, "sell", 100, 10_000, "s").status_code == 201
    assert order(client, auth, "baotou", market, "buy", 100, 10_000, "b").status_code == 201
    # baotou now holds 150, 100 of them bought today: it may sell 50, not more
    refused = order(client, auth, "baotou", market, "sell", 60, 10_500, "s2")
    assert refused.status_code == 422, refused.get_json()
    assert "T+1" in refused.get_json()["message"]
    assert order(client, auth, "baotou", market, "sell", 50, 10_500, "s3").status_code == 201


def test_orders_outside_the_session_are_refused(
    demo_registry: Flask, client: FlaskClient, auth: Auth, monkeypatch: pytest.MonkeyPatch
) -> None:
    mid = funded_market(
        demo_registry, client, auth, code="CEA-C-HOURS", session_calendar="cn_workdays"
    )
    from exchange.mechanisms.continuous import entry

    saturday = datetime(2027, 3, 6, 3, 0, tzinfo=UTC)  # 11:00 Beijing, a Saturday
    monkeypatch.setattr(entry, "utcnow", lambda: saturday)
    refused = order(client, auth, "baotou", mid, "buy", 10, 10_000, "sat")
    assert refused.status_code == 409
    assert refused.get_json()["error"] == "outside_session"
    monday = datetime(2027, 3, 8, 2, 0, tzinfo=UTC)  # 10:00 Beijing, a Monday
    monkeypatch.setattr(entry, "utcnow", lambda: monday)
    assert order(client, auth, "baotou", mid, "buy", 10, 10_000, "mon").status_code == 201


def test_cancel_releases_the_hold_and_is_recorded_before_the_next_entry(
    demo_registry: Flask, client: FlaskClient, auth: Auth, market: int
) -> None:
    sell = order(client, auth, "ordos", market, "sell", 100, 10_000, "s").get_json()
    gone = client.delete(f"/api/v1/orders/{sell['id']}", headers=auth("league", "ordos"))
    assert gone.status_code == 200
    assert balance(demo_registry, "ordos", ledger.market_asset(market))["held"] == 0
    buy = order(client, auth, "baotou", market, "buy", 100, 10_000, "b").get_json()
    assert buy["fills"] == []
    with demo_registry.app_context(), new_unit_of_work(db.session_factory) as s:
        kinds = [
            (e.seq, e.kind)
            for e in s.scalars(select(ContinuousEvent).order_by(ContinuousEvent.seq))
        ]
    assert kinds == [(1, "order"), (2, "cancel"), (3, "order")]


def test_self_trade_is_refused(
    demo_registry: Flask, client: FlaskClient, auth: Auth, market: int
) -> None:
    fund_cash = {"ordos": 10**9}
    from tests.exchange.trading_helpers import fund

    fund(demo_registry, cash=fund_cash)
    assert order(client, auth, "ordos", market, "sell", 100, 10_000, "s").status_code == 201
    crossing = order(client, auth, "ordos", market, "buy", 100, 10_000, "b")
    assert crossing.status_code == 409
    assert crossing.get_json()["error"] == "self_trade"


def test_book_of_a_call_auction_is_not_found(demo_registry: Flask, client: FlaskClient) -> None:
    assert client.get("/api/v1/markets/1/book").status_code == 404
    assert client.get("/api/v1/markets/999999/trades").status_code == 404


def test_a_batch_matches_each_order_at_entry(
    demo_registry: Flask, client: FlaskClient, auth: Auth, market: int
) -> None:
    assert order(client, auth, "ordos", market, "sell", 100, 10_000, "s").status_code == 201
    response = client.post(
        "/api/v1/orders/batch",
        json={
            "orders": [
                {
                    "market_id": market,
                    "side": "buy",
                    "quantity": 60,
                    "limit_price": 10_000,
                    "client_order_id": "b1",
                },
                {
                    "market_id": market,
                    "side": "buy",
                    "quantity": 60,
                    "limit_price": 10_000,
                    "client_order_id": "b2",
                },
            ]
        },
        headers=auth("league", "baotou"),
    )
    assert response.status_code == 201, response.get_json()
    filled = [o["filled_quantity"] for o in response.get_json()["orders"]]
    assert filled == [60, 40]


def test_an_order_sweeps_more_makers_than_one_page(
    demo_registry: Flask, client: FlaskClient, auth: Auth, market: int, monkeypatch: Any
) -> None:
    from exchange.mechanisms.continuous import entry

    monkeypatch.setattr(entry, "PAGE", 2)
    for n in range(5):
        seller = "ordos" if n % 2 else "wuhai"
        assert (
            order(client, auth, seller, market, "sell", 10, 10_000 + n, f"s{n}").status_code == 201
        )
    buy = order(client, auth, "baotou", market, "buy", 45, 10_004, "sweep").get_json()
    assert [(f["price"], f["quantity"]) for f in buy["fills"]] == [
        (10_000, 10),
        (10_001, 10),
        (10_002, 10),
        (10_003, 10),
        (10_004, 5),
    ]
