"""Admins manage users; users are bound to their role and league."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests.conftest import AuthHeaders


def test_admin_creates_and_lists_users(
    demo_registry: Flask, client: FlaskClient, auth: AuthHeaders
) -> None:
    admin = auth("admin")
    created = client.post(
        "/api/v1/users",
        headers=admin,
        json={"username": "Ordos-Desk", "role": "league", "league": "ordos", "password": "p" * 12},
    )
    assert created.status_code == 201, created.get_json()
    body = created.get_json()
    assert body["username"] == "ordos-desk" and body["league"] == "ordos"
    assert "password" not in body and "password_hash" not in body
    listed = client.get("/api/v1/users", headers=admin).get_json()
    assert "ordos-desk" in {u["username"] for u in listed}
    assert "p" * 12 not in str(listed)
    one = client.get(f"/api/v1/users/{body['id']}", headers=admin)
    assert one.get_json()["role"] == "league"
    assert client.get("/api/v1/users/99999", headers=admin).status_code == 404


@pytest.mark.parametrize(
    ("body", "field", "status"),
    [
        ({"username": "x", "role": "league"}, "league", 422),
        ({"username": "x", "role": "league", "league": "atlantis"}, "league", 422),
        ({"username": "x", "role": "auditor", "league": "ordos"}, "league", 422),
        ({"username": "x", "role": "emperor"}, "role", 422),
        ({"username": "bad name!", "role": "auditor"}, "username", 422),
        ({"username": "x", "role": "auditor", "password": "short"}, "password", 422),
        ({"username": "test-admin", "role": "auditor"}, "username", 409),
        ({"role": "auditor"}, "username", 422),
    ],
)
def test_bad_users_are_refused(
    demo_registry: Flask,
    client: FlaskClient,
    auth: AuthHeaders,
    body: dict[str, Any],
    field: str,
    status: int,
) -> None:
    admin = auth("admin")
    before = len(client.get("/api/v1/users", headers=admin).get_json())
    response = client.post("/api/v1/users", headers=admin, json=body)
    assert response.status_code == status, response.get_json()
    assert field in response.get_json()["errors"]["json"]
    assert len(client.get("/api/v1/users", headers=admin).get_json()) == before


def test_a_league_user_acts_only_for_its_league(
    demo_registry: Flask, client: FlaskClient, auth: AuthHeaders
) -> None:
    me = client.get("/api/v1/me", headers=auth("league", "ordos")).get_json()
    assert me["role"] == "league" and me["league"] == "ordos"


def test_admin_deactivates_and_reactivates(
    demo_registry: Flask, client: FlaskClient, auth: AuthHeaders
) -> None:
    league = auth("league", "ordos")
    user_id = client.get("/api/v1/me", headers=league).get_json()["user_id"]
    admin = auth("admin")
    client.patch(f"/api/v1/users/{user_id}", headers=admin, json={"active": False})
    assert client.get("/api/v1/me", headers=league).status_code == 401
    client.patch(f"/api/v1/users/{user_id}", headers=admin, json={"active": True})
    assert client.get("/api/v1/me", headers=league).status_code == 200
    short = client.patch(f"/api/v1/users/{user_id}", headers=admin, json={"password": "x"})
    assert short.status_code == 422
