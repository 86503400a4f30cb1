"""Stability rules of call auctions in the exchange: cancelled runs, reserves, replay, API."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

import ledger
from exchange.extensions import db
from exchange.models import ParticipantKind, Region
from exchange.services.participants import RegisterParticipant, register_participant
from exchange.services.replay import replay_run
from exchange.uow import new_unit_of_work
from tests.exchange.trading_helpers import WINDOW, balance, clear, fund, market_id, verify_ok

Auth = Callable[..., dict[str, str]]
RESERVE = "imreserve"


@pytest.fixture
def carbon(demo_registry: Flask) -> int:
    """CEA-2026 (lot 100, tick 1 fen); Ordos holds 10,000 t, Baotou cash, a reserve."""
    mid = market_id(demo_registry, "CEA-2026")
    with demo_registry.app_context(), new_unit_of_work(db.session_factory) as s, s.begin():
        register_participant(
            s,
            RegisterParticipant(
                RESERVE, "储备", "Reserve", ParticipantKind.RESERVE, Region.WEST, None, (), ()
            ),
        )
    fund(
        demo_registry,
        rights={("ordos", mid): 10_000, (RESERVE, mid): 1_000},
        cash={"baotou": 100_000_000, RESERVE: 10_000_000},
    )
    return mid


def _order(
    client: FlaskClient,
    auth: Auth,
    league: str,
    mid: int,
    side: str,
    qty: int,
    price: int,
    cid: str,
    validity: str | None = None,
) -> int:
    body: dict[str, Any] = {
        "market_id": mid,
        "side": side,
        "quantity": qty,
        "limit_price": price,
        "client_order_id": cid,
    }
    if validity:
        body["validity"] = validity
    r = client.post("/api/v1/orders", json=body, headers=auth("league", league))
    assert r.status_code == 201, r.get_json()
    return int(r.get_json()["id"])


def _rules(client: FlaskClient, auth: Auth, mid: int, **body: Any) -> Any:
    return client.put(f"/api/v1/markets/{mid}/stability", json=body, headers=auth("regulator"))


def _run(app: Flask, client: FlaskClient, auth: Auth, mid: int, n: int) -> dict[str, Any]:
    outcome = clear(app, mid, WINDOW + timedelta(hours=n))
    r = client.get(f"/api/v1/clearing-runs/{outcome.run_id}", headers=auth("regulator"))
    assert r.status_code == 200, r.get_json()
    run: dict[str, Any] = r.get_json()
    with app.app_context(), new_unit_of_work(db.session_factory) as s:
        report = replay_run(s, outcome.run_id)
    assert report.ok, report.differences
    return run


def test_cover_exactly_at_the_share_passes_one_lot_less_cancels(
    demo_registry: Flask, client: FlaskClient, auth: Auth, carbon: int
) -> None:
    app, rights = demo_registry, ledger.market_asset(carbon)
    assert _rules(client, auth, carbon, min_cover_percent=100).status_code == 200
    _order(client, auth, "ordos", carbon, "sell", 1_000, 9_000, "s-1")
    _order(client, auth, "baotou", carbon, "buy", 900, 9_500, "b-1")
    run = _run(app, client, auth, carbon, 0)
    assert run["status"] == "cancelled" and run["volume"] == 0 and run["price"] is None
    assert run["cancellation"]["reason"] == "insufficient_cover"
    assert run["cancellation"]["bid_volume"] == 900
    assert run["cancellation"]["offered_volume"] == 1_000
    assert run["cancellation"]["cover_percent"] == 90
    # nothing settled; the good-till-cancelled orders and their holds stay
    assert balance(app, "ordos", rights) == {"posted": 10_000, "held": 1_000, "available": 9_000}
    assert balance(app, "baotou", ledger.CASH)["held"] == 900 * 9_500
    page = client.get(f"/markets/CEA-2026/runs/{run['id']}?lang=en")
    assert b"covered 90 % of the 1000 units offered" in page.data
    assert "已取消".encode() in client.get(f"/markets/CEA-2026/runs/{run['id']}?lang=zh").data
    # one lot more: cover exactly 100 % passes and the book trades
    _order(client, auth, "baotou", carbon, "buy", 100, 9_500, "b-2")
    run = _run(app, client, auth, carbon, 1)
    assert run["status"] == "completed" and run["volume"] == 1_000
    assert run["cancellation"] is None
    verify_ok(app)


def test_single_run_orders_expire_when_the_run_is_cancelled(
    demo_registry: Flask, client: FlaskClient, auth: Auth, carbon: int
) -> None:
    app = demo_registry
    assert _rules(client, auth, carbon, min_cover_percent=100).status_code == 200
    _order(client, auth, "ordos", carbon, "sell", 1_000, 9_000, "s-1")
    once = _order(client, auth, "baotou", carbon, "buy", 500, 9_500, "b-1", "run")
    assert _run(app, client, auth, carbon, 0)["status"] == "cancelled"
    order = client.get(f"/api/v1/orders/{once}", headers=auth("league", "baotou")).get_json()
    assert order["status"] == "expired"
    assert balance(app, "baotou", ledger.CASH)["held"] == 0
    assert balance(app, "ordos", ledger.market_asset(carbon))["held"] == 1_000
    verify_ok(app)


def test_price_at_the_share_passes_one_tick_below_cancels(
    demo_registry: Flask, client: FlaskClient, auth: Auth, carbon: int
) -> None:
    app = demo_registry
    r = _rules(client, auth, carbon, min_price_percent=60, reference_price=10_000)
    assert r.status_code == 200, r.get_json()
    assert r.get_json()["reference_price"] == 10_000
    # sell 100 @ 5,999 and buy 100 @ 5,999: the price is 5,999 < 60 % of 10,000
    sell = _order(client, auth, "ordos", carbon, "sell", 100, 5_999, "s-1")
    buy = _order(client, auth, "baotou", carbon, "buy", 100, 5_999, "b-1")
    run = _run(app, client, auth, carbon, 0)
    assert run["status"] == "cancelled"
    c = run["cancellation"]
    assert (c["reason"], c["price"], c["reference_price"], c["min_price_percent"]) == (
        "price_below_reference",
        5_999,
        10_000,
        60,
    )
    for oid, league in ((sell, "ordos"), (buy, "baotou")):  # still live after the cancel
        r = client.delete(f"/api/v1/orders/{oid}", headers=auth("league", league))
        assert r.status_code == 200, r.get_json()
    _order(client, auth, "baotou", carbon, "buy", 100, 6_000, "b-2")
    _order(client, auth, "ordos", carbon, "sell", 100, 6_000, "s-2")
    run = _run(app, client, auth, carbon, 1)
    assert run["status"] == "completed" and run["price"] == 6_000
    verify_ok(app)


def test_ccr_released_above_the_trigger_from_the_reserve_account(
    demo_registry: Flask, client: FlaskClient, auth: Auth, carbon: int
) -> None:
    app, rights = demo_registry, ledger.market_asset(carbon)
    r = _rules(client, auth, carbon, ccr_trigger_price=9_000, ccr_quantity=300, reserve=RESERVE)
    assert r.status_code == 200, r.get_json()
    _order(client, auth, "ordos", carbon, "sell", 500, 8_000, "s-1")
    _order(client, auth, "baotou", carbon, "buy", 1_000, 9_001, "b-1")
    run = _run(app, client, auth, carbon, 0)
    assert run["status"] == "completed"
    assert run["reserves"]["ccr_released"] == 300 and run["reserves"]["ecr_withheld"] == 0
    assert run["volume"] == 800 and run["price"] >= 9_000
    assert balance(app, RESERVE, rights)["posted"] == 700
    assert balance(app, RESERVE, ledger.CASH)["posted"] == 10_000_000 + 300 * run["price"]
    assert balance(app, "baotou", rights)["posted"] == 800
    page = client.get(f"/markets/CEA-2026/runs/{run['id']}?lang=en")
    assert b"cost containment reserve released 300 units" in page.data
    verify_ok(app)


def test_ccr_not_released_at_the_trigger(
    demo_registry: Flask, client: FlaskClient, auth: Auth, carbon: int
) -> None:
    app = demo_registry
    _rules(client, auth, carbon, ccr_trigger_price=9_000, ccr_quantity=300, reserve=RESERVE)
    _order(client, auth, "ordos", carbon, "sell", 500, 8_000, "s-1")
    _order(client, auth, "baotou", carbon, "buy", 1_000, 9_000, "b-1")
    run = _run(app, client, auth, carbon, 0)
    assert run["price"] == 9_000 and run["reserves"]["ccr_released"] == 0
    assert balance(app, RESERVE, ledger.market_asset(carbon))["posted"] == 1_000


def test_ecr_withholds_below_the_trigger_and_retires(
    demo_registry: Flask, client: FlaskClient, auth: Auth, carbon: int
) -> None:
    app, rights = demo_registry, ledger.market_asset(carbon)
    r = _rules(client, auth, carbon, ecr_trigger_price=3_000, ecr_quantity=200, reserve=RESERVE)
    assert r.status_code == 200, r.get_json()
    _order(client, auth, "ordos", carbon, "sell", 1_000, 3_000, "s-1")
    _order(client, auth, "baotou", carbon, "buy", 500, 9_000, "b-1")
    run = _run(app, client, auth, carbon, 0)  # at the trigger: nothing withheld
    assert run["price"] == 3_000 and run["reserves"]["ecr_withheld"] == 0
    _order(client, auth, "ordos", carbon, "sell", 500, 2_999, "s-2")
    _order(client, auth, "baotou", carbon, "buy", 100, 9_000, "b-2")
    run = _run(app, client, auth, carbon, 1)  # one tick below: 200 withheld
    assert run["price"] == 2_999 and run["reserves"]["ecr_withheld"] == 200
    assert run["volume"] == 300
    assert balance(app, RESERVE, rights)["posted"] == 1_000  # bought and retired at once
    assert balance(app, RESERVE, ledger.CASH)["posted"] == 10_000_000 - 200 * 2_999
    with app.app_context(), new_unit_of_work(db.session_factory) as s:
        retired = ledger.balance_of(s, ledger.retirement_account(rights))
        _, journals = ledger.list_journals(s, kind="retirement", reference=f"run:{run['id']}/")
    assert retired == 200 and len(journals) == 1
    verify_ok(app)


def test_settings_validated_and_shown(
    demo_registry: Flask, client: FlaskClient, auth: Auth, carbon: int
) -> None:
    bad = [
        ({"min_cover_percent": 0}, "min_cover_percent"),
        ({"min_price_percent": 101}, "min_price_percent"),
        ({"ccr_trigger_price": 9_000}, "ccr_quantity"),
        ({"ccr_trigger_price": 9_000, "ccr_quantity": 150, "reserve": RESERVE}, "ccr_quantity"),
        ({"ccr_trigger_price": 9_000, "ccr_quantity": 100}, "reserve"),
        ({"ccr_trigger_price": 9_000, "ccr_quantity": 100, "reserve": "ordos"}, "reserve"),
        (
            {
                "ecr_trigger_price": 9_000,
                "ecr_quantity": 100,
                "ccr_trigger_price": 9_000,
                "ccr_quantity": 100,
                "reserve": RESERVE,
            },
            "ecr_trigger_price",
        ),
        ({"min_cover_percent": "100"}, "min_cover_percent"),
        ({"surprise": 1}, "surprise"),
    ]
    for body, field in bad:
        r = _rules(client, auth, carbon, **body)
        assert r.status_code == 422, (body, r.get_json())
        assert field in str(r.get_json()), (body, r.get_json())
    assert client.get(f"/api/v1/markets/{carbon}").get_json()["min_cover_percent"] is None
    r = client.put(
        f"/api/v1/markets/{carbon}/stability",
        json={"min_cover_percent": 100},
        headers=auth("league", "ordos"),
    )
    assert r.status_code == 403
    good = {
        "min_cover_percent": 100,
        "ccr_trigger_price": 15_000,
        "ccr_quantity": 500,
        "ecr_trigger_price": 5_000,
        "ecr_quantity": 300,
        "reserve": RESERVE,
    }
    assert _rules(client, auth, carbon, **good).status_code == 200
    shown = client.get(f"/api/v1/markets/{carbon}").get_json()
    assert {k: shown[k] for k in good} == good
    page = client.get("/markets/CEA-2026?lang=en").data
    assert b"Cost containment reserve" in page and b"150.00" in page
    continuous = market_id(demo_registry, "CEA-2026-L")
    r = _rules(client, auth, continuous, min_cover_percent=100)
    assert r.status_code == 422 and "market_id" in str(r.get_json())
    new = {
        "code": "CEA-2030",
        "name_zh": "配额",
        "name_en": "CEA",
        "right_type": "carbon",
        "vintage": "2030",
        "unit": "tCO2e",
        "lot": 100,
        "tick": 1,
        "cap": 1_000_000,
        "clearing_schedule": "0 10 * * 1",
        "ecr_trigger_price": 100,
        "ecr_quantity": 50,
        "reserve": RESERVE,
    }
    r = client.post("/api/v1/markets", json=new, headers=auth("regulator"))
    assert r.status_code == 422 and "ecr_quantity" in str(r.get_json())


def test_ccr_capped_by_what_the_reserve_holds(
    demo_registry: Flask, client: FlaskClient, auth: Auth, carbon: int
) -> None:
    app, rights = demo_registry, ledger.market_asset(carbon)
    r = _rules(client, auth, carbon, ccr_trigger_price=9_000, ccr_quantity=5_000, reserve=RESERVE)
    assert r.status_code == 200, r.get_json()
    _order(client, auth, "ordos", carbon, "sell", 500, 8_000, "s-1")
    _order(client, auth, "baotou", carbon, "buy", 3_000, 9_500, "b-1")
    run = _run(app, client, auth, carbon, 0)  # the reserve holds 1,000 of its 5,000
    assert run["reserves"]["settings"]["ccr_quantity"] == 1_000
    assert run["reserves"]["ccr_released"] == 1_000 and run["volume"] == 1_500
    assert balance(app, RESERVE, rights)["posted"] == 0
    verify_ok(app)
