"""The compensation API over HTTP: contract, field errors, idempotent settlement, verify."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests.conftest import AuthHeaders
from tests.exchange.compensation_helpers import BETTER, DOWN, UP, YUAN, agreement_data
from tests.exchange.trading_helpers import fund

BASE = "/api/v1/compensation/agreements"


@pytest.fixture
def regulator(demo_registry: Flask, auth: AuthHeaders) -> dict[str, str]:
    return auth("regulator")


def create(client: FlaskClient, headers: dict[str, str], **changes: Any) -> Any:
    return client.post(BASE, json=agreement_data(**changes), headers=headers)


def test_register_read_settle_and_repeat(
    demo_registry: Flask, client: FlaskClient, regulator: dict[str, str], auth: AuthHeaders
) -> None:
    fund(demo_registry, cash={UP: 10_000_000 * YUAN, DOWN: 200_000_000 * YUAN})
    response = create(client, regulator, deposit=10_000_000 * YUAN)
    assert response.status_code == 201, response.get_json()
    agreement = response.get_json()
    assert agreement["indicators"] == {"COD": 16000, "NH3-N": 500, "TP": 100}
    aid = agreement["id"]
    reading = client.post(
        f"{BASE}/{aid}/readings",
        json={"period": "2024", "class": 2, "indicators": BETTER},
        headers=regulator,
    )
    assert reading.status_code == 201, reading.get_json()
    assert reading.get_json()["class"] == 2
    first = client.post(f"{BASE}/{aid}/settlements", json={"period": "2024"}, headers=regulator)
    assert first.status_code == 201, first.get_json()
    body = first.get_json()
    assert (body["total"], body["payer"], body["payee"]) == (7_100_000_000, DOWN, UP)
    assert (body["from_deposit"], body["from_cash"], body["claimed"]) == (
        1_000_000_000,
        6_100_000_000,
        0,
    )
    assert body["breakdown"]["index_change_points"] == -11
    again = client.post(f"{BASE}/{aid}/settlements", json={"period": "2024"}, headers=regulator)
    assert again.status_code == 200
    assert again.get_json() == body
    public = client.get(f"{BASE}/{aid}/settlements")
    assert public.status_code == 200 and [s["id"] for s in public.get_json()] == [body["id"]]
    detail = client.get(f"{BASE}/{aid}").get_json()
    assert [r["period"] for r in detail["readings"]] == ["2024"]
    assert client.get(BASE).get_json()[0]["id"] == aid
    verify = client.get("/api/v1/ledger/verify", headers=auth("auditor"))
    assert verify.status_code == 200 and verify.get_json()["ok"] is True


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"target_class": "3"}, "target_class"),
        ({"target_class": 7}, "target_class"),
        ({"amount_per_class": 1.5}, "amount_per_class"),
        ({"amount_per_class": -1}, "amount_per_class"),
        ({"index_cap": 10**16}, "index_cap"),
        ({"indicators": {"PB": 10}}, "indicators"),
        ({"indicators": {"COD": 0}}, "indicators"),
        ({"indicators": {}}, "indicators"),
        ({"assessment": "weekly"}, "assessment"),
        ({"first_year": 2026, "last_year": 2025}, "last_year"),
        ({"downstream": UP}, "downstream"),
        ({"upstream": "atlantis"}, "upstream"),
        ({"section": ""}, "section"),
        ({"deposit": True}, "deposit"),
    ],
)
def test_bad_agreements_name_the_field(
    client: FlaskClient, regulator: dict[str, str], changes: dict[str, Any], field: str
) -> None:
    response = create(client, regulator, **changes)
    assert 400 <= response.status_code < 500
    body = response.get_json()
    assert field in str(body.get("errors")), body
    assert client.get(BASE).get_json() == []


def test_deposit_without_cash_is_409_and_changes_nothing(
    client: FlaskClient, regulator: dict[str, str]
) -> None:
    response = create(client, regulator, deposit=100)
    assert response.status_code == 409
    assert response.get_json()["error"] == "insufficient_funds"
    assert "deposit" in str(response.get_json()["errors"])
    assert client.get(BASE).get_json() == []


@pytest.mark.parametrize(
    ("body", "field", "status"),
    [
        ({"period": "2024-13", "class": 3, "indicators": BETTER}, "period", 422),
        ({"period": "24", "class": 3, "indicators": BETTER}, "period", 422),
        ({"period": "2030", "class": 3, "indicators": BETTER}, "period", 422),
        ({"period": "2024", "class": 0, "indicators": BETTER}, "class", 422),
        ({"period": "2024", "class": 3, "indicators": {"COD": 1}}, "indicators.NH3-N", 422),
        ({"period": "2024", "class": 3, "indicators": {**BETTER, "TP": -1}}, "indicators", 422),
        ({"period": "2024", "class": 3}, "indicators", 422),
    ],
)
def test_bad_readings_name_the_field(
    client: FlaskClient, regulator: dict[str, str], body: dict[str, Any], field: str, status: int
) -> None:
    aid = create(client, regulator).get_json()["id"]
    response = client.post(f"{BASE}/{aid}/readings", json=body, headers=regulator)
    assert response.status_code == status, response.get_json()
    assert field in str(response.get_json().get("errors")), response.get_json()
    assert client.get(f"{BASE}/{aid}").get_json()["readings"] == []


def test_settlement_errors(client: FlaskClient, regulator: dict[str, str]) -> None:
    aid = create(client, regulator).get_json()["id"]
    missing = client.post(f"{BASE}/{aid}/settlements", json={"period": "2024"}, headers=regulator)
    assert missing.status_code == 409 and missing.get_json()["error"] == "readings_missing"
    monthly = client.post(
        f"{BASE}/{aid}/settlements", json={"period": "2024-01"}, headers=regulator
    )
    assert monthly.status_code == 422 and "period" in str(monthly.get_json()["errors"])
    unknown = client.post(f"{BASE}/999/settlements", json={"period": "2024"}, headers=regulator)
    assert unknown.status_code == 404
    assert client.get(f"{BASE}/999").status_code == 404
    assert client.get(f"{BASE}/999/settlements").status_code == 404


def test_writes_need_the_regulator(
    client: FlaskClient, regulator: dict[str, str], auth: AuthHeaders
) -> None:
    assert client.post(BASE, json=agreement_data()).status_code == 401
    league = auth("league", DOWN)
    assert client.post(BASE, json=agreement_data(), headers=league).status_code == 403
    aid = create(client, regulator).get_json()["id"]
    body = {"period": "2024", "class": 1, "indicators": BETTER}
    assert client.post(f"{BASE}/{aid}/readings", json=body, headers=league).status_code == 403
    assert client.post(f"{BASE}/{aid}/readings", json=body).status_code == 401


def test_breakdown_recomputes_from_the_published_settlement(
    demo_registry: Flask, client: FlaskClient, regulator: dict[str, str]
) -> None:
    from exchange.compensation.formula import recompute

    aid = create(client, regulator, assessment="monthly").get_json()["id"]
    for month, cls in ((1, 2), (2, 4)):
        body = {"period": f"2024-{month:02d}", "class": cls, "indicators": BETTER}
        assert (
            client.post(f"{BASE}/{aid}/readings", json=body, headers=regulator).status_code == 201
        )
        done = client.post(
            f"{BASE}/{aid}/settlements", json={"period": f"2024-{month:02d}"}, headers=regulator
        )
        assert done.status_code == 201
    for published in client.get(f"{BASE}/{aid}/settlements").get_json():
        stored = published["breakdown"]
        again = recompute(stored).to_dict()
        assert {k: stored[k] for k in again} == again
        assert again["total"] == published["total"]


def test_readings_may_record_other_known_indicators(
    client: FlaskClient, regulator: dict[str, str]
) -> None:
    """A monitoring report has more than the agreement's indicators: kept, not in the index."""
    aid = create(client, regulator, assessment="monthly").get_json()["id"]
    periods = {"2024-01": {**BETTER, "TN": 5_000}, "2024-02": BETTER}
    for period, values in periods.items():
        body = {"period": period, "class": 2, "indicators": values}
        assert (
            client.post(f"{BASE}/{aid}/readings", json=body, headers=regulator).status_code == 201
        )
    first = client.post(f"{BASE}/{aid}/settlements", json={"period": "2024-01"}, headers=regulator)
    second = client.post(f"{BASE}/{aid}/settlements", json={"period": "2024-02"}, headers=regulator)
    assert first.get_json()["total"] == second.get_json()["total"] == 591_666_667
    assert "TN" not in first.get_json()["breakdown"]["concentrations"]
    readings = client.get(f"{BASE}/{aid}").get_json()["readings"]
    assert readings[0]["indicators"]["TN"] == 5_000
