"""Bundle orders through the API: validation, worst-case holds, cancel, sealed visibility."""

from __future__ import annotations

from datetime import timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

import ledger
from exchange.extensions import db
from exchange.models.bundles import Bundle
from exchange.uow import new_unit_of_work
from tests.exchange.bundle_helpers import JOINT_WINDOW, Auth, leg, markets, post_bundle
from tests.exchange.trading_helpers import balance, market_id, verify_ok


@pytest.fixture
def pair(demo_registry: Flask) -> tuple[int, int]:
    return markets(demo_registry)


def _count(app: Flask) -> int:
    with app.app_context(), new_unit_of_work(db.session_factory) as s:
        return s.scalar(select(func.count()).select_from(Bundle)) or 0


def test_buy_bundle_holds_its_worst_case_and_cancel_releases_it(
    demo_registry: Flask, client: FlaskClient, auth: Auth, pair: tuple[int, int]
) -> None:
    app = demo_registry
    carbon, energy = pair
    before = balance(app, "baotou", ledger.CASH)
    body = {
        "legs": [leg(carbon, "buy", 200, 9_000), leg(energy, "buy", 20, 20_000)],
        "max_total": 2_000_000,  # less than 200 x 9000 + 20 x 20000 = 2,200,000
        "client_order_id": "bb-1",
    }
    resp = post_bundle(client, auth, "baotou", **body)
    assert resp.status_code == 201, resp.get_json()
    b = resp.get_json()
    assert b["status"] == "open" and b["side"] == "buy" and b["limit_total"] == 2_000_000
    assert [(x["market_id"], x["side"], x["quantity"]) for x in b["legs"]] == sorted(
        [(carbon, "buy", 200), (energy, "buy", 20)]
    )
    assert b["holds"] == [
        {
            "id": b["holds"][0]["id"],
            "asset": ledger.CASH,
            "amount": 2_000_000,
            "remaining": 2_000_000,
        }
    ]
    assert balance(app, "baotou", ledger.CASH)["held"] == before["held"] + 2_000_000
    again = post_bundle(client, auth, "baotou", **body)
    assert again.status_code == 200 and again.get_json()["id"] == b["id"]
    assert _count(app) == 1

    gone = client.delete(f"/api/v1/bundles/{b['id']}", headers=auth("league", "baotou"))
    assert gone.status_code == 200, gone.get_json()
    assert gone.get_json()["status"] == "cancelled"
    assert gone.get_json()["holds"][0]["remaining"] == 0
    assert balance(app, "baotou", ledger.CASH) == before
    twice = client.delete(f"/api/v1/bundles/{b['id']}", headers=auth("league", "baotou"))
    assert twice.status_code == 409
    verify_ok(app)


def test_sell_bundle_holds_every_legs_rights(
    demo_registry: Flask, client: FlaskClient, auth: Auth, pair: tuple[int, int]
) -> None:
    app = demo_registry
    carbon, energy = pair
    resp = post_bundle(
        client,
        auth,
        "ordos",
        legs=[leg(carbon, "sell", 300), leg(energy, "sell", 50)],
        min_total=100_000,
        client_order_id="sb-1",
    )
    assert resp.status_code == 201, resp.get_json()
    assert balance(app, "ordos", ledger.market_asset(carbon))["held"] == 300
    assert balance(app, "ordos", ledger.market_asset(energy))["held"] == 50
    # the regulator may cancel too
    rid = resp.get_json()["id"]
    gone = client.delete(f"/api/v1/bundles/{rid}", headers=auth("regulator"))
    assert gone.status_code == 200
    assert balance(app, "ordos", ledger.market_asset(carbon))["held"] == 0


