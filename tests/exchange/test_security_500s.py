"""Issue 11, item 11: odd query strings and login targets are 4xx, not 500; one verify job."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from exchange.extensions import db
from exchange.models import BackgroundJob, JobStatus, Role
from exchange.uow import new_unit_of_work
from tests.exchange.page_helpers import PASSWORD, csrf_token, make_user

Auth = Callable[..., dict[str, str]]
BIG = "9" * 21
HUGE = "9" * 5000


@pytest.mark.parametrize(
    ("role", "url"),
    [
        ("regulator", f"/runs?market={BIG}"),
        ("regulator", "/runs?market=abc"),
        ("regulator", "/runs?market=-1"),
        ("regulator", f"/runs?page={HUGE}"),
        ("regulator", f"/runs?page={BIG}"),
        ("auditor", f"/audit?page={HUGE}"),
        ("league", f"/desk/statement?page={HUGE}"),
        ("regulator", f"/api/v1/orders?page={HUGE}"),
        ("regulator", f"/api/v1/orders?market_id={BIG}"),
        ("auditor", f"/api/v1/ledger/journals?page={HUGE}"),
        ("admin", f"/api/v1/action-log?page={HUGE}"),
        ("regulator", f"/api/v1/markets/1/clearing-runs?page={HUGE}"),
    ],
)
def test_odd_numbers_in_query_strings_are_not_500(
    demo_registry: Flask, client: FlaskClient, auth: Auth, role: str, url: str
) -> None:
    headers = auth(role, "ordos") if role == "league" else auth(role)
    response = client.get(url, headers=headers)
    assert response.status_code < 500, (url, response.status_code)


def test_a_bad_market_filter_is_a_4xx_naming_it(client: FlaskClient, auth: Auth) -> None:
    response = client.get(f"/runs?market={BIG}", headers=auth("regulator"))
    assert 400 <= response.status_code < 500
    assert "market" in response.get_data(as_text=True)


@pytest.mark.parametrize("target", ["/x\r\nSet-Cookie: a=b", "/x\nLocation: //evil", "/ok\t"])
def test_login_next_with_control_characters_goes_home(
    demo_registry: Flask, client: FlaskClient, target: str
) -> None:
    make_user(demo_registry, "rita", Role.REGULATOR)
    response = client.post(
        "/login",
        query_string={"next": target},
        data={"username": "rita", "password": PASSWORD, "csrf_token": csrf_token(client)},
    )
    assert response.status_code == 302
    assert response.headers["Location"] == "/"
    assert "Set-Cookie: a=b" not in str(response.headers)


def test_one_verification_at_a_time(demo_registry: Flask, client: FlaskClient, auth: Auth) -> None:
    with demo_registry.app_context(), new_unit_of_work(db.session_factory) as session:
        running = BackgroundJob(kind="verify", status=JobStatus.RUNNING, created_by="x",
                                progress=0, params={})  # fmt: skip
        session.add(running)
        session.commit()
        running_id = running.id
    token = csrf_token(client, "/login")
    for _ in range(3):
        response = client.post("/audit/verify", headers=auth("auditor"), data={"csrf_token": token})
        assert response.status_code == 302
        assert response.headers["Location"].endswith(f"/audit/verify/{running_id}")
    with demo_registry.app_context(), new_unit_of_work(db.session_factory) as session:
        count = session.scalar(
            select(func.count()).select_from(BackgroundJob).where(BackgroundJob.kind == "verify")
        )
    assert count == 1
