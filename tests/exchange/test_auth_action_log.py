"""The action log: every state-changing request, refused or rolled back too; auditors read it."""

from __future__ import annotations

from typing import Any

from flask import Flask
from flask.testing import FlaskClient

from tests.conftest import AuthHeaders
from tests.exchange.test_registry_api import market


def entries(client: FlaskClient, auth: AuthHeaders, **query: Any) -> list[dict[str, Any]]:
    response = client.get("/api/v1/action-log", headers=auth("auditor"), query_string=query)
    assert response.status_code == 200, response.get_json()
    items: list[dict[str, Any]] = response.get_json()["items"]
    return items


def test_writes_are_logged_with_who_what_where_and_outcome(
    demo_registry: Flask, client: FlaskClient, auth: AuthHeaders
) -> None:
    regulator = auth("regulator")
    league = auth("league", "ordos")
    assert client.post("/api/v1/markets", headers=regulator, json=market()).status_code == 201
    assert client.post("/api/v1/markets", headers=regulator, json=market()).status_code == 409
    assert client.post("/api/v1/markets", headers=league, json=market()).status_code == 403
    assert client.post("/api/v1/markets", json=market(lot=0)).status_code == 401
    assert client.post("/api/v1/markets", headers=regulator, json=market(lot=0)).status_code == 422
    client.get("/api/v1/markets", headers=regulator)  # reads are not logged

    log = entries(client, auth)
    assert [(e["username"], e["status"]) for e in log] == [
        ("test-regulator", 422),
        ("anonymous", 401),
        ("test-league-ordos", 403),
        ("test-regulator", 409),
        ("test-regulator", 201),
    ]
    first = log[-1]
    assert first["method"] == "POST" and first["path"] == "/api/v1/markets"
    assert first["endpoint"] == "markets.Markets"
    assert first["role"] == "regulator" and first["auth"] == "token"
    assert first["remote_addr"] == "127.0.0.1"
    assert first["at"].endswith("+00:00")
    assert log[2]["league"] == "ordos"


def test_refused_credentials_and_csrf_failures_are_logged(
    client: FlaskClient, auth: AuthHeaders
) -> None:
    client.post("/api/v1/markets", headers={"Authorization": "Bearer nonsense"}, json={})
    client.post("/login", data={"username": "x", "password": "y"})
    bad_token, no_csrf = entries(client, auth)[::-1]
    assert (bad_token["status"], bad_token["auth"]) == (401, "invalid-token")
    assert (no_csrf["path"], no_csrf["status"]) == ("/login", 400)


def test_filters_and_pages(demo_registry: Flask, client: FlaskClient, auth: AuthHeaders) -> None:
    regulator = auth("regulator")
    for code in ("A1", "A2", "A3"):
        client.post("/api/v1/markets", headers=regulator, json=market(code=code))
    client.post("/api/v1/markets", json=market())
    assert len(entries(client, auth, username="test-regulator")) == 3
    assert [e["status"] for e in entries(client, auth, status=401)] == [401]
    assert len(entries(client, auth, method="POST", path="/api/v1/mark")) == 4
    assert entries(client, auth, path="/login") == []
    assert entries(client, auth, since="2999-01-01T00:00:00") == []
    assert len(entries(client, auth, until="2999-01-01T00:00:00Z")) == 4
    page = client.get(
        "/api/v1/action-log", headers=auth("auditor"), query_string={"page": 2, "page_size": 3}
    )
    assert page.get_json()["total"] == 4
    assert len(page.get_json()["items"]) == 1
    bad = client.get("/api/v1/action-log", headers=auth("auditor"), query_string={"status": "x"})
    assert bad.status_code == 422


def test_only_auditors_regulators_and_admins_read_it(
    demo_registry: Flask, client: FlaskClient, auth: AuthHeaders
) -> None:
    assert client.get("/api/v1/action-log").status_code == 401
    assert client.get("/api/v1/action-log", headers=auth("league", "ordos")).status_code == 403
    for role in ("auditor", "regulator", "admin"):
        assert client.get("/api/v1/action-log", headers=auth(role)).status_code == 200
