"""Browser login: sessions, CSRF, cookie settings, rate limits and security headers."""

from __future__ import annotations

import re

import pytest
from flask import Flask
from flask.testing import FlaskClient

from exchange.extensions import db
from exchange.identity import service
from exchange.models import Role
from exchange.uow import new_unit_of_work

PASSWORD = "correct horse battery"


@pytest.fixture
def regulator(demo_registry: Flask) -> int:
    with demo_registry.app_context(), new_unit_of_work(db.session_factory) as s:
        return service.create_user(s, username="Rita", role=Role.REGULATOR, password=PASSWORD).id


def csrf_token(client: FlaskClient, path: str = "/login") -> str:
    page = client.get(path).get_data(as_text=True)
    match = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page)
    assert match, page
    return match.group(1)


def login(client: FlaskClient, username: str = "rita", password: str = PASSWORD, **kw: str):  # type: ignore[no-untyped-def]
    token = csrf_token(client)
    return client.post(
        "/login",
        data={"username": username, "password": password, "csrf_token": token},
        **kw,  # type: ignore[arg-type]
    )


def test_login_starts_a_session_with_safe_cookie_settings(
    client: FlaskClient, regulator: int
) -> None:
    response = login(client, username="RITA")  # usernames are case-insensitive
    assert response.status_code == 302
    assert response.headers["Location"] == "/regulator"  # each role lands on its own page
    cookie = next(h for h in response.headers.getlist("Set-Cookie") if h.startswith("session="))
    assert "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie
    assert "Secure" not in cookie  # EXCHANGE_SECURE_COOKIES is off in tests
    me = client.get("/api/v1/me").get_json()
    assert me["username"] == "rita" and me["auth"] == "session"
    home = client.get("/").get_data(as_text=True)
    assert "rita" in home and "Log out" in home


def test_secure_cookies_when_configured(regulator: int, demo_registry: Flask) -> None:
    demo_registry.config["SESSION_COOKIE_SECURE"] = True
    client = demo_registry.test_client()
    response = login(client)
    cookie = next(h for h in response.headers.getlist("Set-Cookie") if h.startswith("session="))
    assert "Secure" in cookie


def test_wrong_password_and_unknown_user_are_refused_alike(
    client: FlaskClient, regulator: int
) -> None:
    wrong = login(client, password="not the password")
    unknown = login(client, username="nobody")
    assert wrong.status_code == unknown.status_code == 401
    assert "Wrong username or password" in wrong.get_data(as_text=True)
    assert client.get("/api/v1/me").status_code == 401


def test_login_redirects_only_to_local_paths(client: FlaskClient, regulator: int) -> None:
    token = csrf_token(client)
    data = {"username": "rita", "password": PASSWORD, "csrf_token": token}
    local = client.post("/login?next=/api/docs", data=data)
    assert local.headers["Location"] == "/api/docs"
    client.post("/logout", data={"csrf_token": csrf_token(client, "/")})
    for target in ("https://evil.example/", "//evil.example/", "/\\evil.example"):
        token = csrf_token(client)
        data["csrf_token"] = token
        response = client.post("/login", query_string={"next": target}, data=data)
        assert response.headers["Location"] == "/", target
        client.post("/logout", data={"csrf_token": csrf_token(client, "/")})


def test_a_form_post_without_a_valid_csrf_token_is_refused(
    client: FlaskClient, regulator: int
) -> None:
    no_token = client.post("/login", data={"username": "rita", "password": PASSWORD})
    assert no_token.status_code == 400
    assert "CSRF" in no_token.get_json()["message"]
    forged = client.post(
        "/login", data={"username": "rita", "password": PASSWORD, "csrf_token": "forged"}
    )
    assert forged.status_code == 400
    assert client.get("/api/v1/me").status_code == 401


def test_logout_needs_its_csrf_token(client: FlaskClient, regulator: int) -> None:
    login(client)
    assert client.post("/logout").status_code == 400
    assert client.get("/api/v1/me").status_code == 200
    out = client.post("/logout", data={"csrf_token": csrf_token(client, "/")})
    assert out.status_code == 302
    assert client.get("/api/v1/me").status_code == 401
    assert client.get("/logout").status_code == 405


def test_a_session_cookie_alone_cannot_change_state_through_the_api(
    client: FlaskClient, regulator: int
) -> None:
    login(client)
    path = f"/api/v1/users/{regulator}/tokens"
    refused = client.post(path, json={"name": "x"})
    assert refused.status_code == 400
    assert "CSRF" in refused.get_json()["message"]
    assert client.get(path).get_json() == []
    allowed = client.post(
        path, json={"name": "x"}, headers={"X-CSRFToken": csrf_token(client, "/")}
    )
    assert allowed.status_code == 201


@pytest.mark.slow
def test_repeated_bad_logins_are_rate_limited(client: FlaskClient, regulator: int) -> None:
    statuses = [login(client, password=f"guess-{i}").status_code for i in range(12)]
    assert statuses[:10] == [401] * 10
    assert statuses[10:] == [429, 429]
    limited = login(client)  # even the right password waits now
    assert limited.status_code == 429
    assert limited.get_json()["error"] == "too_many_requests"
    assert "Retry-After" in limited.headers


def test_token_creation_is_rate_limited(app: Flask, client: FlaskClient) -> None:
    app.config["RATELIMIT_TOKENS"] = "3 per minute"
    with app.app_context(), new_unit_of_work(db.session_factory) as s:
        user = service.create_user(s, username="bob", role=Role.AUDITOR)
        headers = {"Authorization": f"Bearer {service.create_token(s, user.id).secret}"}
    statuses = [
        client.post(f"/api/v1/users/{user.id}/tokens", headers=headers, json={}).status_code
        for _ in range(4)
    ]
    assert statuses == [201, 201, 201, 429]


@pytest.mark.parametrize("path", ["/", "/login", "/api/v1/markets", "/api/docs", "/nothing"])
def test_security_headers(client: FlaskClient, path: str) -> None:
    headers = client.get(path).headers
    csp = headers["Content-Security-Policy"]
    assert "default-src 'self'" in csp and "frame-ancestors 'none'" in csp
    assert "http:" not in csp and "https:" not in csp and "*" not in csp
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["X-Frame-Options"] == "DENY"
    assert headers["Referrer-Policy"] == "same-origin"
    assert "Strict-Transport-Security" not in headers  # plain http


def test_hsts_over_https(client: FlaskClient) -> None:
    response = client.get("/", base_url="https://exchange.example")
    assert response.headers["Strict-Transport-Security"].startswith("max-age=")


def test_pages_use_no_inline_scripts(client: FlaskClient) -> None:
    for path in ("/", "/login"):
        page = client.get(path).get_data(as_text=True)
        assert "<script>" not in page and "onclick" not in page
