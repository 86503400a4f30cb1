"""Faults: the database restarted under load, a read-only or full SQLite database, clock
jumps. Each ends with the ledger verified and nothing half-done.

(A process killed in the middle of settlement: tests/exchange/test_clearing_concurrency.py,
20 SIGKILLs at random points, on SQLite and PostgreSQL.)
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import event, func, select

import ledger
from exchange import create_app
from exchange.extensions import db
from exchange.mechanisms.call_auction import jobs as scheduling
from exchange.mechanisms.call_auction.run import run_clearing
from exchange.migrate import upgrade_engine
from exchange.models import Market
from exchange.models.trading import ClearingRun, RunTrigger
from exchange.uow import new_unit_of_work
from tests.conftest import PG_URL, AuthHeaders
from tests.exchange.trading_helpers import fund, market_id, verify_ok
from tests.hardening.helpers import client_send, row_counts, trading_world
from tests.hardening.load_audit import audit
from tests.hardening.workload import ClearLog, LeagueLog, league_client

PG_BIN = Path("/usr/lib/postgresql/15/bin")


def _order(mid: int, cid: str) -> dict[str, Any]:
    return {
        "market_id": mid,
        "side": "sell",
        "quantity": 100,
        "limit_price": 9000,
        "client_order_id": cid,
    }


# --- SQLite: read-only database, full disk ------------------------------------------


def _sqlite_only() -> None:
    if PG_URL:
        pytest.skip("SQLite file faults (the PostgreSQL run covers the server restart)")


def _pragma_on_connect(app: Flask, *pragmas: str) -> None:
    engine = app.extensions["exchange.db"]["engine"]

    @event.listens_for(engine, "connect")
    def _apply(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        for pragma in pragmas:
            cursor.execute(pragma)
        cursor.close()

    engine.dispose()


def test_read_only_sqlite_gives_503_and_changes_nothing(
    demo_registry: Flask, auth: AuthHeaders
) -> None:
    _sqlite_only()
    app = demo_registry
    mid = market_id(app, "CEA-2026")
    fund(app, rights={("ordos", mid): 10_000}, cash={"ordos": 10**9})
    league, regulator = auth("league", "ordos"), auth("regulator")
    before = row_counts(app, skip=())
    _pragma_on_connect(app, "PRAGMA query_only = ON")  # the file is read-only now
    client = app.test_client()
    for method, path, headers, body in [
        ("POST", "/api/v1/orders", league, _order(mid, "ro-1")),
        ("POST", f"/api/v1/markets/{mid}/clearing-runs", regulator, {}),
        ("POST", "/api/v1/deposits", regulator, {"league": "ordos", "amount": 100}),
    ]:
        response = client.open(path, method=method, headers=headers, json=body)
        assert response.status_code == 503, response.get_data(as_text=True)
        assert response.get_json()["error"] == "service_unavailable"
        assert "read-only" in response.get_json()["message"]
        assert response.headers["Retry-After"]
    assert client.get("/api/v1/markets").status_code == 200  # reads still work
    assert client.get("/healthz").status_code == 200
    assert row_counts(app, skip=()) == before
    with app.app_context():
        session = app.extensions["exchange.db"]["read_sessions"]()
        try:
            assert ledger.verify(session).ok
        finally:
            session.close()


def test_full_sqlite_disk_gives_507_and_changes_nothing(
    demo_registry: Flask, auth: AuthHeaders
) -> None:
    _sqlite_only()
    app = demo_registry
    mid = market_id(app, "CEA-2026")
    fund(app, rights={("ordos", mid): 10**7}, cash={"ordos": 10**12})
    league = auth("league", "ordos")
    with app.app_context(), db.engine.connect() as conn:
        pages = conn.exec_driver_sql("PRAGMA page_count").scalar() or 0
    # The file may not grow by more than a few pages: the disk is "full".
    _pragma_on_connect(app, f"PRAGMA max_page_count = {int(pages) + 4}")
    client = app.test_client()
    seen: dict[int, int] = {}
    # The action log is left out: it records refused requests too, in a transaction of its
    # own, and whether its row still fits on the full disk depends on page boundaries.
    for n in range(400):
        before = row_counts(app)
        response = client.post("/api/v1/orders", headers=league, json=_order(mid, f"full-{n}"))
        seen[response.status_code] = seen.get(response.status_code, 0) + 1
        assert response.status_code in (201, 507), response.get_data(as_text=True)
        if response.status_code == 507:
            assert response.get_json()["error"] == "insufficient_storage"
            assert row_counts(app) == before, "a refused order left something behind"
            break
    assert seen.get(507), f"the disk never filled: {seen}"
    verify_ok(app)


# --- clock jumps ----------------------------------------------------------------------


def test_clock_jumps_never_make_a_second_run_of_a_window(
    demo_registry: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = demo_registry
    mid = market_id(app, "CEA-2026")
    with app.app_context(), new_unit_of_work(db.session_factory) as s:
        market = s.get(Market, mid)
        assert market is not None
        market.clearing_schedule = "*/5 * * * *"
        s.commit()
    base = datetime(2027, 5, 1, 2, 0, tzinfo=UTC)  # 10:00 Beijing time
    jumps = [7, 3, 9.99, 4.5, 11, 6, 10, 2, 14.99, 8, 0, 12, -1, 9]  # minutes after base
    clock = {"now": base}
    monkeypatch.setattr(scheduling, "utcnow", lambda: clock["now"])
    windows = set()
    for minutes in jumps:
        clock["now"] = base + timedelta(minutes=minutes)
        outcome = scheduling.clear_due(app, mid)  # the clock of the job
        assert outcome is not None
        windows.add(_window_of(minutes))
        # the same instant seen through another time zone, a microsecond off, or passed in
        again = scheduling.clear_due(app, mid, now=clock["now"].astimezone(UTC) + timedelta(0))
        assert again is not None and again.run_id == outcome.run_id and not again.created
    with app.app_context():
        direct = run_clearing(
            db.session_factory,
            mid,
            (base + timedelta(minutes=5, microseconds=999)).astimezone(),
            trigger=RunTrigger.MANUAL,
            actor="test",
        )
        assert not direct.created
        with new_unit_of_work(db.session_factory) as s:
            rows = s.execute(select(ClearingRun.window).where(ClearingRun.market_id == mid)).all()
            dupes = s.scalar(
                select(func.count()).select_from(
                    select(ClearingRun.window)
                    .group_by(ClearingRun.market_id, ClearingRun.window)
                    .having(func.count() > 1)
                    .subquery()
                )
            )
    assert dupes == 0
    assert {r[0] for r in rows} == {base + timedelta(minutes=w) for w in windows}
    assert len(rows) == len(windows)
    verify_ok(app)


def _window_of(minutes: float) -> int:
    return int(minutes // 5 * 5)


# --- PostgreSQL restarted under load ----------------------------------------------------


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _as_postgres(*args: str) -> None:
    subprocess.run(
        ["runuser", "-u", "postgres", "--", *args],
        check=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        timeout=120,
    )


@pytest.fixture
def own_postgres() -> Iterator[tuple[str, Any, Any]]:
    """A throwaway PostgreSQL cluster of our own (never the shared one on 5432)."""
    if not (PG_BIN / "initdb").exists() or shutil.which("runuser") is None:
        pytest.skip(f"PostgreSQL server binaries not found in {PG_BIN}")
    if os.geteuid() != 0:
        pytest.skip("needs root to run the cluster as the postgres OS user")
    root = Path(tempfile.mkdtemp(prefix="exchange-pg-"))
    os.chmod(root, 0o755)
    data = root / "data"
    port = _free_port()
    shutil.chown(root, "postgres", "postgres")
    _as_postgres(str(PG_BIN / "initdb"), "-D", str(data), "-U", "postgres", "-A", "trust")
    options = f"-p {port} -k {root} -c listen_addresses=127.0.0.1 -c fsync=off"

    def start() -> None:
        _as_postgres(str(PG_BIN / "pg_ctl"), "-D", str(data), "-o", options, "-w", "start")

    def stop() -> None:
        _as_postgres(str(PG_BIN / "pg_ctl"), "-D", str(data), "-m", "fast", "-w", "stop")

    start()
    try:
        yield f"postgresql+psycopg://postgres@127.0.0.1:{port}/postgres", start, stop
    finally:
        pg_ctl = ["runuser", "-u", "postgres", "--", str(PG_BIN / "pg_ctl"), "-D", str(data)]
        subprocess.run(
            [*pg_ctl, "-m", "immediate", "stop"],
            capture_output=True,
            timeout=60,
        )
        shutil.rmtree(root, ignore_errors=True)


@pytest.mark.slow
def test_database_restart_under_load_gives_503_then_recovers(
    own_postgres: tuple[str, Any, Any],
) -> None:
    url, start, stop = own_postgres
    app = create_app({"TESTING": True, "DATABASE_URL": url, "SECRET_KEY": "t"})
    with app.app_context():
        upgrade_engine(db.engine)
    from exchange.services.demo import seed_registry
    from exchange.uow import unit_of_work

    with app.app_context(), new_unit_of_work(db.session_factory) as s, unit_of_work(s):
        seed_registry(s)
    world = trading_world(app, _auth_for(app), markets_per_league=1)
    statuses: list[tuple[int, Any]] = []
    lock = threading.Lock()
    logs: list[LeagueLog] = []

    def recording(send: Any) -> Any:
        def wrapped(*args: Any) -> tuple[int, Any]:
            status, body = send(*args)
            with lock:
                statuses.append((status, body))
            return status, body

        return wrapped

    def league(n: int, name: str) -> None:
        log = league_client(
            recording(client_send(app.test_client())),
            name,
            world.tokens[name],
            world.markets[name],
            seconds=6.0,
            seed=n,
            pause=0.01,
        )
        with lock:
            logs.append(log)

    names = sorted(world.tokens)[:6]
    threads = [threading.Thread(target=league, args=(n, name)) for n, name in enumerate(names)]
    for t in threads:
        t.start()
    time.sleep(1.5)
    stop()  # in-flight requests lose their connections; new ones cannot connect
    down = app.test_client().get("/healthz")
    time.sleep(1.0)
    start()
    for t in threads:
        t.join(timeout=60)
    assert down.status_code == 503 and down.get_json()["error"] == "service_unavailable"
    assert app.test_client().get("/healthz").status_code == 200  # no manual action
    codes = [s for s, _b in statuses]
    assert 500 not in codes and all(s < 500 or s == 503 for s in codes), sorted(set(codes))
    unavailable = [b for s, b in statuses if s == 503]
    assert unavailable, "the restart was not seen by any request"
    assert all(b["error"] == "service_unavailable" and b["code"] == 503 for b in unavailable)
    assert codes[-len(names) :].count(201) + codes[-20:].count(201) > 0  # accepted again after
    with app.app_context(), new_unit_of_work(db.session_factory) as s:
        problems, state = audit(s, logs, ClearLog())
    print("restart:", {"503": len(unavailable), "requests": len(codes), **state})
    assert not problems, problems[:20]
    app.extensions["exchange.db"]["engine"].dispose()


def _auth_for(app: Flask) -> AuthHeaders:
    """The ``auth`` fixture's helper, for an app built inside the test."""
    from exchange.identity import service
    from exchange.models import Role

    def headers(role: str, league: str | None = None) -> dict[str, str]:
        with app.app_context(), new_unit_of_work(db.session_factory) as s:
            name = f"test-{role}" + (f"-{league}" if league else "")
            user = service.find_user(s, name) or service.create_user(
                s, username=name, role=Role(role), league_code=league
            )
            return {"Authorization": f"Bearer {service.create_token(s, user.id, name='t').secret}"}

    return headers
