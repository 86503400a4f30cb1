"""Issue 11, items 1 and 2: nothing public or auditor-visible reveals a live order."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests.exchange.trading_helpers import clear, fund, market_id

Auth = Callable[..., dict[str, str]]


@pytest.fixture
def book(demo_registry: Flask, client: FlaskClient, auth: Auth) -> dict[str, Any]:
    """A run in CEA-2026 that leaves a partly filled sell and an untouched buy live."""
    mid = market_id(demo_registry, "CEA-2026")
    fund(demo_registry, rights={("ordos", mid): 10_000}, cash={"baotou": 100_000_000})

    def post(league: str, **body: Any) -> int:
        body = {"market_id": mid, **body}
        response = client.post("/api/v1/orders", json=body, headers=auth("league", league))
        assert response.status_code == 201, response.get_json()
        return int(response.get_json()["id"])

    sell = post("ordos", side="sell", quantity=1_000, limit_price=9_137, client_order_id="s")
    buy = post("baotou", side="buy", quantity=400, limit_price=9_500, client_order_id="b")
    low = post("baotou", side="buy", quantity=300, limit_price=4_321, client_order_id="low")
    run_id = clear(demo_registry, mid).run_id
    return {"market": mid, "run": run_id, "sell": sell, "buy": buy, "low": low}


def test_public_run_data_carries_results_but_no_curves(
    client: FlaskClient, auth: Auth, book: dict[str, Any]
) -> None:
    listed = client.get(f"/api/v1/markets/{book['market']}/clearing-runs").get_json()
    one = client.get(f"/api/v1/clearing-runs/{book['run']}").get_json()
    league = client.get(
        f"/api/v1/clearing-runs/{book['run']}", headers=auth("league", "ordos")
    ).get_json()
    for run in (listed[0], one, league):
        assert run["curves"] is None
        assert run["volume"] == 400
        assert (run["bids"], run["bidders"], run["offers"], run["sellers"]) == (2, 1, 1, 1)
        assert run["bid_to_cover"] == 0.7
    # the untouched live bid's limit price appears nowhere in the public answers
    for run in (listed[0], one):
        assert "4321" not in str({k: v for k, v in run.items() if not k.endswith("hash")})


def test_public_market_page_has_no_curves_chart(client: FlaskClient, book: dict[str, Any]) -> None:
    page = client.get("/markets/CEA-2026").get_data(as_text=True)
    assert "Aggregated supply and demand" not in page
    assert "43.21" not in page
    assert 'id="auction-results"' in page


def test_curves_for_the_regulator_and_for_auditors_once_nothing_is_live(
    client: FlaskClient, auth: Auth, book: dict[str, Any]
) -> None:
    url = f"/api/v1/clearing-runs/{book['run']}"
    assert client.get(url, headers=auth("regulator")).get_json()["curves"]["prices"]
    assert client.get(url, headers=auth("auditor")).get_json()["curves"] is None
    page = client.get(f"/runs/{book['run']}", headers=auth("auditor")).get_data(as_text=True)
    assert 'id="curves-sealed"' in page
    for league, order in (("ordos", book["sell"]), ("baotou", book["low"])):
        done = client.delete(f"/api/v1/orders/{order}", headers=auth("league", league))
        assert done.status_code == 200, done.get_json()
    assert client.get(url, headers=auth("auditor")).get_json()["curves"]["prices"]
    page = client.get(f"/runs/{book['run']}", headers=auth("auditor")).get_data(as_text=True)
    assert 'id="curves-sealed"' not in page


def test_auditors_do_not_see_partly_filled_live_orders(
    client: FlaskClient, auth: Auth, book: dict[str, Any]
) -> None:
    sell = book["sell"]
    assert client.get(f"/api/v1/orders/{sell}", headers=auth("regulator")).status_code == 200
    assert client.get(f"/api/v1/orders/{sell}", headers=auth("auditor")).status_code == 404
    items = client.get("/api/v1/orders", headers=auth("auditor")).get_json()["items"]
    assert {o["id"] for o in items} == {book["buy"]}  # the filled buy only
    page = client.get(f"/runs/{book['run']}", headers=auth("auditor")).get_data(as_text=True)
    assert "43.21" not in page and "snapshot-sealed" not in page
    assert "2 orders of this snapshot" in page  # the live sell and the live low bid
    page = client.get(f"/runs/{book['run']}", headers=auth("regulator")).get_data(as_text=True)
    assert "43.21" in page
