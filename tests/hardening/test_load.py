"""The load test, reduced and bounded: 12 leagues posting and cancelling crossing orders
while the regulator triggers clearing runs every second, for a few seconds; then every
order, hold and run is accounted for (``tests.hardening.load_audit``). The full run, over HTTP
under gunicorn on PostgreSQL, is ``bench/load/run.py`` (figures in bench/README.md).
"""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest
from flask import Flask

from exchange.extensions import db
from exchange.uow import new_unit_of_work
from tests.conftest import AuthHeaders
from tests.hardening.helpers import client_send, trading_world
from tests.hardening.load_audit import audit
from tests.hardening.workload import ClearLog, LeagueLog, clearing_loop, league_client, summarise

pytestmark = pytest.mark.slow  # threads of leagues and a clearing loop for a while

SECONDS = 3.0


def test_concurrent_orders_cancels_and_clearing_lose_and_duplicate_nothing(
    demo_registry: Flask, auth: AuthHeaders
) -> None:
    app = demo_registry
    world = trading_world(app, auth)
    logs: list[LeagueLog] = []
    clear_logs: list[ClearLog] = []
    failures: list[BaseException] = []
    lock = threading.Lock()

    def league(n: int, name: str) -> None:
        try:
            log = league_client(
                client_send(app.test_client()),
                name,
                world.tokens[name],
                world.markets[name],
                seconds=SECONDS,
                seed=n,
                cancel_share=0.3,
                repeat_share=0.1,
            )
            with lock:
                logs.append(log)
        except BaseException as exc:  # reported below
            failures.append(exc)

    def clearing() -> None:
        market_ids = sorted({m.id for ms in world.markets.values() for m in ms})
        try:
            clear_logs.append(
                clearing_loop(
                    client_send(app.test_client()),
                    world.regulator,
                    market_ids,
                    seconds=SECONDS,
                    interval=1.0,
                )
            )
        except BaseException as exc:
            failures.append(exc)

    threads = [
        threading.Thread(target=league, args=(n, name)) for n, name in enumerate(world.tokens)
    ]
    threads.append(threading.Thread(target=clearing))
    started = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    elapsed = time.monotonic() - started
    assert not failures, failures
    assert len(logs) == 12 and len(clear_logs) == 1
    figures: dict[str, Any] = summarise(logs, clear_logs[0], elapsed)
    print("load figures:", figures)  # the test's figure (pytest -s shows it)
    with app.app_context(), new_unit_of_work(db.session_factory) as session:
        problems, state = audit(session, logs, clear_logs[0])
    print("load audit:", state)
    assert not problems, problems[:20]
    assert figures["errors_5xx"] == 0 and figures["no_answer_retried"] == 0, figures["statuses"]
    assert figures["orders_accepted"] > 0 and state["runs"] > 0
    assert state["runs_with_volume"] > 0, "the load must trade, not only rest in the book"
    assert state["order_statuses"].get("cancelled", 0) > 0
