"""Operations: request ids on every log line, JSON logs, /metrics and /healthz."""

from __future__ import annotations

import json
import logging
import os

import pytest
from flask import Flask
from flask.testing import FlaskClient

from exchange import create_app
from exchange.observability.logging import JsonFormatter, RequestIdFilter, accept_request_id
from exchange.services.verification import run_verify
from tests.conftest import AuthHeaders
from tests.exchange.trading_helpers import clear, fund, market_id


def test_request_id_is_accepted_or_generated_and_echoed(client: FlaskClient) -> None:
    given = client.get("/healthz", headers={"X-Request-ID": "lb-1234.abc:9"})
    assert given.headers["X-Request-ID"] == "lb-1234.abc:9"
    for bad in ["", "x" * 200, "a b", "<script>", "id\r\nSet-Cookie: x=1"]:
        try:
            response = client.get("/healthz", headers={"X-Request-ID": bad})
        except ValueError:  # werkzeug refuses header newlines on the client side
            continue
        rid = response.headers["X-Request-ID"]
        assert rid != bad and len(rid) == 32 and rid.isalnum()
    assert client.get("/healthz").headers["X-Request-ID"] != client.get("/").headers["X-Request-ID"]


def test_every_line_of_a_request_carries_its_id(
    demo_registry: Flask, auth: AuthHeaders, caplog: pytest.LogCaptureFixture
) -> None:
    client = demo_registry.test_client()
    handler = logging.Handler()
    lines: list[str] = []
    formatter = JsonFormatter()
    handler.emit = lambda record: lines.append(formatter.format(record))  # type: ignore[method-assign]
    handler.addFilter(RequestIdFilter())
    root = logging.getLogger()
    root.addHandler(handler)
    try:
        mid = market_id(demo_registry, "CEA-2026")
        client.post(
            f"/api/v1/markets/{mid}/clearing-runs",
            headers={**auth("regulator"), "X-Request-ID": "trace-42"},
            json={},
        )
    finally:
        root.removeHandler(handler)
    mine = [json.loads(line) for line in lines if '"trace-42"' in line]
    assert {entry["logger"] for entry in mine} >= {"exchange.request"}
    assert any(entry["msg"].startswith("clearing run") for entry in mine)
    request_line = next(e for e in mine if e["logger"] == "exchange.request")
    assert request_line["status"] == 201 and request_line["method"] == "POST"
    assert all(e["request_id"] == "trace-42" for e in mine)


def test_metrics_in_prometheus_text_format(
    demo_registry: Flask, client: FlaskClient, auth: AuthHeaders
) -> None:
    app = demo_registry
    mid = market_id(app, "CEA-2026")
    fund(app, rights={("ordos", mid): 1000}, cash={"baotou": 10**9})
    league = auth("league", "ordos")
    order = {"market_id": mid, "side": "sell", "quantity": 100, "limit_price": 9000}
    assert (
        client.post(
            "/api/v1/orders", headers=league, json={**order, "client_order_id": "m1"}
        ).status_code
        == 201
    )
    assert (
        client.post(
            "/api/v1/orders", headers=league, json={**order, "quantity": 7, "client_order_id": "m2"}
        ).status_code
        == 422
    )
    assert (
        client.post(
            "/api/v1/orders",
            headers=league,
            json={**order, "quantity": 10**9, "client_order_id": "m3"},
        ).status_code
        == 409
    )
    clear(app, mid)
    with app.app_context():
        assert run_verify(app)
    response = client.get("/metrics")
    assert response.status_code == 200
    assert response.mimetype == "text/plain"
    text = response.get_data(as_text=True)
    for needle in [
        f'exchange_orders_accepted_total{{market="{mid}"}}',
        'exchange_orders_rejected_total{reason="validation_error"}',
        'exchange_orders_rejected_total{reason="insufficient_funds"}',
        'exchange_clearing_runs_total{outcome="completed"}',
        "exchange_clearing_run_duration_seconds_bucket",
        "exchange_ledger_verify_ok 1.0",
        "exchange_ledger_verify_last_timestamp_seconds",
        "exchange_db_pool_checked_out",
        "exchange_database_up 1.0",
        f'exchange_clearing_last_window_timestamp_seconds{{market="{mid}"}}',
        f'exchange_clearing_window_missed{{market="{mid}"}}',
        f'exchange_clearing_last_run_failed{{market="{mid}"}} 0.0',
        "exchange_http_requests_total",
    ]:
        assert needle in text, needle


def test_healthz_checks_the_database(client: FlaskClient, tmp_path: object) -> None:
    ok = client.get("/healthz")
    assert ok.status_code == 200 and ok.get_json()["status"] == "ok"
    broken = create_app(
        {
            "TESTING": True,
            "DATABASE_URL": "postgresql+psycopg://nobody@127.0.0.1:1/none",
            "SECRET_KEY": "t",
        }
    )
    response = broken.test_client().get("/healthz")
    assert response.status_code == 503
    body = response.get_json()
    assert body["code"] == 503 and body["error"] == "service_unavailable"
    metrics = broken.test_client().get("/metrics")
    assert metrics.status_code == 200 and "exchange_database_up 0.0" in metrics.get_data(
        as_text=True
    )
    api = broken.test_client().get("/api/v1/markets")
    assert api.status_code == 503 and api.get_json()["error"] == "service_unavailable"


def test_a_due_window_without_a_run_is_reported_missed(
    demo_registry: Flask, client: FlaskClient
) -> None:
    """The mechanism says when trades were due: a call auction with no run has missed one."""
    mid = market_id(demo_registry, "YR-WATER-2027")
    text = client.get("/metrics").get_data(as_text=True)
    assert f'exchange_clearing_window_missed{{market="{mid}"}} 1.0' in text
    clear(demo_registry, mid)
    text = client.get("/metrics").get_data(as_text=True)
    # the run just made is for a window (2027) later than every window due by now
    assert f'exchange_clearing_window_missed{{market="{mid}"}} 0.0' in text


def test_a_fresh_request_id_takes_no_system_call_and_differs_in_a_forked_worker(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    read, write = os.pipe()
    pid = os.fork()  # as gunicorn makes its workers
    if pid == 0:
        os.write(write, accept_request_id(None).encode())
        os._exit(0)
    os.waitpid(pid, 0)
    in_child = os.read(read, 64).decode()
    os.close(read)
    os.close(write)
    assert in_child != accept_request_id(None)

    def no_urandom(n: int) -> bytes:
        raise AssertionError("os.urandom called for a request id")

    monkeypatch.setattr(os, "urandom", no_urandom)
    rid = accept_request_id(None)
    assert len(rid) == 32 and int(rid, 16) >= 0
