"""Trading end to end through HTTP: orders, holds, clearing, settlement, replay."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

import ledger
from exchange.extensions import db
from exchange.models.trading import ClearingRun, Order
from exchange.schedule import latest_window
from exchange.uow import new_unit_of_work
from tests.exchange.trading_helpers import balance, clear, fund, market_id, verify_ok

Auth = Callable[..., dict[str, str]]


@pytest.fixture
def carbon(demo_registry: Flask) -> int:
    """The carbon market (lot 100 tCO2e, tick 1 fen), Ordos holding 10,000 t, Baotou cash."""
    mid = market_id(demo_registry, "CEA-2026")
    fund(demo_registry, rights={("ordos", mid): 10_000}, cash={"baotou": 100_000_000})
    return mid


def post_order(client: FlaskClient, auth: Auth, league: str, **body: Any) -> Any:
    return client.post("/api/v1/orders", json=body, headers=auth("league", league))


def counts(app: Flask) -> tuple[int, int]:
    with app.app_context(), new_unit_of_work(db.session_factory) as s:
        orders = s.scalar(select(func.count()).select_from(Order)) or 0
        runs = s.scalar(select(func.count()).select_from(ClearingRun)) or 0
    return orders, runs


def test_two_leagues_trade_and_everything_settles(
    demo_registry: Flask, client: FlaskClient, auth: Auth, carbon: int
) -> None:
    app = demo_registry
    rights = ledger.market_asset(carbon)
    sell = post_order(
        client,
        auth,
        "ordos",
        market_id=carbon,
        side="sell",
        quantity=1_000,
        limit_price=9_000,
        client_order_id="s-1",
    )
    assert sell.status_code == 201, sell.get_json()
    assert balance(app, "ordos", rights) == {"posted": 10_000, "held": 1_000, "available": 9_000}
    buy = post_order(
        client,
        auth,
        "baotou",
        market_id=carbon,
        side="buy",
        quantity=600,
        limit_price=9_500,
        client_order_id="b-1",
    )
    assert buy.status_code == 201, buy.get_json()
    assert balance(app, "baotou", ledger.CASH)["held"] == 600 * 9_500

    run = client.post(f"/api/v1/markets/{carbon}/clearing-runs", json={}, headers=auth("regulator"))
    assert run.status_code == 201, run.get_json()
    result = run.get_json()
    # Every price in [9000, 9500] trades 600; the surplus is on the sell side at each,
    # so market pressure gives the lowest price.
    assert result["status"] == "completed"
    assert result["volume"] == 600
    assert result["price"] == 9_000
    assert result["order_count"] == 2

    assert balance(app, "baotou", rights) == {"posted": 600, "held": 0, "available": 600}
    assert balance(app, "baotou", ledger.CASH) == {
        "posted": 100_000_000 - 600 * 9_000,
        "held": 0,
        "available": 100_000_000 - 600 * 9_000,
    }
    assert balance(app, "ordos", rights) == {"posted": 9_400, "held": 400, "available": 9_000}
    assert balance(app, "ordos", ledger.CASH)["available"] == 600 * 9_000

    seller = client.get(
        f"/api/v1/orders/{sell.get_json()['id']}", headers=auth("league", "ordos")
    ).get_json()
    assert seller["status"] == "partially_filled"
    assert seller["filled_quantity"] == 600
    assert seller["fills"] == [
        {"run_id": result["id"], "quantity": 600, "price": 9_000, "amount": 5_400_000}
    ]
    buyer = client.get(
        f"/api/v1/orders/{buy.get_json()['id']}", headers=auth("league", "baotou")
    ).get_json()
    assert buyer["status"] == "filled"
    verify_ok(app)

    replay = client.post(f"/api/v1/clearing-runs/{result['id']}/replay", headers=auth("auditor"))
    assert replay.status_code == 200, replay.get_json()
    assert replay.get_json()["ok"] is True

    public = client.get(f"/api/v1/clearing-runs/{result['id']}").get_json()
    assert public["price"] == 9_000
    assert public["curves"] is None  # sealed bids: the curves are the regulator's
    full = client.get(f"/api/v1/clearing-runs/{result['id']}", headers=auth("regulator")).get_json()
    assert full["curves"]["prices"] == [9_000, 9_500]
    assert full["curves"]["demand"] == [600, 600]
    assert full["curves"]["supply"] == [1_000, 1_000]
    history = client.get(f"/api/v1/markets/{carbon}/clearing-runs").get_json()
    assert [r["id"] for r in history] == [result["id"]]


def test_cancel_releases_the_rest_of_the_hold(
    demo_registry: Flask, client: FlaskClient, auth: Auth, carbon: int
) -> None:
    app = demo_registry
    rights = ledger.market_asset(carbon)
    order = post_order(
        client,
        auth,
        "ordos",
        market_id=carbon,
        side="sell",
        quantity=500,
        limit_price=9_000,
        client_order_id="c-1",
    ).get_json()
    assert balance(app, "ordos", rights)["held"] == 500
    other = client.delete(f"/api/v1/orders/{order['id']}", headers=auth("league", "baotou"))
    assert other.status_code == 404
    assert balance(app, "ordos", rights)["held"] == 500
    cancelled = client.delete(f"/api/v1/orders/{order['id']}", headers=auth("league", "ordos"))
    assert cancelled.status_code == 200
    assert cancelled.get_json()["status"] == "cancelled"
    assert balance(app, "ordos", rights) == {"posted": 10_000, "held": 0, "available": 10_000}
    again = client.delete(f"/api/v1/orders/{order['id']}", headers=auth("league", "ordos"))
    assert again.status_code == 409
    assert again.get_json()["error"] == "order_not_open"
    verify_ok(app)


def test_cancelling_a_filled_order_is_refused(
    demo_registry: Flask, client: FlaskClient, auth: Auth, carbon: int
) -> None:
    post_order(
        client,
        auth,
        "ordos",
        market_id=carbon,
        side="sell",
        quantity=100,
        limit_price=9_000,
        client_order_id="f-s",
    )
    buy = post_order(
        client,
        auth,
        "baotou",
        market_id=carbon,
        side="buy",
        quantity=100,
        limit_price=9_000,
        client_order_id="f-b",
    ).get_json()
    clear(demo_registry, carbon)
    response = client.delete(f"/api/v1/orders/{buy['id']}", headers=auth("league", "baotou"))
    assert response.status_code == 409
    assert "filled" in response.get_json()["message"]


def test_same_client_order_id_returns_the_first_order(
    demo_registry: Flask, client: FlaskClient, auth: Auth, carbon: int
) -> None:
    body = {
        "market_id": carbon,
        "side": "sell",
        "quantity": 200,
        "limit_price": 9_100,
        "client_order_id": "same",
    }
    first = post_order(client, auth, "ordos", **body)
    second = post_order(client, auth, "ordos", **{**body, "quantity": 300})
    assert first.status_code == 201
    assert second.status_code == 200
    assert second.get_json()["id"] == first.get_json()["id"]
    assert second.get_json()["quantity"] == 200
    assert balance(demo_registry, "ordos", ledger.market_asset(carbon))["held"] == 200
    assert counts(demo_registry)[0] == 1


def test_aliases_market_and_price_are_accepted(
    demo_registry: Flask, client: FlaskClient, auth: Auth, carbon: int
) -> None:
    response = post_order(
        client,
        auth,
        "ordos",
        market=carbon,
        side="sell",
        quantity=100,
        price=9_000,
        client_order_id="alias",
    )
    assert response.status_code == 201, response.get_json()
    assert response.get_json()["limit_price"] == 9_000


BAD_ORDERS = [
    ({"market_id": 999_999}, 404, "market_id"),
    ({"side": "hold"}, 422, "side"),
    ({"quantity": 0}, 422, "quantity"),
    ({"quantity": -100}, 422, "quantity"),
    ({"quantity": 150}, 422, "quantity"),  # lot is 100
    ({"quantity": "100"}, 422, "quantity"),
    ({"quantity": 1.0e2}, 422, "quantity"),
    ({"quantity": 2**63}, 422, "quantity"),
    ({"limit_price": 1_000}, 422, "limit_price"),  # below the floor 2,000
    ({"limit_price": 40_000}, 422, "limit_price"),  # above the ceiling 30,000
    ({"limit_price": None}, 422, "limit_price"),
    ({"client_order_id": ""}, 422, "client_order_id"),
    ({"client_order_id": "x" * 65}, 422, "client_order_id"),
    ({"quantity": 20_000}, 409, "quantity"),  # more rights than Ordos holds (409 everywhere)
    ({"validity": "forever"}, 422, "validity"),
    ({"unknown": 1}, 422, "unknown"),
]


@pytest.mark.parametrize(("change", "status", "field"), BAD_ORDERS)
def test_bad_sell_orders_are_refused_and_change_nothing(
    demo_registry: Flask,
    client: FlaskClient,
    auth: Auth,
    carbon: int,
    change: dict[str, Any],
    status: int,
    field: str,
) -> None:
    body = {
        "market_id": carbon,
        "side": "sell",
        "quantity": 100,
        "limit_price": 9_000,
        "client_order_id": "bad-1",
        **change,
    }
    before = balance(demo_registry, "ordos", ledger.market_asset(carbon))
    response = post_order(client, auth, "ordos", **body)
    assert response.status_code == status, response.get_json()
    payload = response.get_json()
    assert payload["code"] == status
    assert field in payload["errors"]["json"], payload
    assert counts(demo_registry) == (0, 0)
    assert balance(demo_registry, "ordos", ledger.market_asset(carbon)) == before


def test_buy_without_enough_cash_is_refused(
    demo_registry: Flask, client: FlaskClient, auth: Auth, carbon: int
) -> None:
    response = post_order(
        client,
        auth,
        "wuhai",
        market_id=carbon,
        side="buy",
        quantity=100,
        limit_price=9_000,
        client_order_id="poor",
    )
    assert response.status_code == 409  # insufficient funds: one status everywhere
    assert response.get_json()["error"] == "insufficient_funds"
    assert response.get_json()["details"] == {"available": 0, "requested": 900_000}
    assert "limit_price" in response.get_json()["errors"]["json"]
    assert counts(demo_registry) == (0, 0)


def test_a_league_outside_the_market_may_not_trade(
    demo_registry: Flask, client: FlaskClient, auth: Auth
) -> None:
    yellow = market_id(demo_registry, "YR-WATER-2027")
    response = post_order(
        client,
        auth,
        "hulunbuir",
        market_id=yellow,
        side="buy",
        quantity=1_000,
        limit_price=100,
        client_order_id="far",
    )
    assert response.status_code == 422
    assert response.get_json()["error"] == "not_eligible"


def test_a_league_cannot_trade_for_another(
    demo_registry: Flask, client: FlaskClient, auth: Auth, carbon: int
) -> None:
    body = {
        "market_id": carbon,
        "side": "sell",
        "quantity": 100,
        "limit_price": 9_000,
        "client_order_id": "spoof",
        "league": "ordos",
    }
    response = client.post("/api/v1/orders", json=body, headers=auth("league", "baotou"))
    assert response.status_code == 403
    assert counts(demo_registry) == (0, 0)


def test_orders_are_private_to_their_league(
    demo_registry: Flask, client: FlaskClient, auth: Auth, carbon: int
) -> None:
    order = post_order(
        client,
        auth,
        "ordos",
        market_id=carbon,
        side="sell",
        quantity=100,
        limit_price=9_000,
        client_order_id="p-1",
    ).get_json()
    assert (
        client.get(f"/api/v1/orders/{order['id']}", headers=auth("league", "baotou")).status_code
        == 404
    )
    own = client.get("/api/v1/orders", headers=auth("league", "baotou")).get_json()
    assert own["total"] == 0
    regulator = client.get("/api/v1/orders", headers=auth("regulator")).get_json()
    assert regulator["total"] == 1
    # Sealed bids: the auditor sees the order only after it has left the open book.
    auditor = client.get("/api/v1/orders", headers=auth("auditor")).get_json()
    assert auditor["total"] == 0
    assert client.get(f"/api/v1/orders/{order['id']}", headers=auth("auditor")).status_code == 404
    assert client.get("/api/v1/orders").status_code == 401


def test_one_run_per_window(
    demo_registry: Flask, client: FlaskClient, auth: Auth, carbon: int
) -> None:
    post_order(
        client,
        auth,
        "ordos",
        market_id=carbon,
        side="sell",
        quantity=100,
        limit_price=9_000,
        client_order_id="w-s",
    )
    post_order(
        client,
        auth,
        "baotou",
        market_id=carbon,
        side="buy",
        quantity=100,
        limit_price=9_000,
        client_order_id="w-b",
    )
    schedule = client.get(f"/api/v1/markets/{carbon}").get_json()["clearing_schedule"]
    past = latest_window(schedule, datetime.now(UTC))
    assert past is not None
    first = clear(demo_registry, carbon, past)
    second = clear(demo_registry, carbon, past)
    assert first.created and not second.created
    assert second.run_id == first.run_id
    window = past.isoformat()
    via_api = client.post(
        f"/api/v1/markets/{carbon}/clearing-runs",
        json={"window": window},
        headers=auth("regulator"),
    )
    assert via_api.status_code == 200
    assert via_api.get_json()["id"] == first.run_id
    assert counts(demo_registry)[1] == 1
    verify_ok(demo_registry)


def test_single_run_orders_expire_and_release_their_hold(
    demo_registry: Flask, client: FlaskClient, auth: Auth, carbon: int
) -> None:
    order = post_order(
        client,
        auth,
        "baotou",
        market_id=carbon,
        side="buy",
        quantity=100,
        limit_price=5_000,
        client_order_id="ioc",
        validity="run",
    ).get_json()
    assert balance(demo_registry, "baotou", ledger.CASH)["held"] == 500_000
    clear(demo_registry, carbon)
    after = client.get(f"/api/v1/orders/{order['id']}", headers=auth("league", "baotou"))
    assert after.get_json()["status"] == "expired"
    assert balance(demo_registry, "baotou", ledger.CASH) == {
        "posted": 100_000_000,
        "held": 0,
        "available": 100_000_000,
    }
    verify_ok(demo_registry)


def test_a_failing_run_leaves_nothing_but_its_failure(
    demo_registry: Flask,
    client: FlaskClient,
    auth: Auth,
    carbon: int,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    post_order(
        client,
        auth,
        "ordos",
        market_id=carbon,
        side="sell",
        quantity=100,
        limit_price=9_000,
        client_order_id="x-s",
    )
    post_order(
        client,
        auth,
        "baotou",
        market_id=carbon,
        side="buy",
        quantity=100,
        limit_price=9_000,
        client_order_id="x-b",
    )
    before = (
        balance(demo_registry, "ordos", ledger.market_asset(carbon)),
        balance(demo_registry, "baotou", ledger.CASH),
    )

    import exchange.mechanisms.call_auction.run as clearing_module

    def broken(*_args: Any, **_kwargs: Any) -> None:
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(clearing_module, "_update_orders", broken)
    outcome = clear(demo_registry, carbon)
    run = client.get(f"/api/v1/clearing-runs/{outcome.run_id}").get_json()
    assert run["status"] == "failed"
    assert "disk on fire" in run["failure_reason"]
    assert run["volume"] == 0
    after = (
        balance(demo_registry, "ordos", ledger.market_asset(carbon)),
        balance(demo_registry, "baotou", ledger.CASH),
    )
    assert after == before
    orders = client.get("/api/v1/orders", headers=auth("regulator")).get_json()["items"]
    assert {o["status"] for o in orders} == {"open"}
    verify_ok(demo_registry)
    replay = client.post(
        f"/api/v1/clearing-runs/{outcome.run_id}/replay", headers=auth("regulator")
    )
    assert replay.get_json()["ok"] is True


def test_zonal_market_books_congestion_rent(
    demo_registry: Flask, client: FlaskClient, auth: Auth
) -> None:
    """Alxa sells cheap, Hohhot buys dear; water reaches Hohhot only through the limits."""
    app = demo_registry
    yellow = market_id(app, "YR-WATER-2027")
    fund(app, rights={("alxa", yellow): 50_000_000}, cash={"hohhot": 10_000_000_000})
    sell = post_order(
        client,
        auth,
        "alxa",
        market_id=yellow,
        side="sell",
        quantity=20_000_000,
        limit_price=60,
        client_order_id="z-s",
    )
    buy = post_order(
        client,
        auth,
        "hohhot",
        market_id=yellow,
        side="buy",
        quantity=20_000_000,
        limit_price=150,
        client_order_id="z-b",
    )
    assert sell.status_code == 201 and buy.status_code == 201
    outcome = clear(app, yellow)
    run = client.get(f"/api/v1/clearing-runs/{outcome.run_id}").get_json()
    assert run["status"] == "completed", run
    # Alxa -> Wuhai -> Bayannur -> Baotou -> Hohhot: the narrowest link, Alxa -> Wuhai,
    # carries 2,000,000 m3 per run.
    assert run["volume"] == 2_000_000
    prices = run["zone_prices"]
    assert prices["alxa"] <= prices["hohhot"]
    rent = (prices["hohhot"] - prices["alxa"]) * 2_000_000
    with app.app_context(), new_unit_of_work(db.session_factory) as s:
        congestion = ledger.balance_of(s, ledger.congestion_account(ledger.market_asset(yellow)))
    assert congestion == rent
    verify_ok(app)
    replay = client.post(f"/api/v1/clearing-runs/{outcome.run_id}/replay", headers=auth("auditor"))
    assert replay.get_json()["ok"] is True, replay.get_json()


def test_a_batch_enters_every_order_or_none(
    demo_registry: Flask, client: FlaskClient, auth: Auth, carbon: int
) -> None:
    app = demo_registry
    rights = ledger.market_asset(carbon)
    batch = {
        "orders": [
            {
                "market_id": carbon,
                "side": "sell",
                "quantity": 100 * (n + 1),
                "limit_price": 9_000,
                "client_order_id": f"batch-{n}",
            }
            for n in range(5)
        ]
    }
    first = client.post("/api/v1/orders/batch", json=batch, headers=auth("league", "ordos"))
    assert first.status_code == 201, first.get_json()
    body = first.get_json()
    assert (body["created"], body["repeated"]) == (5, 0)
    assert [o["quantity"] for o in body["orders"]] == [100, 200, 300, 400, 500]
    assert all(o["status"] == "open" and o["league"] == "ordos" for o in body["orders"])
    assert balance(app, "ordos", rights)["held"] == 1_500
    # the same batch again: the same orders, nothing new held
    again = client.post("/api/v1/orders/batch", json=batch, headers=auth("league", "ordos"))
    assert again.status_code == 200
    assert [o["id"] for o in again.get_json()["orders"]] == [o["id"] for o in body["orders"]]
    assert balance(app, "ordos", rights)["held"] == 1_500
    verify_ok(app)


@pytest.mark.parametrize(
    ("orders", "where"),
    [
        ([{"limit_price": 9_001}], "1"),  # off the tick? tick is 1: use the lot instead
        ([{"quantity": 150}], "1"),
        ([{"quantity": 20_000}], None),  # more than Ordos holds: the whole batch fails
        ([{"client_order_id": "batch-ok-0"}], "1"),  # the same key twice in one batch
        ([{"market_id": 999_999}], "1"),
    ],
)
def test_a_bad_order_refuses_the_whole_batch(
    demo_registry: Flask,
    client: FlaskClient,
    auth: Auth,
    carbon: int,
    orders: list[dict[str, Any]],
    where: str | None,
) -> None:
    good = {
        "market_id": carbon,
        "side": "sell",
        "quantity": 100,
        "limit_price": 9_000,
        "client_order_id": "batch-ok-0",
    }
    bad = {**good, "client_order_id": "batch-bad-1", **orders[0]}
    if orders[0] == {"limit_price": 9_001}:
        bad["quantity"] = 101  # the carbon market's lot is 100
    before = balance(demo_registry, "ordos", ledger.market_asset(carbon))
    response = client.post(
        "/api/v1/orders/batch", json={"orders": [good, bad]}, headers=auth("league", "ordos")
    )
    # a rule broken: 422; not enough rights for the whole batch: 409, as everywhere
    expected = 409 if where is None else 422  # where None: the funds case
    assert response.status_code == expected, response.get_json()
    payload = response.get_json()
    assert "orders" in payload["errors"]["json"]
    if where is not None:
        assert where in payload["details"]["orders"]
    assert counts(demo_registry) == (0, 0)
    assert balance(demo_registry, "ordos", ledger.market_asset(carbon)) == before
