"""An enterprise's representatives enter bundles as they enter orders (issue 20 item 5)."""

from __future__ import annotations

from flask import Flask
from flask.testing import FlaskClient

import ledger
from exchange.models import Role
from tests.conftest import AuthHeaders
from tests.exchange.bundle_helpers import JOINT_WINDOW, leg
from tests.exchange.enterprise_helpers import open_enterprise, token
from tests.exchange.trading_helpers import balance, fund, market_id

CODE = "e-bundle"


def test_a_representatives_bundle_needs_a_second_one_unless_it_may_do_both(
    demo_registry: Flask, client: FlaskClient, auth: AuthHeaders
) -> None:
    app = demo_registry
    open_enterprise(client, auth("league", "ordos"), auth("regulator"), CODE)
    carbon, energy = market_id(app, "CEA-2026"), market_id(app, "ENERGY-2027")
    fund(app, cash={CODE: 10**9})
    reps = {r: token(app, f"b-{r}", Role.REPRESENTATIVE, participant=CODE, rights=r)
            for r in ("initiate", "approve", "initiate_and_approve", "read_only")}  # fmt: skip
    body = {"window": JOINT_WINDOW.isoformat(), "legs": [leg(carbon, "buy", 100),
            leg(energy, "buy", 10)], "max_total": 2_000_000}  # fmt: skip

    alone = client.post("/api/v1/bundles", headers=reps["initiate_and_approve"],
                        json={**body, "client_order_id": "both"})  # fmt: skip
    assert alone.status_code == 201, alone.get_json()
    assert alone.get_json()["league"] == CODE
    assert balance(app, CODE, ledger.CASH)["held"] == 2_000_000

    pending = client.post("/api/v1/bundles", headers=reps["initiate"],
                          json={**body, "client_order_id": "four-eyes"})  # fmt: skip
    assert pending.status_code == 202, pending.get_json()
    assert balance(app, CODE, ledger.CASH)["held"] == 2_000_000  # nothing held yet
    approve = f"/api/v1/instructions/{pending.get_json()['id']}/approve"
    assert client.post(approve, headers=reps["initiate"]).status_code == 403
    done = client.post(approve, headers=reps["approve"])
    assert done.status_code == 200 and done.get_json()["result"].startswith("bundle:"), done.text
    assert balance(app, CODE, ledger.CASH)["held"] == 4_000_000

    assert client.post("/api/v1/bundles", headers=reps["read_only"],
                       json={**body, "client_order_id": "ro"}).status_code == 403  # fmt: skip
    listed = client.get("/api/v1/bundles", headers=reps["read_only"]).get_json()
    assert listed["total"] == 2 and {b["league"] for b in listed["items"]} == {CODE}
    # the enterprise's league sees none of its live bundles (sealed bids)
    ordos = client.get("/api/v1/bundles", headers=auth("league", "ordos")).get_json()
    assert ordos["total"] == 0
    bid = alone.get_json()["id"]
    assert client.get(f"/api/v1/bundles/{bid}", headers=auth("league", "ordos")).status_code == 404
    cancel = client.delete(f"/api/v1/bundles/{bid}", headers=reps["initiate"])
    assert cancel.status_code == 200 and cancel.get_json()["status"] == "cancelled"


def test_a_suspended_enterprise_enters_no_bundle(
    demo_registry: Flask, client: FlaskClient, auth: AuthHeaders
) -> None:
    app = demo_registry
    open_enterprise(client, auth("league", "ordos"), auth("regulator"), CODE)
    fund(app, cash={CODE: 10**9})
    rep = token(app, "b-both", Role.REPRESENTATIVE, participant=CODE, rights="initiate_and_approve")
    state = client.post(f"/api/v1/participants/{CODE}/state", headers=auth("regulator"),
                        json={"state": "suspended", "reason": "test"})  # fmt: skip
    assert state.status_code == 200, state.get_json()
    carbon, energy = market_id(app, "CEA-2026"), market_id(app, "ENERGY-2027")
    legs = [leg(carbon, "buy", 100), leg(energy, "buy", 10)]
    body = {"window": JOINT_WINDOW.isoformat(), "legs": legs, "max_total": 2_000_000,
            "client_order_id": "s"}  # fmt: skip
    refused = client.post("/api/v1/bundles", headers=rep, json=body)
    assert refused.status_code == 409 and "suspended" in refused.text, refused.get_json()
    assert balance(app, CODE, ledger.CASH)["held"] == 0