def test_a_live_bundle_is_sealed(
    demo_registry: Flask, client: FlaskClient, auth: Auth, pair: tuple[int, int]
) -> None:
    carbon, energy = pair
    resp = post_bundle(
        client,
        auth,
        "baotou",
        legs=[leg(carbon, "buy", 100), leg(energy, "buy", 10)],
        max_total=1_000_000,
        client_order_id="seal",
    )
    bid = resp.get_json()["id"]
    url = f"/api/v1/bundles/{bid}"
    assert client.get(url, headers=auth("league", "baotou")).status_code == 200
    assert client.get(url, headers=auth("regulator")).status_code == 200
    assert client.get(url, headers=auth("league", "ordos")).status_code == 404
    assert client.get(url, headers=auth("auditor")).status_code == 404
    assert client.get(url).status_code in (401, 404)
    assert client.delete(url, headers=auth("league", "ordos")).status_code == 404
    own = client.get("/api/v1/bundles", headers=auth("league", "baotou")).get_json()
    assert [b["id"] for b in own["items"]] == [bid]
    other = client.get("/api/v1/bundles", headers=auth("league", "ordos")).get_json()
    assert other["items"] == [] and other["total"] == 0
    auditor = client.get("/api/v1/bundles", headers=auth("auditor")).get_json()
    assert auditor["items"] == []
    client.delete(url, headers=auth("league", "baotou"))
    auditor = client.get("/api/v1/bundles", headers=auth("auditor")).get_json()
    assert [b["id"] for b in auditor["items"]] == [bid]


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"legs": "mixed"}, "legs"),
        ({"legs": "same_market"}, "legs"),
        ({"legs": "off_lot"}, "legs.0.quantity"),
        ({"legs": "off_tick"}, "legs.1.limit_price"),
        ({"window": "past"}, "window"),
        ({"window": "off_schedule"}, "window"),
        ({"min_total": 5}, "min_total"),
        ({"max_total": None}, "max_total"),
        ({"legs": "zonal"}, "legs.1.market_id"),
        ({"legs": "continuous"}, "legs.1.market_id"),
        ({"legs": "unknown"}, "legs.1.market_id"),
    ],
)
def test_bad_bundles_are_refused_naming_the_field(
    demo_registry: Flask,
    client: FlaskClient,
    auth: Auth,
    pair: tuple[int, int],
    change: dict[str, object],
    field: str,
) -> None:
    app = demo_registry
    carbon, energy = pair
    legs = {
        "mixed": [leg(carbon, "buy", 100), leg(energy, "sell", 10)],
        "same_market": [leg(carbon, "buy", 100), leg(carbon, "buy", 200)],
        "off_lot": [leg(carbon, "buy", 150), leg(energy, "buy", 10)],
        "off_tick": [leg(carbon, "buy", 100, 9_000), leg(energy, "buy", 10, 20_050)],
        "zonal": [leg(carbon, "buy", 100), leg(market_id(app, "YR-WATER-2027"), "buy", 1_000)],
        "continuous": [leg(carbon, "buy", 100), leg(market_id(app, "CEA-2026-L"), "buy", 100)],
        "unknown": [leg(carbon, "buy", 100), leg(999_999, "buy", 100)],
    }
    body: dict[str, object] = {
        "legs": [leg(carbon, "buy", 100), leg(energy, "buy", 10)],
        "max_total": 1_000_000,
        "client_order_id": "bad",
    }
    for key, value in change.items():
        if key == "legs":
            body["legs"] = legs[str(value)]
        elif key == "window":
            w = JOINT_WINDOW - timedelta(days=365 * 3) if value == "past" else JOINT_WINDOW
            body["window"] = (w + timedelta(minutes=1 if value != "past" else 0)).isoformat()
        elif value is None:
            body.pop(key)
        else:
            body[key] = value
    before = balance(app, "baotou", ledger.CASH)
    resp = post_bundle(client, auth, "baotou", **body)
    assert resp.status_code == 422, resp.get_json()
    assert field in str(resp.get_json()), resp.get_json()
    assert _count(app) == 0
    assert balance(app, "baotou", ledger.CASH) == before


def test_an_unfunded_bundle_is_refused_with_409(
    demo_registry: Flask, client: FlaskClient, auth: Auth, pair: tuple[int, int]
) -> None:
    carbon, energy = pair
    resp = post_bundle(
        client,
        auth,
        "ordos",
        legs=[leg(carbon, "buy", 100), leg(energy, "buy", 10)],
        max_total=10**9,
        client_order_id="poor",
    )
    assert resp.status_code == 409, resp.get_json()
    assert _count(demo_registry) == 0


def test_legs_may_name_their_market_by_code(
    demo_registry: Flask, client: FlaskClient, auth: Auth, pair: tuple[int, int]
) -> None:
    carbon, energy = pair
    by_code = [
        {"market": "CEA-2026", "side": "buy", "quantity": 100},
        {"market": "ENERGY-2027", "side": "buy", "quantity": 10},
    ]
    made = post_bundle(client, auth, "baotou", legs=by_code, max_total=1_000_000,
                       client_order_id="by-code")  # fmt: skip
    assert made.status_code == 201, made.get_json()
    assert [x["market_id"] for x in made.get_json()["legs"]] == [carbon, energy]
    unknown = [{"market": "NO-SUCH", "side": "buy", "quantity": 100}]
    both = [{"market": "CEA-2026", "market_id": carbon, "side": "buy", "quantity": 100}]
    for legs, field in ((unknown, "legs.0.market"), (both, "market_id")):
        resp = post_bundle(client, auth, "baotou", legs=legs, max_total=1_000_000,
                           client_order_id="bad-code")  # fmt: skip
        assert resp.status_code == 422 and field in str(resp.get_json()), resp.get_json()
    assert _count(demo_registry) == 1
