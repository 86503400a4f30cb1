"""Issue 11, item 7: made-up HTTP methods and anonymous refused requests stay bounded."""

from __future__ import annotations

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from exchange.extensions import db
from exchange.models import ActionLog
from exchange.uow import new_unit_of_work


def action_rows(app: Flask) -> int:
    with app.app_context(), new_unit_of_work(db.session_factory) as session:
        return int(session.scalar(select(func.count()).select_from(ActionLog)) or 0)


def test_unknown_methods_are_refused_before_auth_and_not_logged(
    app: Flask, client: FlaskClient
) -> None:
    before = action_rows(app)
    for i in range(50):
        response = client.open(
            "/api/v1/orders", method=f"XMETHOD{i}", headers={"Authorization": "Bearer bad"}
        )
        assert response.status_code == 405  # not 401: no credential was looked at
        assert "Allow" in response.headers
    assert client.open("/", method="TRACE").status_code == 405
    assert action_rows(app) == before
    text = client.get("/metrics").get_data(as_text=True)
    assert "XMETHOD" not in text and 'method="TRACE"' not in text
    assert 'method="other"' in text


def test_anonymous_refused_writes_are_logged_within_a_budget(
    app: Flask, client: FlaskClient
) -> None:
    app.config["ACTION_LOG_ANONYMOUS_PER_ADDRESS"] = "5 per minute"
    before = action_rows(app)
    for _ in range(40):
        assert client.post("/api/v1/markets", json={}).status_code == 401
    assert action_rows(app) == before + 5
    text = client.get("/metrics").get_data(as_text=True)
    assert "exchange_action_log_dropped_total" in text
