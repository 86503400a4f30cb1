"""``/api/v1/transfers`` over HTTP: the contract of issue 13 item 8, four eyes, the PDF."""

from __future__ import annotations

import io

import pytest
from flask import Flask
from flask.testing import FlaskClient

from exchange.extensions import db
from exchange.identity import service
from exchange.models import Role
from exchange.services.ledger_ops import verify
from exchange.uow import unit_of_work
from tests.conftest import AuthHeaders
from tests.exchange.transfer_helpers import allocate_water, fund_cash, year_market

PROPOSAL = {
    "market_family": "water:yellow",
    "seller": "bayannur",
    "buyer": "ordos",
    "quantity_per_year": 100_000,
    "first_year": 2024,
    "last_year": 2025,
    "price": 103,
    "payment": "yearly",
    "client_ref": "api-1",
}


def _second_regulator(app: Flask) -> dict[str, str]:
    with app.app_context():
        s = db.session_factory()
        try:
            with unit_of_work(s):
                user = service.create_user(s, username="test-regulator-2", role=Role.REGULATOR)
                secret = service.create_token(s, user.id, name="t").secret
            return {"Authorization": f"Bearer {secret}"}
        finally:
            s.close()


@pytest.fixture
def water_world(demo_registry: Flask) -> Flask:
    """Bayannur holds 2024 and 2025 water, Ordos cash (no app context left pushed:
    requests must not share ``flask.g``)."""
    with demo_registry.app_context():
        session = db.session_factory()
        try:
            for year in (2024, 2025):
                year_market(session, year)
                allocate_water(session, "bayannur", year, 100_000)
            fund_cash(session, "ordos", 10**9)
        finally:
            session.close()
    return demo_registry


def _verified(app: Flask) -> bool:
    with app.app_context():
        session = db.session_factory()
        try:
            return verify(session).ok
        finally:
            session.close()


def test_a_transfer_through_the_api_settles_and_its_contract_holds_parties_and_hashes(
    water_world: Flask, client: FlaskClient, auth: AuthHeaders
) -> None:
    ordos, bayannur = auth("league", "ordos"), auth("league", "bayannur")
    created = client.post("/api/v1/transfers", json=PROPOSAL, headers=ordos)
    assert created.status_code == 201, created.get_json()
    tid = created.get_json()["id"]
    again = client.post("/api/v1/transfers", json={**PROPOSAL, "price": 1}, headers=ordos)
    assert (again.status_code, again.get_json()["id"]) == (200, tid)  # same client_ref
    # a proposal is private: anonymous and other leagues do not see it
    assert client.get(f"/api/v1/transfers/{tid}").status_code == 404
    assert (
        client.get(f"/api/v1/transfers/{tid}", headers=auth("league", "baotou")).status_code == 404
    )
    assert client.get("/api/v1/transfers").get_json()["total"] == 0
    assert client.get(f"/api/v1/transfers/{tid}", headers=bayannur).status_code == 200

    assert client.post(f"/api/v1/transfers/{tid}/accept", headers=ordos).status_code == 403
    accepted = client.post(f"/api/v1/transfers/{tid}/accept", headers=bayannur, json={})
    assert accepted.get_json()["status"] == "accepted"
    regulator = auth("regulator")
    assert client.post(f"/api/v1/transfers/{tid}/review", headers=regulator).status_code == 200
    same = client.post(f"/api/v1/transfers/{tid}/approve", headers=regulator)
    assert same.status_code == 403 and same.get_json()["error"] == "same_user"
    assert client.get(f"/api/v1/transfers/{tid}/contract.pdf", headers=ordos).status_code == 409
    approved = client.post(
        f"/api/v1/transfers/{tid}/approve", headers=_second_regulator(water_world)
    )
    body = approved.get_json()
    # 2024 and 2025 are due already: approval settles both, DvP
    assert body["status"] == "completed", body
    hashes = [d["journal_hash"] for d in body["deliveries"]]
    assert all(h and len(h) == 64 for h in hashes)
    assert [a["step"] for a in body["approvals"]] == ["review", "approve"]

    public = client.get("/api/v1/transfers", query_string={"status": "completed"}).get_json()
    assert [t["id"] for t in public["items"]] == [tid]
    assert client.get(f"/api/v1/transfers/{tid}/contract.pdf").status_code == 401
    other = client.get(f"/api/v1/transfers/{tid}/contract.pdf", headers=auth("league", "baotou"))
    assert other.status_code == 403
    pdf = client.get(f"/api/v1/transfers/{tid}/contract.pdf", headers=ordos)
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf"
    assert pdf.data.startswith(b"%PDF")
    from pypdf import PdfReader

    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf.data)).pages)
    text = "".join(text.split())  # lines may wrap anywhere
    for expected in ("水权协议转让合同", "Bayannur", "Ordos", "巴彦淖尔", "鄂尔多斯", *hashes):
        assert expected in text, expected
    assert "test-regulator-2" in text and "test-regulator" in text
    assert _verified(water_world)


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"quantity_per_year": "100000"}, "quantity_per_year"),
        ({"quantity_per_year": 1_500}, "quantity_per_year"),
        ({"price": -1}, "price"),
        ({"payment": "later"}, "payment"),
        ({"first_year": 1999}, "first_year"),
        ({"last_year": 2020}, "last_year"),
        ({"market_family": "gold"}, "market_family"),
        ({"market_family": "carbon"}, "market_family"),
        ({"buyer": "nowhere"}, "buyer"),
        ({"client_ref": ""}, "client_ref"),
    ],
)
def test_bad_proposals_are_4xx_naming_the_field(
    water_world: Flask,
    client: FlaskClient,
    auth: AuthHeaders,
    change: dict[str, object],
    field: str,
) -> None:
    response = client.post(
        "/api/v1/transfers", json={**PROPOSAL, **change}, headers=auth("league", "ordos")
    )
    assert 400 <= response.status_code < 500
    assert field in response.get_data(as_text=True), response.get_json()
    assert client.get("/api/v1/transfers", headers=auth("regulator")).get_json()["total"] == 0


