"""Compliance cycles over HTTP and the CLI: roles, the status shape, CSV, close, verify."""

from __future__ import annotations

import csv
import io
from datetime import date

import pytest
from click.testing import CliRunner
from flask import Flask
from flask.testing import FlaskClient

from exchange.api import compliance_api
from exchange.cli import main
from tests.conftest import AuthHeaders
from tests.exchange.compliance_helpers import DEADLINE, ENTERED
from tests.exchange.trading_helpers import fund, market_id, verify_ok

PERIOD = {
    "market_family": "carbon",
    "year": 2026,
    "reporting_deadline": "2027-03-31",
    "verification_deadline": "2027-06-30",
    "surrender_deadline": DEADLINE.isoformat(),
    "offset_percent": 5,
    "penalty_fixed": 2_000_000,
    "penalty_price_multiple": 3,
    "deduct_shortfall": True,
}


@pytest.fixture
def day(monkeypatch: pytest.MonkeyPatch) -> dict[str, date]:
    clock = {"today": ENTERED}
    monkeypatch.setattr(compliance_api, "today", lambda: clock["today"])
    return clock


@pytest.fixture
def period(demo_registry: Flask, client: FlaskClient, auth: AuthHeaders, day: dict) -> int:
    mid = market_id(demo_registry, "CEA-2026")
    fund(demo_registry, rights={("ordos", mid): 10_000, ("baotou", mid): 10_000})
    response = client.post("/api/v1/compliance/periods", json=PERIOD, headers=auth("regulator"))
    assert response.status_code == 201, response.get_json()
    return int(response.get_json()["id"])


def test_period_contract_and_refusals(client: FlaskClient, auth: AuthHeaders, period: int) -> None:
    body = client.get(f"/api/v1/compliance/periods/{period}").get_json()
    assert body["market_family"] == "carbon" and body["year"] == 2026
    assert body["status"] == "open" and body["market"] == "CEA-2026"
    assert body["surrender_deadline"] == "2027-09-30" and body["objection_days"] == 7
    again = client.post("/api/v1/compliance/periods", json=PERIOD, headers=auth("regulator"))
    assert again.status_code == 409
    for field, value in (("year", "2026"), ("offset_percent", 101), ("market_family", "gold")):
        bad = client.post(
            "/api/v1/compliance/periods", json={**PERIOD, field: value}, headers=auth("regulator")
        )
        assert bad.status_code == 422 and field in str(bad.get_json()), bad.get_json()
    swapped = {
        **PERIOD,
        "year": 2027,
        "market_family": "energy",
        "surrender_deadline": "2027-01-01",
    }
    refused = client.post("/api/v1/compliance/periods", json=swapped, headers=auth("regulator"))
    assert refused.status_code == 422
    assert client.post("/api/v1/compliance/periods", json=PERIOD).status_code == 401
    league = client.post("/api/v1/compliance/periods", json=PERIOD, headers=auth("league", "ordos"))
    assert league.status_code == 403


