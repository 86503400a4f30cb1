"""The page of a continuous market: depth, last trades, charts; live fragment; Chinese."""

from __future__ import annotations

from flask import Flask
from flask.testing import FlaskClient

from tests.exchange.continuous_helpers import Auth, funded_market, order


def test_market_page_shows_depth_trades_and_refreshes(
    demo_registry: Flask, client: FlaskClient, auth: Auth
) -> None:
    mid = funded_market(demo_registry, client, auth)
    assert order(client, auth, "ordos", mid, "sell", 100, 10_050, "s1").status_code == 201
    assert order(client, auth, "wuhai", mid, "sell", 100, 10_100, "s2").status_code == 201
    assert order(client, auth, "baotou", mid, "buy", 40, 10_050, "b1").status_code == 201
    page = client.get("/markets/CEA-C-TEST", headers={"Accept-Language": "en"})
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert 'id="depth"' in html and 'id="last-trades"' in html
    assert "100.50" in html and "101.00" in html  # the asks, in yuan
    assert "continuous.js" in html and "<script>" not in html  # no inline script
    assert "cdn" not in html.lower()
    live = client.get("/markets/CEA-C-TEST/live")
    assert live.status_code == 200
    fragment = live.get_data(as_text=True)
    assert 'id="depth"' in fragment and "<html" not in fragment
    with client.get("/static/continuous.js") as script:
        assert script.status_code == 200
    assert client.get("/markets/CEA-2026/live").status_code == 404


def test_market_page_in_chinese(demo_registry: Flask, client: FlaskClient, auth: Auth) -> None:
    funded_market(demo_registry, client, auth)
    html = client.get("/markets/CEA-C-TEST", headers={"Accept-Language": "zh"}).get_data(
        as_text=True
    )
    for english in ("Order book", "Last trades", "Trades of the day", "Previous close"):
        assert english not in html
    assert "买" in html and "卖" in html