def test_a_league_proposes_only_as_a_party(
    water_world: Flask, client: FlaskClient, auth: AuthHeaders
) -> None:
    response = client.post("/api/v1/transfers", json=PROPOSAL, headers=auth("league", "baotou"))
    assert response.status_code == 403
    assert client.post("/api/v1/transfers", json=PROPOSAL).status_code == 401
    assert (
        client.post("/api/v1/transfers", json=PROPOSAL, headers=auth("regulator")).status_code
        == 403
    )


def test_the_regulator_rejects_with_a_reason(
    water_world: Flask, client: FlaskClient, auth: AuthHeaders
) -> None:
    tid = client.post(
        "/api/v1/transfers", json=PROPOSAL, headers=auth("league", "ordos")
    ).get_json()["id"]
    client.post(f"/api/v1/transfers/{tid}/accept", headers=auth("league", "bayannur"))
    url = f"/api/v1/transfers/{tid}/reject"
    missing = client.post(url, headers=auth("regulator"), json={})
    assert missing.status_code == 422 and "reason" in missing.get_data(as_text=True)
    done = client.post(url, headers=auth("regulator"), json={"reason": "below the reference"})
    assert done.get_json()["status"] == "rejected"
    assert done.get_json()["approvals"][0]["reason"] == "below the reference"


def test_without_a_cjk_font_the_contract_is_a_clear_503(
    water_world: Flask, client: FlaskClient, auth: AuthHeaders, monkeypatch: pytest.MonkeyPatch
) -> None:
    from exchange.mechanisms.transfer import contract

    ordos = auth("league", "ordos")
    tid = client.post("/api/v1/transfers", json=PROPOSAL, headers=ordos).get_json()["id"]
    client.post(f"/api/v1/transfers/{tid}/accept", headers=auth("league", "bayannur"))
    client.post(f"/api/v1/transfers/{tid}/review", headers=auth("regulator"))
    client.post(f"/api/v1/transfers/{tid}/approve", headers=_second_regulator(water_world))
    monkeypatch.setattr(contract.shutil, "which", lambda _name: None)
    monkeypatch.setattr(contract, "KNOWN_FONTS", ("/nonexistent/font.ttc",))
    response = client.get(f"/api/v1/transfers/{tid}/contract.pdf", headers=ordos)
    assert response.status_code == 503
    assert "fonts-wqy-microhei" in response.get_json()["message"]
