"""Bearer tokens: valid ones authenticate; expired, revoked, malformed and unknown ones get 401."""

from __future__ import annotations

import hashlib
from datetime import timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from exchange.extensions import db
from exchange.identity import service
from exchange.models import ApiToken, Role, utcnow
from exchange.uow import new_unit_of_work
from tests.conftest import AuthHeaders


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def alice(app: Flask) -> tuple[int, str]:
    """An auditor with one token: (user id, token)."""
    with app.app_context(), new_unit_of_work(db.session_factory) as s:
        user = service.create_user(s, username="alice", role=Role.AUDITOR)
        return user.id, service.create_token(s, user.id, days=7).secret


def test_a_valid_token_authenticates(client: FlaskClient, alice: tuple[int, str]) -> None:
    response = client.get("/api/v1/me", headers=bearer(alice[1]))
    assert response.status_code == 200
    assert response.get_json() == {
        "user_id": alice[0],
        "username": "alice",
        "role": "auditor",
        "league": None,
        "auth": "token",
    }


def test_no_credentials_is_401_with_a_bearer_challenge(client: FlaskClient) -> None:
    response = client.get("/api/v1/me")
    assert response.status_code == 401
    assert response.get_json()["error"] == "unauthorized"
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_only_the_sha256_of_a_token_is_stored(app: Flask, alice: tuple[int, str]) -> None:
    with app.app_context(), new_unit_of_work(db.session_factory) as s:
        stored = s.scalars(select(ApiToken)).one()
    assert stored.token_hash == hashlib.sha256(alice[1].encode()).hexdigest()
    assert alice[1] not in (stored.token_hash, stored.prefix, stored.name)
    assert alice[1].startswith(stored.prefix)


def test_expired_token_is_401(app: Flask, client: FlaskClient, alice: tuple[int, str]) -> None:
    with app.app_context(), new_unit_of_work(db.session_factory) as s, s.begin():
        token = s.scalars(select(ApiToken)).one()
        token.expires_at = utcnow() - timedelta(seconds=1)
    response = client.get("/api/v1/me", headers=bearer(alice[1]))
    assert response.status_code == 401
    assert response.get_json()["error"] == "invalid_token"
    assert "expired" in response.get_json()["message"]


def test_revoked_token_is_401_at_once(client: FlaskClient, alice: tuple[int, str]) -> None:
    user_id, token = alice
    listed = client.get(f"/api/v1/users/{user_id}/tokens", headers=bearer(token)).get_json()
    assert [t["status"] for t in listed] == ["active"]
    assert all("token" not in t for t in listed)  # secrets are never listed
    revoked = client.delete(
        f"/api/v1/users/{user_id}/tokens/{listed[0]['id']}", headers=bearer(token)
    )
    assert revoked.status_code == 200
    assert revoked.get_json()["status"] == "revoked"
    response = client.get("/api/v1/me", headers=bearer(token))
    assert response.status_code == 401
    assert "revoked" in response.get_json()["message"]


@pytest.mark.parametrize(
    "header",
    [
        "Bearer",
        "Bearer ",
        "Basic YWxpY2U6c2VjcmV0",
        "Token exr_abc",
        "Bearer exr_short",
        "Bearer " + "x" * 5000,
        "Bearer exr_" + "A" * 43,  # well-formed, unknown
        "bearer exr_" + "é" * 43,
    ],
)
def test_malformed_or_unknown_tokens_are_401_even_on_public_routes(
    demo_registry: Flask, client: FlaskClient, header: str
) -> None:
    for path in ("/api/v1/me", "/api/v1/markets", "/"):
        response = client.get(path, headers={"Authorization": header})
        assert response.status_code == 401, (path, header)
        assert response.get_json()["error"] == "invalid_token"


def test_a_deactivated_users_token_is_401(
    client: FlaskClient, alice: tuple[int, str], auth: AuthHeaders
) -> None:
    user_id, token = alice
    off = client.patch(f"/api/v1/users/{user_id}", headers=auth("admin"), json={"active": False})
    assert off.status_code == 200
    assert off.get_json()["active"] is False
    assert client.get("/api/v1/me", headers=bearer(token)).status_code == 401


def test_another_users_token_cannot_touch_my_tokens(
    client: FlaskClient, alice: tuple[int, str], auth: AuthHeaders
) -> None:
    user_id, token = alice
    mine = client.get(f"/api/v1/users/{user_id}/tokens", headers=bearer(token)).get_json()
    other = auth("regulator")
    for method, path in [
        ("GET", f"/api/v1/users/{user_id}/tokens"),
        ("POST", f"/api/v1/users/{user_id}/tokens"),
        ("DELETE", f"/api/v1/users/{user_id}/tokens/{mine[0]['id']}"),
    ]:
        response = client.open(
            path, method=method, headers=other, json={} if method == "POST" else None
        )
        assert response.status_code == 403, (method, path)
    # Revoking my token through my own user id but someone else's token id: not found.
    regulator_id = client.get("/api/v1/me", headers=other).get_json()["user_id"]
    theirs = client.get(f"/api/v1/users/{regulator_id}/tokens", headers=other).get_json()
    wrong = client.delete(
        f"/api/v1/users/{user_id}/tokens/{theirs[0]['id']}", headers=bearer(token)
    )
    assert wrong.status_code == 404
    assert client.get("/api/v1/me", headers=bearer(token)).status_code == 200
    assert client.get("/api/v1/me", headers=other).status_code == 200


def test_a_new_token_is_shown_once_and_works(client: FlaskClient, alice: tuple[int, str]) -> None:
    user_id, token = alice
    created = client.post(
        f"/api/v1/users/{user_id}/tokens", headers=bearer(token), json={"name": "ci", "days": 2}
    )
    assert created.status_code == 201
    body = created.get_json()
    assert body["token"].startswith("exr_") and body["name"] == "ci"
    assert client.get("/api/v1/me", headers=bearer(body["token"])).status_code == 200
    listed = client.get(f"/api/v1/users/{user_id}/tokens", headers=bearer(token)).get_json()
    assert body["token"] not in str(listed)


@pytest.mark.parametrize("days", [0, 367, "3", 1.5, True, None])
def test_token_lifetime_is_bounded(
    client: FlaskClient, alice: tuple[int, str], days: object
) -> None:
    user_id, token = alice
    response = client.post(
        f"/api/v1/users/{user_id}/tokens", headers=bearer(token), json={"days": days}
    )
    assert response.status_code == 422
    assert "days" in response.get_json()["errors"]["json"]
