"""Representatives act for one enterprise with per-account rights; four eyes among them."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from exchange.extensions import db
from exchange.models import Role
from exchange.models.base import utcnow
from exchange.services import enterprises, trusted
from exchange.services.enterprises import ALLOWED, CANCEL, RECEIVE, SURRENDER, TRADE
from tests.conftest import AuthHeaders
from tests.exchange.enterprise_helpers import open_enterprise, token
from tests.exchange.trading_helpers import fund

CODE = "e-rep"


@pytest.fixture
def world(demo_registry: Flask, client: FlaskClient, auth: AuthHeaders) -> dict[str, Any]:
    open_enterprise(client, auth("league", "ordos"), auth("regulator"), CODE)
    market = next(
        m
        for m in client.get("/api/v1/markets").get_json()
        if "ordos" in {e["league"] for e in m["eligible_leagues"]}
        and not m["zonal"]
        and m.get("mechanism", "call_auction") == "call_auction"
    )
    fund(demo_registry, rights={(CODE, market["id"]): 10 * market["lot"]}, cash={CODE: 10**9})
    all_rights = ("initiate", "approve", "initiate_and_approve", "surrender_only", "read_only")
    reps = {
        rights: token(
            demo_registry, f"rep-{rights}", Role.REPRESENTATIVE, participant=CODE, rights=rights
        )
        for rights in all_rights
    }
    return {"market": market, "reps": reps}


def _order(market: dict[str, Any], ref: str) -> dict[str, Any]:
    return {
        "market_id": market["id"],
        "side": "sell",
        "quantity": market["lot"],
        "limit_price": market["price_floor"] + market["tick"],
        "client_order_id": ref,
    }


def test_an_initiator_alone_cannot_complete(client: FlaskClient, world: dict[str, Any]) -> None:
    reps, market = world["reps"], world["market"]
    pending = client.post("/api/v1/orders", headers=reps["initiate"], json=_order(market, "a"))
    assert pending.status_code == 202, pending.get_json()
    instruction = pending.get_json()
    assert instruction["status"] == "pending" and instruction["participant"] == CODE
    approve = f"/api/v1/instructions/{instruction['id']}/approve"
    # nothing entered yet: no order in the book
    orders = client.get("/api/v1/orders", headers=reps["read_only"]).get_json()
    assert orders["total"] == 0
    # the initiator cannot approve (it has no approve right), nor can read-only or surrender-only
    for rights in ("initiate", "read_only", "surrender_only"):
        assert client.post(approve, headers=reps[rights]).status_code == 403
    done = client.post(approve, headers=reps["approve"])
    assert done.status_code == 200, done.get_json()
    assert done.get_json()["status"] == "approved"
    assert done.get_json()["result"].startswith("order:")
    assert client.post(approve, headers=reps["initiate_and_approve"]).status_code == 409
    listed = client.get("/api/v1/orders", headers=reps["read_only"]).get_json()
    assert listed["total"] == 1 and listed["items"][0]["league"] == CODE


def test_the_same_user_cannot_approve_its_own(
    demo_registry: Flask, client: FlaskClient, world: dict[str, Any]
) -> None:
    # a user with both rights acts alone; with initiate only it needs someone else
    both = world["reps"]["initiate_and_approve"]
    direct = client.post("/api/v1/orders", headers=both, json=_order(world["market"], "b"))
    assert direct.status_code == 201, direct.get_json()
    assert direct.get_json()["league"] == CODE


def test_who_may_trade_at_all(
    client: FlaskClient, world: dict[str, Any], auth: AuthHeaders
) -> None:
    reps, market = world["reps"], world["market"]
    for rights in ("approve", "surrender_only", "read_only"):
        refused = client.post("/api/v1/orders", headers=reps[rights], json=_order(market, rights))
        assert refused.status_code == 403, rights
    other = client.post(
        "/api/v1/orders", headers=reps["initiate_and_approve"],
        json={**_order(market, "x"), "league": "ordos"},
    )  # fmt: skip
    assert other.status_code == 403
    # the league official sees none of its enterprise's orders (sealed bids)
    client.post("/api/v1/orders", headers=reps["initiate_and_approve"], json=_order(market, "c"))
    ordos = client.get("/api/v1/orders", headers=auth("league", "ordos")).get_json()
    assert all(o["league"] != CODE for o in ordos["items"])


def test_states_block_orders(client: FlaskClient, world: dict[str, Any], auth: AuthHeaders) -> None:
    reps, market, regulator = world["reps"], world["market"], auth("regulator")
    live = client.post("/api/v1/orders", headers=reps["initiate_and_approve"],
                       json=_order(market, "live"))  # fmt: skip
    assert live.status_code == 201
    state = f"/api/v1/participants/{CODE}/state"
    for name in ("restricted", "suspended", "closure_pending"):
        assert client.post(state, headers=regulator,
                           json={"state": name, "reason": "test"}).status_code == 200  # fmt: skip
        refused = client.post("/api/v1/orders", headers=reps["initiate_and_approve"],
                              json=_order(market, f"in-{name}"))  # fmt: skip
        assert refused.status_code == 409, name
        assert refused.get_json()["error"] == f"participant_{name}"
    # suspending cancelled the live order (nothing of a suspended account moves)
    order = client.get(f"/api/v1/orders/{live.get_json()['id']}", headers=regulator).get_json()
    assert order["status"] == "cancelled"
    # rights still held: it cannot close
    closing = client.post(state, headers=regulator, json={"state": "closed", "reason": "x"})
    assert closing.status_code == 409 and closing.get_json()["error"] == "balances_not_zero"
    reopened = client.post(state, headers=regulator, json={"state": "open", "reason": "ok"})
    assert reopened.status_code == 200
    again = client.post("/api/v1/orders", headers=reps["initiate_and_approve"],
                        json=_order(market, "again"))  # fmt: skip
    assert again.status_code == 201


def test_what_each_state_allows() -> None:
    assert ALLOWED["open"] == {TRADE, CANCEL, SURRENDER, RECEIVE}
    assert ALLOWED["restricted"] == {CANCEL, SURRENDER, RECEIVE}
    assert ALLOWED["suspended"] == set()
    assert ALLOWED["closure_pending"] == {CANCEL, SURRENDER}
    assert ALLOWED["closed"] == set() and ALLOWED["pending"] == set()
    assert not enterprises.allows("unknown", TRADE)


def test_trusted_list_counts_after_the_delay(
    demo_registry: Flask, client: FlaskClient, world: dict[str, Any]
) -> None:
    reps = world["reps"]
    path = f"/api/v1/participants/{CODE}/trusted"
    refused = client.post(path, headers=reps["initiate"], json={"counterparty": "baotou"})
    assert refused.status_code == 403
    added = client.post(path, headers=reps["initiate_and_approve"], json={"counterparty": "baotou"})
    assert added.status_code == 201, added.get_json()
    duplicate = client.post(
        path, headers=reps["initiate_and_approve"], json={"counterparty": "baotou"}
    )
    assert duplicate.status_code == 409
    listed = client.get(path, headers=reps["read_only"]).get_json()
    assert [e["counterparty"] for e in listed] == ["baotou"]
    with demo_registry.app_context():
        session = db.session
        assert not trusted.is_trusted(session, CODE, "baotou")
        later = utcnow() + timedelta(hours=24, seconds=1)
        assert trusted.is_trusted(session, CODE, "baotou", later)
        assert not trusted.is_trusted(session, CODE, "chifeng", later)
    removed = client.delete(f"{path}/baotou", headers=reps["initiate_and_approve"])
    assert removed.status_code == 200
    assert client.get(path, headers=reps["read_only"]).get_json() == []


def test_verify_stays_clean(
    demo_registry: Flask, client: FlaskClient, world: dict[str, Any], auth: AuthHeaders
) -> None:
    from exchange.services.ledger_ops import verify

    reps, market = world["reps"], world["market"]
    client.post("/api/v1/orders", headers=reps["initiate_and_approve"], json=_order(market, "v"))
    client.post(f"/api/v1/participants/{CODE}/state", headers=auth("regulator"),
                json={"state": "suspended", "reason": "verify"})  # fmt: skip
    with demo_registry.app_context():
        assert verify(db.session).ok


@pytest.mark.slow  # seeds the demo ledger and users
def test_demo_credentials_list_representatives(demo_registry: Flask, tmp_path: Any) -> None:
    import json

    from exchange.identity.demo import seed_identity
    from exchange.services.demo_enterprises import seed_demo_enterprises
    from exchange.services.demo_ledger import seed_demo_ledger
    from exchange.uow import new_unit_of_work

    path = tmp_path / "credentials.json"
    with demo_registry.app_context(), new_unit_of_work(db.session_factory) as s:
        seed_demo_ledger(s)
        assert seed_demo_enterprises(s) is not None
        seed_identity(s, path)
    users = json.loads(path.read_text(encoding="utf-8"))["users"]
    rep = users["ordos-coal-power-initiator"]
    assert rep["role"] == "representative" and rep["participant"] == "ordos-coal-power"
    assert rep["rights"] == "initiate"
    assert users["ordos-coal-power-approver"]["rights"] == "approve"
    assert {u["participant"] for u in users.values() if u["role"] == "representative"} == {
        "ordos-coal-power", "ordos-coal-chemical", "bayannur-hetao-irrigation",
        "baotou-nonferrous-smelter", "ulanqab-data-centre",
    }  # fmt: skip


def test_the_league_sees_its_enterprises_holdings_not_their_bids(
    client: FlaskClient, world: dict[str, Any], auth: AuthHeaders
) -> None:
    reps, market = world["reps"], world["market"]
    live = client.post("/api/v1/orders", headers=reps["initiate_and_approve"],
                       json=_order(market, "h"))  # fmt: skip
    assert live.status_code == 201
    path = f"/api/v1/participants/{CODE}/holdings"
    view = client.get(path, headers=auth("league", "ordos"))
    assert view.status_code == 200, view.get_json()
    body = view.get_json()
    assert body["league"] == "ordos" and body["status"] == "open"
    rights = next(b for b in body["balances"] if b["market"] == market["code"])
    assert rights["posted"] == 10 * market["lot"] and rights["held"] == market["lot"]
    assert client.get(path, headers=auth("league", "baotou")).status_code == 404
    assert client.get(path).status_code == 401
    assert client.get(path, headers=reps["read_only"]).status_code == 200
    order = f"/api/v1/orders/{live.get_json()['id']}"
    assert client.get(order, headers=auth("league", "ordos")).status_code == 404
    assert client.get(order, headers=reps["read_only"]).status_code == 200


def test_the_league_page_of_its_enterprises(
    client: FlaskClient, world: dict[str, Any], auth: AuthHeaders
) -> None:
    page = client.get("/desk/enterprises?lang=en", headers=auth("league", "ordos"))
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert "Test power plant" in text and world["market"]["code"] not in ("",)
    assert "Unified social credit code" in text
    other = client.get("/desk/enterprises?lang=en", headers=auth("league", "baotou"))
    assert "Test power plant" not in other.get_data(as_text=True)
    assert client.get("/desk/enterprises", headers=auth("regulator")).status_code == 403


def test_a_representative_reads_its_own_accounts_only(
    client: FlaskClient, world: dict[str, Any]
) -> None:
    reader = world["reps"]["read_only"]
    mine = client.get(f"/api/v1/accounts/{CODE}/balances", headers=reader)
    assert mine.status_code == 200, mine.get_json()
    assert client.get("/api/v1/accounts/ordos/balances", headers=reader).status_code == 403
    retire = {"league": CODE, "market": world["market"]["code"], "quantity": 1}
    refused = client.post("/api/v1/retirements", headers=world["reps"]["initiate_and_approve"],
                          json=retire)  # fmt: skip
    assert refused.status_code == 403  # no retiring around the four eyes and states


def test_allocations_reach_open_and_restricted_accounts_only(
    client: FlaskClient, world: dict[str, Any], auth: AuthHeaders
) -> None:
    regulator, market = auth("regulator"), world["market"]
    allocation = {"league": CODE, "market": market["code"], "quantity": market["lot"]}
    state = f"/api/v1/participants/{CODE}/state"
    for name, expected in (("open", 201), ("restricted", 201), ("suspended", 409),
                           ("closure_pending", 409)):  # fmt: skip
        if name != "open":
            changed = client.post(state, headers=regulator, json={"state": name, "reason": "t"})
            assert changed.status_code == 200
        response = client.post("/api/v1/allocations", headers=regulator, json=allocation)
        assert response.status_code == expected, (name, response.get_json())
    assert response.get_json()["error"] == "participant_closure_pending"


def test_restricted_surrenders_and_suspended_does_not(
    demo_registry: Flask, client: FlaskClient, world: dict[str, Any], auth: AuthHeaders
) -> None:
    from tests.exchange.compliance_helpers import matrix_period

    period_id = matrix_period(demo_registry, world["market"]["code"], CODE)
    reps, regulator = world["reps"], auth("regulator")
    state = f"/api/v1/participants/{CODE}/state"
    path = f"/api/v1/compliance/periods/{period_id}/surrenders"
    lot = world["market"]["lot"]

    def surrender(headers: dict[str, str], ref: str) -> Any:
        return client.post(path, headers=headers, json={"quantity": lot, "client_ref": ref})

    assert surrender(reps["read_only"], "r0").status_code == 403
    assert surrender(reps["approve"], "r0").status_code == 403
    assert client.post(state, headers=regulator,
                       json={"state": "restricted", "reason": "t"}).status_code == 200  # fmt: skip
    done = surrender(reps["surrender_only"], "r1")
    assert done.status_code == 201, done.get_json()
    assert client.post(state, headers=regulator,
                       json={"state": "suspended", "reason": "t"}).status_code == 200  # fmt: skip
    refused = surrender(reps["surrender_only"], "r2")
    assert refused.status_code == 409 and refused.get_json()["error"] == "participant_suspended"
