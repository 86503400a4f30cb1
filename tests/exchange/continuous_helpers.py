"""Builders for continuous-trading tests: a continuous carbon market, funded leagues."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Flask
from flask.testing import FlaskClient

from tests.exchange.trading_helpers import fund

Auth = Callable[..., dict[str, str]]

MARKET = {
    "code": "CEA-C-TEST",
    "name_zh": "碳排放配额 连续交易 测试",
    "name_en": "Carbon allowances, continuous (test)",
    "right_type": "carbon",
    "vintage": "2026",
    "unit": "tCO2e",
    "lot": 1,
    "tick": 1,
    "price_floor": 1,
    "cap": 100_000_000,
    "mechanism": "continuous",
    "session_calendar": "always",
    "band_percent": 10,
    "reference_price": 10_000,
}


def create_market(client: FlaskClient, auth: Auth, **overrides: Any) -> dict[str, Any]:
    response = client.post(
        "/api/v1/markets", json={**MARKET, **overrides}, headers=auth("regulator")
    )
    assert response.status_code == 201, response.get_json()
    return dict(response.get_json())


def funded_market(app: Flask, client: FlaskClient, auth: Auth, **overrides: Any) -> int:
    """A continuous market; ordos and wuhai hold 1,000,000 units, baotou and chifeng cash."""
    mid = int(create_market(client, auth, **overrides)["id"])
    fund(
        app,
        rights={("ordos", mid): 1_000_000, ("wuhai", mid): 1_000_000},
        cash={"baotou": 10**12, "chifeng": 10**12},
    )
    return mid


def order(
    client: FlaskClient,
    auth: Auth,
    league: str,
    mid: int,
    side: str,
    qty: int,
    price: int,
    cid: str,
    **extra: Any,
) -> Any:
    return client.post(
        "/api/v1/orders",
        json={
            "market_id": mid,
            "side": side,
            "quantity": qty,
            "limit_price": price,
            "client_order_id": cid,
            **extra,
        },
        headers=auth("league", league),
    )
