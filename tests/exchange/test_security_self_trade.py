"""Issue 11, items 10 and 11 (price 0): self-trade prevention at entry; a buy at 0 is a 4xx."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from exchange.extensions import db
from exchange.models.trading import Order
from exchange.uow import new_unit_of_work
from tests.exchange.page_helpers import csrf_token, login, make_user
from tests.exchange.trading_helpers import fund, market_id

Auth = Callable[..., dict[str, str]]


def order_count(app: Flask) -> int:
    with app.app_context(), new_unit_of_work(db.session_factory) as session:
        return int(session.scalar(select(func.count()).select_from(Order)) or 0)


@pytest.fixture
def carbon(demo_registry: Flask) -> int:
    mid = market_id(demo_registry, "CEA-2026")
    fund(demo_registry, rights={("ordos", mid): 10_000}, cash={"ordos": 100_000_000})
    return mid


def order(mid: int, side: str, price: int, key: str, quantity: int = 100) -> dict[str, Any]:
    return {"market_id": mid, "side": side, "quantity": quantity, "limit_price": price,
            "client_order_id": key}  # fmt: skip


def test_an_order_crossing_the_leagues_own_live_order_is_refused(
    demo_registry: Flask, client: FlaskClient, auth: Auth, carbon: int
) -> None:
    headers = auth("league", "ordos")
    sell = client.post("/api/v1/orders", json=order(carbon, "sell", 9_000, "s"), headers=headers)
    assert sell.status_code == 201
    sell_id = sell.get_json()["id"]
    before = order_count(demo_registry)
    buy = client.post("/api/v1/orders", json=order(carbon, "buy", 9_000, "b"), headers=headers)
    assert buy.status_code == 409, buy.get_json()
    assert str(sell_id) in buy.get_json()["message"]
    assert order_count(demo_registry) == before
    # not crossing: fine; and crossing again after the sell is cancelled: fine
    low = client.post("/api/v1/orders", json=order(carbon, "buy", 8_999, "b2"), headers=headers)
    assert low.status_code == 201, low.get_json()
    assert client.delete(f"/api/v1/orders/{sell_id}", headers=headers).status_code == 200
    again = client.post("/api/v1/orders", json=order(carbon, "buy", 9_500, "b3"), headers=headers)
    assert again.status_code == 201, again.get_json()


def test_a_batch_that_crosses_itself_or_a_live_order_is_refused_whole(
    demo_registry: Flask, client: FlaskClient, auth: Auth, carbon: int
) -> None:
    headers = auth("league", "ordos")
    before = order_count(demo_registry)
    inner = [order(carbon, "buy", 9_000, "x1"), order(carbon, "sell", 8_000, "x2")]
    response = client.post("/api/v1/orders/batch", json={"orders": inner}, headers=headers)
    assert response.status_code == 409, response.get_json()
    assert order_count(demo_registry) == before
    live = client.post("/api/v1/orders", json=order(carbon, "sell", 9_000, "s"), headers=headers)
    live_id = live.get_json()["id"]
    crossing = [order(carbon, "buy", 2_000, "y1"), order(carbon, "buy", 9_100, "y2")]
    response = client.post("/api/v1/orders/batch", json={"orders": crossing}, headers=headers)
    assert response.status_code == 409, response.get_json()
    assert str(live_id) in response.get_json()["message"]
    assert order_count(demo_registry) == before + 1


def test_the_desk_form_refuses_a_self_trade(
    demo_registry: Flask, client: FlaskClient, auth: Auth, carbon: int
) -> None:
    headers = auth("league", "ordos")
    sell = client.post("/api/v1/orders", json=order(carbon, "sell", 9_000, "s"), headers=headers)
    make_user(demo_registry, "ordos-desk", _league_role(), "ordos")
    login(client, "ordos-desk")
    before = order_count(demo_registry)
    page = client.post(
        "/desk/orders",
        data={
            "csrf_token": csrf_token(client, "/desk"),
            "market_id": str(carbon),
            "side": "buy",
            "quantity": "100",
            "limit_price": "95.00",
            "validity": "gtc",
            "client_order_id": "desk-b",
        },
    )
    assert page.status_code in (409, 422, 200), page.status_code
    assert f"order {sell.get_json()['id']}" in page.get_data(as_text=True)
    assert order_count(demo_registry) == before


def _league_role() -> Any:
    from exchange.models import Role

    return Role.LEAGUE


def test_a_buy_at_price_zero_is_a_4xx(
    demo_registry: Flask, client: FlaskClient, auth: Auth
) -> None:
    body = {
        "code": "ZERO-FLOOR", "name_zh": "零底价", "name_en": "Zero floor", "right_type": "carbon",
        "vintage": "2030", "unit": "tCO2e", "lot": 1, "tick": 1, "price_floor": 0, "cap": 1_000,
        "clearing_schedule": "0 10 * * 1",
    }  # fmt: skip
    made = client.post("/api/v1/markets", json=body, headers=auth("regulator"))
    assert made.status_code == 201, made.get_json()
    mid = made.get_json()["id"]
    fund(demo_registry, cash={"ordos": 1_000})
    headers = auth("league", "ordos")
    one = client.post("/api/v1/orders", json=order(mid, "buy", 0, "z", 1), headers=headers)
    assert one.status_code == 422, one.get_json()
    assert "limit_price" in str(one.get_json()["errors"])
    batch = client.post("/api/v1/orders/batch", json={"orders": [order(mid, "buy", 0, "z2", 1)]},
                        headers=headers)  # fmt: skip
    assert batch.status_code == 422, batch.get_json()
