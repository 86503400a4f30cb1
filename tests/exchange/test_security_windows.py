"""Issue 11, item 9: a manual run may name only a past window of the market's schedule."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
from click.testing import CliRunner
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from exchange.cli import main
from exchange.extensions import db
from exchange.models import ClearingRun
from exchange.schedule import latest_window
from exchange.uow import new_unit_of_work
from tests.exchange.trading_helpers import market_id

Auth = Callable[..., dict[str, str]]


def runs(app: Flask) -> int:
    with app.app_context(), new_unit_of_work(db.session_factory) as session:
        return int(session.scalar(select(func.count()).select_from(ClearingRun)) or 0)


def test_future_and_off_schedule_windows_are_refused(
    demo_registry: Flask, client: FlaskClient, auth: Auth
) -> None:
    mid = market_id(demo_registry, "CEA-2026")
    schedule = client.get(f"/api/v1/markets/{mid}").get_json()["clearing_schedule"]
    past = latest_window(schedule, datetime.now(UTC) - timedelta(hours=1))
    assert past is not None
    url = f"/api/v1/markets/{mid}/clearing-runs"
    for bad in ("2099-01-01T00:00:00+00:00", (past + timedelta(seconds=17)).isoformat(),
                (datetime.now(UTC) + timedelta(minutes=5)).isoformat()):  # fmt: skip
        response = client.post(url, json={"window": bad}, headers=auth("regulator"))
        assert response.status_code == 422, (bad, response.get_json())
        assert "window" in str(response.get_json()["errors"])
    assert runs(demo_registry) == 0
    ok = client.post(url, json={"window": past.isoformat()}, headers=auth("regulator"))
    assert ok.status_code == 201, ok.get_json()
    assert runs(demo_registry) == 1


def test_cli_refuses_a_future_window(
    demo_registry: Flask, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DATABASE_URL", database_url)
    result = CliRunner().invoke(main, ["clear", "CEA-2026", "--window", "2099-01-01T00:00"])
    assert result.exit_code != 0
    assert "window" in result.output and "future" in result.output
    assert runs(demo_registry) == 0


def test_a_market_that_does_not_trade_by_call_auction_has_no_runs(
    demo_registry: Flask,
    client: FlaskClient,
    auth: Auth,
    database_url: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # A run of a continuous market would lock its resting orders, which its entries lock too.
    mid = market_id(demo_registry, "CEA-2026-L")
    url = f"/api/v1/markets/{mid}/clearing-runs"
    response = client.post(url, json={}, headers=auth("regulator"))
    assert response.status_code == 409, response.get_json()
    body = response.get_json()
    assert body["error"] == "not_call_auction" and "continuous" in body["message"], body
    assert list(body["errors"]["json"]) == ["market_id"], body
    monkeypatch.setenv("DATABASE_URL", database_url)
    result = CliRunner().invoke(main, ["clear", "CEA-2026-L"])
    assert result.exit_code != 0 and "call auction" in result.output, result.output
    assert runs(demo_registry) == 0
    ok = client.post(f"/api/v1/markets/{market_id(demo_registry, 'CEA-2026')}/clearing-runs",
                     json={}, headers=auth("regulator"))  # fmt: skip
    assert ok.status_code == 201, ok.get_json()
