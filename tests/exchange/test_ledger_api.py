"""The ledger's API: allocations, deposits, retirements, balances, statements, audit."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from exchange.extensions import db
from exchange.uow import new_unit_of_work
from ledger.models import Journal
from tests.conftest import AuthHeaders
from tests.ledger.helpers import as_attacker

YR = "YR-WATER-2027"
YR_CAP = 5_860_000_000


def journal_count(app: Flask) -> int:
    with app.app_context(), new_unit_of_work(db.session_factory) as session:
        return session.scalar(select(func.count()).select_from(Journal)) or 0


def allocate(client: FlaskClient, auth: AuthHeaders, **body: Any) -> Any:
    payload = {"league": "ordos", "market": YR, "quantity": 1_000_000, **body}
    return client.post("/api/v1/allocations", json=payload, headers=auth("regulator"))


def test_allocate_deposit_retire_and_read_back(
    demo_registry: Flask, client: FlaskClient, auth: AuthHeaders
) -> None:
    response = allocate(client, auth)
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert body["issued"] == 1_000_000 and body["remaining"] == YR_CAP - 1_000_000
    deposit = client.post(
        "/api/v1/deposits", json={"league": "ordos", "amount": 500_000}, headers=auth("regulator")
    )
    assert deposit.status_code == 201 and deposit.get_json()["available"] == 500_000
    retire = client.post(
        "/api/v1/retirements",
        json={"league": "ordos", "market": YR, "quantity": 300_000},
        headers=auth("league", "ordos"),
    )
    assert retire.status_code == 201, retire.get_json()
    assert retire.get_json()["available"] == 700_000 and retire.get_json()["retired"] == 300_000

    balances = client.get("/api/v1/accounts/ordos/balances", headers=auth("league", "ordos"))
    assert balances.status_code == 200
    by_market = {b["market"]: b for b in balances.get_json()["balances"]}
    assert by_market[YR] | {"asset": None} == {
        "asset": None, "market": YR, "unit": "m3", "posted": 700_000, "held": 0,
        "available": 700_000,
    }  # fmt: skip
    assert by_market["cash"]["available"] == 500_000

    statement = client.get(
        f"/api/v1/accounts/ordos/statement?asset={YR}&per_page=1&page=2",
        headers=auth("auditor"),
    ).get_json()
    assert statement["total"] == 2 and statement["balance"] == 700_000
    assert [(line["amount"], line["balance"]) for line in statement["lines"]] == [
        (-300_000, 700_000)
    ]
    assert statement["lines"][0]["kind"] == "retirement"

    verify = client.get("/api/v1/ledger/verify", headers=auth("auditor"))
    assert verify.status_code == 200
    assert verify.get_json()["ok"] is True and verify.get_json()["violations"] == []


def test_journals_are_filtered_and_paged(
    demo_registry: Flask, client: FlaskClient, auth: AuthHeaders
) -> None:
    for league in ("ordos", "baotou", "wuhai"):
        assert allocate(client, auth, league=league).status_code == 201
    client.post(
        "/api/v1/deposits", json={"league": "ordos", "amount": 5}, headers=auth("regulator")
    )
    headers = auth("regulator")
    everything = client.get("/api/v1/ledger/journals", headers=headers).get_json()
    assert everything["total"] == 4
    assert [j["kind"] for j in everything["journals"]] == ["deposit"] + ["issuance"] * 3
    ordos = client.get("/api/v1/ledger/journals?league=ordos", headers=headers).get_json()
    assert ordos["total"] == 2
    water = client.get(f"/api/v1/ledger/journals?market={YR}&kind=issuance", headers=headers)
    assert water.get_json()["total"] == 3
    page = client.get("/api/v1/ledger/journals?per_page=2&page=2", headers=headers).get_json()
    assert page.get("total") == 4, page
    assert len(page["journals"]) == 2
    journal = page["journals"][0]
    assert len(journal["hash"]) == 64 and {p["amount"] for p in journal["postings"]} == {
        -1_000_000,
        1_000_000,
    }
    late = client.get(
        "/api/v1/ledger/journals?since=2999-01-01T00:00:00%2B00:00", headers=headers
    ).get_json()
    assert late["total"] == 0
    bad = client.get("/api/v1/ledger/journals?kind=gift", headers=headers)
    assert bad.status_code == 422


@pytest.mark.parametrize(
    ("changes", "status", "field"),
    [
        ({"league": "atlantis"}, 422, "league"),
        ({"market": "NO-SUCH-MARKET"}, 422, "market"),
        ({"league": "hulunbuir"}, 422, "league"),  # not a Yellow River league
        ({"quantity": 0}, 422, "quantity"),
        ({"quantity": -1000}, 422, "quantity"),
        ({"quantity": 1000.0}, 422, "quantity"),
        ({"quantity": "1000"}, 422, "quantity"),
        ({"quantity": True}, 422, "quantity"),
        ({"quantity": 10**20}, 422, "quantity"),
        ({"quantity": 1500}, 422, "quantity"),  # not a whole lot
        ({"quantity": YR_CAP + 1000}, 409, None),
        ({"reference": "a|b"}, 422, "reference"),
    ],
)
def test_bad_allocations_change_nothing(
    demo_registry: Flask,
    client: FlaskClient,
    auth: AuthHeaders,
    changes: dict[str, Any],
    status: int,
    field: str | None,
) -> None:
    before = journal_count(demo_registry)
    response = allocate(client, auth, **changes)
    assert response.status_code == status, response.get_json()
    body = response.get_json()
    assert body["code"] == status and body["message"]
    if field is not None:
        assert field in str(body.get("errors", {})) or field in body["message"]
    assert journal_count(demo_registry) == before


def test_the_cap_holds_across_allocations(
    demo_registry: Flask, client: FlaskClient, auth: AuthHeaders
) -> None:
    assert allocate(client, auth, quantity=YR_CAP - 1000).status_code == 201
    over = allocate(client, auth, league="baotou", quantity=2000)
    assert over.status_code == 409 and over.get_json()["error"] == "cap_exceeded"
    assert over.get_json()["details"]["issued"] == YR_CAP - 1000
    assert allocate(client, auth, league="baotou", quantity=1000).status_code == 201


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ({"league": "ordos", "market": YR, "quantity": 1_000_001}, 409),  # more than available
        ({"league": "ordos", "market": "NOPE", "quantity": 1}, 422),
        ({"league": "ordos", "market": YR, "quantity": 0}, 422),
        ({"league": "ordos", "market": YR, "quantity": 2.5}, 422),
    ],
)
def test_bad_retirements_change_nothing(
    demo_registry: Flask, client: FlaskClient, auth: AuthHeaders, body: dict[str, Any], status: int
) -> None:
    assert allocate(client, auth).status_code == 201
    before = journal_count(demo_registry)
    response = client.post("/api/v1/retirements", json=body, headers=auth("league", "ordos"))
    assert response.status_code == status, response.get_json()
    if status == 409:
        assert response.get_json()["error"] == "insufficient_funds"
        assert response.get_json()["details"] == {"available": 1_000_000, "requested": 1_000_001}
    assert journal_count(demo_registry) == before


@pytest.mark.parametrize(
    "body",
    [
        {"league": "atlantis", "amount": 5},
        {"league": "ordos", "amount": 0},
        {"league": "ordos", "amount": -5},
        {"league": "ordos", "amount": "5"},
        {"league": "ordos"},
    ],
)
def test_bad_deposits_change_nothing(
    demo_registry: Flask, client: FlaskClient, auth: AuthHeaders, body: dict[str, Any]
) -> None:
    response = client.post("/api/v1/deposits", json=body, headers=auth("regulator"))
    assert response.status_code == 422, response.get_json()
    assert journal_count(demo_registry) == 0


def test_unknown_league_balances_and_statement(
    demo_registry: Flask, client: FlaskClient, auth: AuthHeaders
) -> None:
    assert (
        client.get("/api/v1/accounts/atlantis/balances", headers=auth("regulator")).status_code
        == 404
    )
    response = client.get("/api/v1/accounts/ordos/statement?asset=NOPE", headers=auth("regulator"))
    assert response.status_code == 422
    missing = client.get("/api/v1/accounts/ordos/statement", headers=auth("regulator"))
    assert missing.status_code == 422


def test_verify_answers_409_with_the_violations(
    demo_registry: Flask, client: FlaskClient, auth: AuthHeaders
) -> None:
    assert allocate(client, auth).status_code == 201
    with demo_registry.app_context(), new_unit_of_work(db.session_factory) as session:
        as_attacker(session, "UPDATE ledger_postings SET amount = amount * 2")
    response = client.get("/api/v1/ledger/verify", headers=auth("regulator"))
    assert response.status_code == 409
    body = response.get_json()
    assert body["ok"] is False and body["error"] == "ledger_verification_failed"
    checks = {v["check"] for v in body["violations"]}
    assert {"journal_hash", "balance"} <= checks
    assert any(v.get("journal_id") == 1 for v in body["violations"])