def test_whole_cycle_over_http_and_cli(
    demo_registry: Flask,
    client: FlaskClient,
    auth: AuthHeaders,
    period: int,
    day: dict,
    monkeypatch: pytest.MonkeyPatch,
    database_url: str,
) -> None:
    base = f"/api/v1/compliance/periods/{period}"
    reg, ordos, baotou = auth("regulator"), auth("league", "ordos"), auth("league", "baotou")
    assert (
        client.put(f"{base}/monthly/ordos/1", json={"quantity": 400}, headers=ordos).status_code
        == 200
    )
    assert (
        client.put(f"{base}/monthly/ordos/2", json={"quantity": 450}, headers=baotou).status_code
        == 403
    )
    put = client.put(
        f"{base}/figures/ordos", json={"verified": 5_000, "evidence": "v.pdf"}, headers=reg
    )
    assert put.status_code == 200 and put.get_json()["objection_deadline"] == "2027-04-12"
    assert (
        client.put(f"{base}/figures/ordos", json={"verified": 1}, headers=ordos).status_code == 403
    )
    client.put(f"{base}/figures/baotou", json={"verified": 3_000}, headers=reg)
    # baotou objects within the window; the regulator rejects it
    obj = client.post(
        f"{base}/objections", json={"league": "baotou", "reason": "x"}, headers=baotou
    )
    assert obj.status_code == 201, obj.get_json()
    dec = client.post(
        f"{base}/objections/{obj.get_json()['id']}/decision",
        json={"decision": "rejected"},
        headers=reg,
    )
    assert dec.status_code == 200 and dec.get_json()["decision"] == "rejected"
    # ordos objects after its window: refused
    day["today"] = date(2027, 4, 13)
    late = client.post(f"{base}/objections", json={"league": "ordos", "reason": "x"}, headers=ordos)
    assert late.status_code == 409 and late.get_json()["error"] == "objection_window_closed"
    # surrenders: for oneself only, idempotent by client_ref, never more than due
    surrender = {"league": "ordos", "quantity": 5_000, "offsets": 0, "client_ref": "2026-a"}
    assert client.post(f"{base}/surrenders", json=surrender, headers=baotou).status_code == 403
    first = client.post(f"{base}/surrenders", json=surrender, headers=ordos)
    assert first.status_code == 201, first.get_json()
    retry = client.post(f"{base}/surrenders", json=surrender, headers=ordos)
    assert retry.status_code == 200 and retry.get_json()["id"] == first.get_json()["id"]
    more = client.post(
        f"{base}/surrenders", json={**surrender, "client_ref": "b", "quantity": 1}, headers=ordos
    )
    assert more.status_code == 409 and more.get_json()["error"] == "over_surrender"
    bad = client.post(f"{base}/surrenders", json={**surrender, "quantity": "5"}, headers=ordos)
    assert bad.status_code == 422
    client.post(
        f"{base}/surrenders",
        json={**surrender, "league": "baotou", "quantity": 1_000},
        headers=baotou,
    )

    live = client.get(f"{base}/status").get_json()  # public
    rows = {r["league"]: r for r in live["leagues"]}
    assert set(live) >= {"period", "leagues"} and live["frozen"] is False
    assert rows["ordos"] == {
        "league": "ordos", "status": "A", "verified": 5_000, "surrendered": 5_000, "offsets": 0,
        "shortfall": 0,
    }  # fmt: skip
    assert rows["baotou"]["status"] == "B" and rows["hohhot"]["status"] == "C"
    forecast = client.get(f"{base}/forecast", headers=reg).get_json()
    assert forecast["leagues"][0]["shortfall"] >= forecast["leagues"][-1]["shortfall"]
    own = client.get(f"{base}/forecast?league=baotou", headers=ordos).get_json()
    assert [r["league"] for r in own["leagues"]] == ["ordos"]
    assert client.get(f"{base}/forecast").status_code == 401

    monkeypatch.setenv("DATABASE_URL", database_url)
    early = CliRunner().invoke(main, ["compliance", "close", str(period), "--as-of", "2027-09-29"])
    assert early.exit_code != 0 and "surrender deadline" in early.output
    closed = CliRunner().invoke(main, ["compliance", "close", str(period), "--as-of", "2027-09-30"])
    assert closed.exit_code == 0, closed.output
    again = CliRunner().invoke(main, ["compliance", "close", str(period), "--as-of", "2027-10-01"])
    assert again.exit_code == 0 and "closed already" in again.output

    frozen = client.get(f"{base}/status").get_json()
    assert frozen["frozen"] is True and frozen["period"]["status"] == "closed"
    assert {r["league"]: r["status"] for r in frozen["leagues"]}["baotou"] == "B"
    text = client.get(f"{base}/report.csv").get_data(as_text=True)
    table = {r["league"]: r for r in csv.DictReader(io.StringIO(text))}
    assert table["baotou"]["shortfall"] == "2000" and table["baotou"]["league_name_zh"] == "包头市"
    day["today"] = DEADLINE
    after = client.post(
        f"{base}/surrenders",
        json={**surrender, "client_ref": "z", "league": "baotou"},
        headers=baotou,
    )
    assert after.status_code == 409 and after.get_json()["error"] == "period_closed"
    assert client.get("/api/v1/ledger/verify", headers=reg).status_code == 200
    verify_ok(demo_registry)


def test_figures_from_csv_preview_then_all_or_nothing(
    client: FlaskClient, auth: AuthHeaders, period: int
) -> None:
    url = f"/api/v1/compliance/periods/{period}/figures/import"
    reg = auth("regulator")
    text = "league,verified,evidence\nordos,5000,a.pdf\nbaotou,5.5,\nnowhere,1,\nordos,7,\n"
    preview = client.post(url, json={"csv": text}, headers=reg)
    assert preview.status_code == 200 and preview.get_json()["imported"] is False
    errors = {r["line"]: r["error"] for r in preview.get_json()["rows"]}
    assert errors[2] is None and "whole number" in errors[3]
    assert "no obligation" in errors[4] and "twice" in errors[5]
    refused = client.post(url, json={"csv": text, "dry_run": False}, headers=reg)
    assert refused.status_code == 422 and "line 3" in refused.get_json()["message"]
    status = client.get(f"/api/v1/compliance/periods/{period}/status").get_json()
    assert {r["league"]: r["verified"] for r in status["leagues"]}["ordos"] is None
    good = "league,verified\nordos,5000\nbaotou,3000\n"
    done = client.post(url, json={"csv": good, "dry_run": False}, headers=reg)
    assert done.status_code == 200 and done.get_json()["imported"] is True
    status = client.get(f"/api/v1/compliance/periods/{period}/status").get_json()
    verified = {r["league"]: r["verified"] for r in status["leagues"]}
    assert (verified["ordos"], verified["baotou"]) == (5_000, 3_000)
    league = client.post(url, json={"csv": good}, headers=auth("league", "ordos"))
    assert league.status_code == 403


def test_a_league_user_may_leave_out_its_league(
    client: FlaskClient, auth: AuthHeaders, period: int
) -> None:
    base = f"/api/v1/compliance/periods/{period}"
    client.put(f"{base}/figures/ordos", json={"verified": 500}, headers=auth("regulator"))
    body = {"quantity": 100, "client_ref": "implicit"}
    done = client.post(f"{base}/surrenders", json=body, headers=auth("league", "ordos"))
    assert done.status_code == 201 and done.get_json()["league"] == "ordos"
    assert (
        client.post(f"{base}/surrenders", json=body, headers=auth("regulator")).status_code == 403
    )
    assert client.post(f"{base}/surrenders", json=body).status_code == 401
    objection = client.post(
        f"{base}/objections", json={"reason": "x"}, headers=auth("league", "ordos")
    )
    assert objection.status_code == 201 and objection.get_json()["league"] == "ordos"
