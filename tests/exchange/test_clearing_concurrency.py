"""Exactly once and crash safety of clearing runs, with real processes.

Runs on SQLite (the test's database file) and on PostgreSQL (TEST_DATABASE_URL).
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import func, select

import ledger
import matching
from exchange.extensions import db
from exchange.mechanisms.call_auction.run import market_rules, run_clearing
from exchange.models import Market, Side
from exchange.models.trading import ClearingRun, Order, RunTrigger
from exchange.services.commands import PlaceOrder
from exchange.services.orders import place_order
from exchange.uow import new_unit_of_work
from tests.exchange.trading_helpers import fund, market_id, verify_ok

pytestmark = pytest.mark.slow  # worker processes, killed at random points

ROOT = Path(__file__).resolve().parents[2]


def book(app: Flask, mid: int, orders: int, seed: int = 7) -> None:
    """Fund two sides and post ``orders`` crossing orders in market ``mid``."""
    rng = random.Random(seed)
    sellers, buyers = ["ordos", "alxa", "wuhai"], ["baotou", "hohhot", "chifeng"]
    fund(
        app,
        rights={(s, mid): 10_000_000 for s in sellers},
        cash={b: 10_000_000_000 for b in buyers},
    )
    with app.app_context(), new_unit_of_work(db.session_factory) as s:
        for n in range(orders):
            side = Side.SELL if n % 2 else Side.BUY
            league = rng.choice(sellers if side is Side.SELL else buyers)
            command = PlaceOrder(
                market_id=mid,
                side=side,
                quantity=rng.randint(1, 20) * 100,
                limit_price=rng.randint(9_000, 10_000),
                client_order_id=f"o{n}",
            )
            place_order(s, command, league=league, actor="test")


def runs(app: Flask, mid: int) -> list[tuple[int, datetime, str]]:
    with app.app_context(), new_unit_of_work(db.session_factory) as s:
        return list(
            s.execute(
                select(ClearingRun.id, ClearingRun.window, ClearingRun.status).where(
                    ClearingRun.market_id == mid
                )
            )
        )


def settlement_journals(app: Flask, run_id: int) -> int:
    with app.app_context(), new_unit_of_work(db.session_factory) as s:
        total, _ = ledger.list_journals(s, reference=f"run:{run_id}/", limit=1)
        return total


def worker(*args: str) -> subprocess.Popen[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.Popen(
        [sys.executable, "-m", "tests.exchange.clearing_worker", *args],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_four_schedulers_and_a_burst_of_triggers_make_one_run(
    demo_registry: Flask, database_url: str
) -> None:
    app = demo_registry
    mid = market_id(app, "CEA-2026")
    book(app, mid, 200)
    with app.app_context(), new_unit_of_work(db.session_factory) as s:
        s.get(Market, mid).clearing_schedule = "*/5 * * * *"  # type: ignore[union-attr]
        s.commit()
    window = datetime(2027, 5, 1, 1, 5, tzinfo=UTC)
    at = datetime.now(UTC) + timedelta(seconds=4)
    procs = [
        worker(
            "scheduled",
            database_url,
            str(mid),
            (window + timedelta(seconds=90)).isoformat(),
            at.isoformat(),
        )
        for _ in range(4)
    ]

    outcomes: list[bool] = []

    def manual() -> None:
        with app.app_context():
            outcomes.append(
                run_clearing(
                    db.session_factory, mid, window, trigger=RunTrigger.MANUAL, actor="burst"
                ).created
            )

    time.sleep(max(0.0, (at - datetime.now(UTC)).total_seconds()))
    burst = [threading.Thread(target=manual) for _ in range(6)]
    for t in burst:
        t.start()
    for t in burst:
        t.join()
    results = []
    for p in procs:
        out, err = p.communicate(timeout=120)
        assert p.returncode == 0, err
        results.append(json.loads(out.strip().splitlines()[-1]))
    assert all("error" not in r for r in results), results
    created = [r["created"] for r in results] + outcomes
    assert created.count(True) == 1, created
    rows = runs(app, mid)
    assert len(rows) == 1
    run_id, got_window, status = rows[0]
    assert got_window == window and status == "completed"
    assert {r["run_id"] for r in results} == {run_id}
    journals = settlement_journals(app, run_id)
    with app.app_context(), new_unit_of_work(db.session_factory) as s:
        filled = (
            s.scalar(select(func.count()).select_from(Order).where(Order.last_run_id == run_id))
            or 0
        )
    assert journals >= filled > 0  # one settlement: a journal per fill (+ congestion)
    verify_ok(app)


def test_a_run_killed_at_random_points_leaves_nothing(
    demo_registry: Flask, database_url: str
) -> None:
    app = demo_registry
    mid = market_id(app, "CEA-2026")
    book(app, mid, 300)
    with app.app_context(), new_unit_of_work(db.session_factory) as s:
        market = s.get(Market, mid)
        assert market is not None
        rows = s.execute(
            select(Order.id, Order.side, Order.quantity, Order.limit_price).order_by(Order.id)
        ).all()
        expected = matching.clear(
            [matching.Order(str(i), side.value, q, p, i) for i, side, q, p in rows],
            market_rules(s, market),
        )
    rng = random.Random(20270301)
    base = datetime(2027, 6, 1, tzinfo=UTC)
    kills = 20
    for n in range(kills):
        proc = worker("slow", database_url, str(mid), (base + timedelta(minutes=n)).isoformat())
        assert proc.stdout is not None
        assert proc.stdout.readline().strip() == "ready"
        time.sleep(rng.uniform(0.0, 0.45))
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
        assert proc.returncode == -signal.SIGKILL, proc.stderr.read() if proc.stderr else ""
        proc.stdout.close()
        if proc.stderr:
            proc.stderr.close()
        assert runs(app, mid) == [], f"kill {n} left a run behind"
        verify_ok(app)
    with app.app_context():
        outcome = run_clearing(
            db.session_factory,
            mid,
            base + timedelta(hours=1),
            trigger=RunTrigger.MANUAL,
            actor="test",
        )
        with new_unit_of_work(db.session_factory) as s:
            run = s.get(ClearingRun, outcome.run_id)
            assert run is not None
            assert run.status == "completed"
            assert run.result_hash == matching.result_hash(expected)
            assert run.volume == expected.volume > 0
    verify_ok(app)
