"""Issue 11, item 6: logout, password, activation and role changes end earlier sessions."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from exchange.extensions import db
from exchange.models import Role, User
from exchange.uow import new_unit_of_work
from tests.exchange.page_helpers import PASSWORD, csrf_token, login, make_user

Auth = Callable[..., dict[str, str]]


@pytest.fixture
def rita(demo_registry: Flask) -> int:
    make_user(demo_registry, "rita", Role.REGULATOR)
    with demo_registry.app_context(), new_unit_of_work(db.session_factory) as session:
        return int(session.scalar(select(User.id).where(User.username == "rita")))


def saved_cookie(client: FlaskClient) -> str:
    cookie = client.get_cookie("session")
    assert cookie is not None
    return cookie.value


def replay_cookie(app: Flask, value: str) -> int:
    """Status of a protected page for a browser that kept the cookie ``value``."""
    other = app.test_client()
    other.set_cookie("session", value)
    return other.get("/regulator").status_code


def test_logout_ends_a_saved_copy_of_the_session(
    demo_registry: Flask, client: FlaskClient, rita: int
) -> None:
    login(client, "rita")
    saved = saved_cookie(client)
    assert replay_cookie(demo_registry, saved) == 200
    second = demo_registry.test_client()  # another browser of the same user
    login(second, "rita")
    out = client.post("/logout", data={"csrf_token": csrf_token(client, "/regulator")})
    assert out.status_code == 302
    assert replay_cookie(demo_registry, saved) == 302  # to the login page
    assert second.get("/regulator").status_code == 302
    login(client, "rita")  # a new login works
    assert client.get("/regulator").status_code == 200


@pytest.mark.parametrize(
    "change",
    [
        {"password": PASSWORD + " new"},
        {"active": False},
    ],
)
def test_admin_changes_end_earlier_sessions(
    demo_registry: Flask, client: FlaskClient, auth: Auth, rita: int, change: dict[str, object]
) -> None:
    login(client, "rita")
    saved = saved_cookie(client)
    response = client.patch(f"/api/v1/users/{rita}", json=change, headers=auth("admin"))
    assert response.status_code == 200, response.get_json()
    if change.get("active") is False:
        again = client.patch(f"/api/v1/users/{rita}", json={"active": True}, headers=auth("admin"))
        assert again.status_code == 200
    assert replay_cookie(demo_registry, saved) == 302
    assert client.get("/regulator").status_code == 302


def test_a_role_change_ends_earlier_sessions(
    demo_registry: Flask, client: FlaskClient, rita: int
) -> None:
    login(client, "rita")
    saved = saved_cookie(client)
    with demo_registry.app_context(), new_unit_of_work(db.session_factory) as session:
        user = session.get(User, rita)
        assert user is not None
        user.role = Role.AUDITOR
        session.commit()
    assert replay_cookie(demo_registry, saved) == 302
