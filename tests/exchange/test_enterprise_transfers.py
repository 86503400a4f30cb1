"""An enterprise's transfers: a second representative unless the counterparty is trusted
(and the addition's delay has passed)."""

from __future__ import annotations

from flask import Flask
from flask.testing import FlaskClient

from exchange.extensions import db
from exchange.models import Role
from tests.conftest import AuthHeaders
from tests.exchange.enterprise_helpers import request_body, token
from tests.exchange.transfer_helpers import allocate_water, fund_cash, year_market

CODE = "e-hetao"


def _proposal(buyer: str, ref: str) -> dict[str, object]:
    return {
        "market_family": "water:yellow",
        "seller": CODE,
        "buyer": buyer,
        "quantity_per_year": 100_000,
        "first_year": 2024,
        "last_year": 2025,
        "price": 103,
        "payment": "yearly",
        "client_ref": ref,
    }


def test_trusted_counterparties_after_the_delay(
    demo_registry: Flask, client: FlaskClient, auth: AuthHeaders
) -> None:
    with demo_registry.app_context():
        session = db.session_factory()
        try:
            for year in (2024, 2025):
                year_market(session, year)
        finally:
            session.close()
    body = request_body(CODE, league="bayannur", serial=11)
    body["sector"] = "irrigation"
    regulator = auth("regulator")
    assert client.post("/api/v1/participants", headers=regulator, json=body).status_code == 201
    other = token(demo_registry, "second-official", Role.LEAGUE, league="bayannur")
    assert client.post(f"/api/v1/participants/{CODE}/approve", headers=other).status_code == 200
    with demo_registry.app_context():
        session = db.session_factory()
        try:
            for year in (2024, 2025):
                allocate_water(session, CODE, year, 300_000)
            fund_cash(session, "ordos", 10**9)
        finally:
            session.close()
    initiator, approver, both = (
        token(demo_registry, f"hetao-{r}", Role.REPRESENTATIVE, participant=CODE, rights=r)
        for r in ("initiate", "approve", "initiate_and_approve")
    )
    pending = client.post("/api/v1/transfers", headers=initiator, json=_proposal("ordos", "t1"))
    assert pending.status_code == 202, pending.get_json()
    assert pending.get_json()["kind"] == "transfer"
    approve = f"/api/v1/instructions/{pending.get_json()['id']}/approve"
    done = client.post(approve, headers=approver)
    assert done.status_code == 200, done.get_json()
    tid = int(done.get_json()["result"].split(":")[1])
    transfer = client.get(f"/api/v1/transfers/{tid}", headers=initiator).get_json()
    assert transfer["seller"] == CODE and transfer["status"] == "proposed"
    # ordos on the trusted list: still two representatives until the delay has passed
    trusted = f"/api/v1/participants/{CODE}/trusted"
    assert client.post(trusted, headers=both, json={"counterparty": "ordos"}).status_code == 201
    waiting = client.post("/api/v1/transfers", headers=initiator, json=_proposal("ordos", "t2"))
    assert waiting.status_code == 202
    # with no delay configured, an addition counts at once
    demo_registry.config["TRUSTED_ACCOUNT_DELAY_HOURS"] = 0
    assert client.post(trusted, headers=both, json={"counterparty": "baotou"}).status_code == 201
    direct = client.post("/api/v1/transfers", headers=initiator, json=_proposal("baotou", "t3"))
    assert direct.status_code == 201, direct.get_json()
    assert direct.get_json()["seller"] == CODE
    # suspended: no transfer at all
    state = client.post(f"/api/v1/participants/{CODE}/state", headers=regulator,
                        json={"state": "suspended", "reason": "test"})  # fmt: skip
    assert state.status_code == 200
    refused = client.post("/api/v1/transfers", headers=both, json=_proposal("baotou", "t4"))
    assert refused.status_code == 409 and refused.get_json()["error"] == "participant_suspended"
