"""Background jobs run by job runners: claim, heartbeat, a runner killed mid-job."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner
from flask import Flask
from sqlalchemy import func, select
from sqlalchemy.orm import Session

import ledger
from exchange.cli import main
from exchange.extensions import db
from exchange.jobs import queue
from exchange.jobs.runner import JobRunner, Settings
from exchange.models import BackgroundJob, JobStatus, Market, Role, utcnow
from exchange.uow import new_unit_of_work
from ledger.models import Journal
from tests.exchange.page_helpers import csrf_token, login, make_user

ROOT = Path(__file__).resolve().parents[2]
MARKET = "COD-2027"
ROWS = [("ordos", 5), ("baotou", 7), ("ordos", 11)]
FAST = Settings(threads=1, poll=0.05, heartbeat=0.2, stale=timedelta(seconds=60))


def _add_job(app: Flask, kind: str, **values: object) -> int:
    with app.app_context(), new_unit_of_work(db.session_factory) as session, session.begin():
        job = BackgroundJob(kind=kind, created_by="rita", progress=0, **values)
        session.add(job)
        session.flush()
        return job.id


def _reader(app: Flask) -> Session:
    """A read-only session (on SQLite it does not wait for a paused writer)."""
    return app.extensions["exchange.db"]["read_sessions"]()  # type: ignore[no-any-return]


def _job(app: Flask, job_id: int) -> BackgroundJob:
    with app.app_context():
        session = _reader(app)
        try:
            job = session.get(BackgroundJob, job_id)
            assert job is not None
            session.expunge(job)
            return job
        finally:
            session.close()


def _issued(app: Flask) -> tuple[int, int]:
    """Units of MARKET issued so far, and the number of journals."""
    with app.app_context():
        session = _reader(app)
        try:
            mid = session.scalar(select(Market.id).where(Market.code == MARKET))
            issued = ledger.issued_total(session, ledger.market_asset(mid))
            journals = session.scalar(select(func.count()).select_from(Journal))
            return int(issued), int(journals or 0)
        finally:
            session.close()


def _queue_import(app: Flask) -> int:
    """A checked upload of ROWS and its queued import; the import's id."""
    accepted = [
        {"league": league, "market": MARKET, "quantity": qty, "reference": f"t-{n}"}
        for n, (league, qty) in enumerate(ROWS)
    ]
    preview = _add_job(
        app,
        "allocation_preview",
        status=JobStatus.SUCCEEDED,
        params={"text": ""},
        result={"accepted": accepted, "rejected": []},
    )
    return _add_job(
        app, "allocation_import", status=JobStatus.QUEUED, params={"preview_job": preview}
    )


@pytest.fixture
def spawn(database_url: str) -> Iterator[object]:
    """``spawn(mode)`` starts a runner process; all are killed at the end."""
    procs: list[subprocess.Popen[str]] = []

    def start(mode: str) -> subprocess.Popen[str]:
        proc = subprocess.Popen(
            [sys.executable, "-m", "tests.exchange.job_runner_worker", database_url, mode],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            text=True,
            env={**os.environ, "EXCHANGE_LOG_LEVEL": "WARNING"},
        )
        procs.append(proc)
        return proc

    yield start
    for proc in procs:
        if proc.poll() is None:
            proc.kill()
        proc.wait(10)
        if proc.stdout:
            proc.stdout.close()


def _wait_for(proc: subprocess.Popen[str], line: str, timeout: float = 60.0) -> None:
    timer = threading.Timer(timeout, proc.kill)
    timer.start()
    try:
        assert proc.stdout is not None
        for got in proc.stdout:
            if got.strip() == line:
                return
        raise AssertionError(f"runner ended without printing {line!r}")
    finally:
        timer.cancel()


def _next_runner(app: Flask) -> None:
    """A fresh runner takes up what the dead one left and does the queued jobs."""
    runner = JobRunner(app, FAST).start(workers=False)
    try:
        while runner.run_one():
            pass
    finally:
        runner.stop(5)


@pytest.mark.slow
def test_runner_killed_inside_the_import_transaction_the_next_runs_it_once(
    demo_registry: Flask, spawn: object
) -> None:
    app = demo_registry
    before = _issued(app)
    job_id = _queue_import(app)
    proc = spawn("in-transaction")  # type: ignore[operator]
    _wait_for(proc, f"paused {job_id}")
    held = _job(app, job_id)
    assert held.status is JobStatus.RUNNING and f":{proc.pid}:" in (held.runner or "")
    assert _issued(app) == before  # issued inside the open transaction: not visible
    proc.kill()
    proc.wait(10)

    runner = JobRunner(app, FAST).start(workers=False)
    try:
        requeued = _job(app, job_id)
        assert requeued.status is JobStatus.QUEUED
        assert f"process {proc.pid}" in (requeued.message or "") and "gone" in requeued.message
        assert runner.run_one()
    finally:
        runner.stop(5)
    done = _job(app, job_id)
    assert done.status is JobStatus.SUCCEEDED and done.attempts == 2, done.message
    assert done.result is not None and done.result["count"] == len(ROWS)
    issued, journals = _issued(app)
    assert issued == before[0] + sum(q for _league, q in ROWS)
    assert journals == before[1] + len(ROWS)


@pytest.mark.slow
def test_runner_killed_after_the_import_committed_the_next_does_not_import_again(
    demo_registry: Flask, spawn: object
) -> None:
    app = demo_registry
    before = _issued(app)
    job_id = _queue_import(app)
    proc = spawn("after-commit")  # type: ignore[operator]
    _wait_for(proc, f"paused {job_id}")
    assert _issued(app)[0] == before[0] + sum(q for _league, q in ROWS)  # committed
    assert _job(app, job_id).status is JobStatus.RUNNING
    proc.kill()
    proc.wait(10)

    _next_runner(app)
    done = _job(app, job_id)
    assert done.status is JobStatus.SUCCEEDED and done.attempts == 2
    assert "earlier runner" in (done.message or "")
    assert done.result is not None and done.result["count"] == len(ROWS)
    assert done.result["first_journal"] is not None
    assert _issued(app) == (before[0] + sum(q for _l, q in ROWS), before[1] + len(ROWS))


@pytest.mark.slow
def test_verify_killed_by_a_dead_runner_is_run_again_by_a_runner_process(
    demo_registry: Flask, spawn: object
) -> None:
    app = demo_registry
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait(10)
    job_id = _add_job(
        app,
        "verify",
        status=JobStatus.RUNNING,
        params={"replay_runs": 0},
        runner=f"{queue.RunnerId.new().host}:{dead.pid}:feed",
        heartbeat_at=utcnow(),
        started_at=utcnow(),
        attempts=1,
    )
    proc = spawn("normal")  # type: ignore[operator]
    _wait_for(proc, "ready")
    deadline = utcnow() + timedelta(seconds=30)
    while _job(app, job_id).status is not JobStatus.SUCCEEDED and utcnow() < deadline:
        threading.Event().wait(0.1)
    done = _job(app, job_id)
    assert done.status is JobStatus.SUCCEEDED and done.attempts == 2
    assert done.result is not None and done.result["ledger_ok"] is True
    assert f":{proc.pid}:" in (done.runner or "")


def test_a_job_whose_runner_died_too_often_fails_with_the_reason(demo_registry: Flask) -> None:
    app = demo_registry
    old = utcnow() - timedelta(minutes=5)
    exhausted = _add_job(
        app,
        "verify",
        status=JobStatus.RUNNING,
        params={},
        runner="elsewhere:4242:abc",
        heartbeat_at=old,
        started_at=old,
        attempts=3,
    )
    silent = _add_job(
        app,
        "allocation_preview",  # one verification at a time: other kinds here
        status=JobStatus.RUNNING,
        params={"replay_runs": 0},
        runner="elsewhere:4243:abc",
        heartbeat_at=old,
        started_at=old,
        attempts=1,
    )
    fresh = _add_job(
        app,
        "allocation_import",
        status=JobStatus.RUNNING,
        params={},
        runner="elsewhere:4244:abc",
        heartbeat_at=utcnow(),
        started_at=old,
        attempts=1,
    )
    runner = JobRunner(app, FAST).start(workers=False)
    runner.stop(5)
    failed = _job(app, exhausted)
    assert failed.status is JobStatus.FAILED and failed.finished_at is not None
    assert "elsewhere:4242:abc has not reported" in (failed.message or "")
    assert "not run again after 3 tries" in (failed.message or "")
    again = _job(app, silent)
    assert again.status is JobStatus.QUEUED and again.runner is None
    assert _job(app, fresh).status is JobStatus.RUNNING  # another host, still reporting


def test_gone_reason_rules() -> None:
    me = queue.RunnerId("here", 100, "mine")
    now = utcnow()
    stale = timedelta(seconds=60)

    def reason(runner: str | None, age: float | None, alive: bool = True) -> str | None:
        seen = None if age is None else now - timedelta(seconds=age)
        return queue.gone_reason(
            runner,
            seen,
            me=me,
            live_tokens={"mine", "twin"},
            now=now,
            stale=stale,
            alive=lambda _pid: alive,
        )

    assert reason("here:100:mine", 9999) is None  # this runner
    assert reason("here:100:twin", 9999) is None  # another runner of this process
    assert "earlier process" in (reason("here:100:old", 1) or "")  # restarted container
    assert "is gone" in (reason("here:7:x", 1, alive=False) or "")
    assert reason("here:7:x", 120) is None  # alive here: a long SQLite write may hold it
    assert "not reported" in (reason("here:7:x", 601) or "")
    assert reason("there:7:x", 59) is None
    assert "not reported" in (reason("there:7:x", 61) or "")
    assert reason(None, 61) is None  # a thread of a web worker of the older code
    assert "not reported" in (reason(None, 601) or "")


def test_concurrent_claims_take_each_job_once(demo_registry: Flask) -> None:
    app = demo_registry
    ids = {
        _add_job(app, "allocation_preview", status=JobStatus.QUEUED, params={}) for _ in range(24)
    }
    taken: list[list[int]] = [[] for _ in range(4)]
    barrier = threading.Barrier(4)

    def claimer(n: int) -> None:
        me = queue.RunnerId.new()
        barrier.wait()
        while True:
            session = app.extensions["exchange.db"]["sessions"]()
            try:
                job = queue.claim(session, me, ["allocation_preview"])
            finally:
                session.close()
            if job is None:
                return
            taken[n].append(job.id)

    with app.app_context():
        threads = [threading.Thread(target=claimer, args=(n,)) for n in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
    claimed = [job_id for batch in taken for job_id in batch]
    assert sorted(claimed) == sorted(ids)  # every job once, none twice
    assert all(_job(app, job_id).status is JobStatus.RUNNING for job_id in ids)


def test_the_page_only_queues_and_says_when_no_runner_takes_the_job(
    demo_registry: Flask,
) -> None:
    app = demo_registry
    app.config["JOB_WAIT_NOTICE_SECONDS"] = 0
    make_user(app, "abe", Role.AUDITOR)
    client = app.test_client()
    login(client, "abe")
    token = csrf_token(client, "/audit/verify")
    response = client.post("/audit/verify", data={"csrf_token": token})
    assert response.status_code == 302
    job_id = int(response.headers["Location"].rsplit("/", 1)[1])
    assert _job(app, job_id).status is JobStatus.QUEUED  # the request did not run it
    page = client.get(f"/audit/verify/{job_id}").get_data(as_text=True)
    assert "Queued, waiting for a job runner." in page and "exchange jobs run" in page
    zh = client.get(f"/audit/verify/{job_id}?lang=zh").get_data(as_text=True)
    assert "排队中，等待任务执行进程" in zh
    metrics = client.get("/metrics").get_data(as_text=True)
    assert 'exchange_background_jobs{status="queued"} 1.0' in metrics
    assert "exchange_job_runners_alive 0.0" in metrics
    waited = re.search(r"^exchange_background_job_oldest_queued_seconds (\S+)$", metrics, re.M)
    assert waited is not None and float(waited.group(1)) > 0  # (0.08 once read as "0.0" + "8")
    with app.app_context(), new_unit_of_work(db.session_factory) as session:
        queue.beat(session, queue.RunnerId.new())  # a runner reports in
    page = client.get(f"/audit/verify/{job_id}?lang=en").get_data(as_text=True)
    assert "Queued, waiting for a job runner." in page and "exchange jobs run" not in page
    assert "exchange_job_runners_alive 1.0" in client.get("/metrics").get_data(as_text=True)
    app.config["JOB_WAIT_NOTICE_SECONDS"] = 3600
    page = client.get(f"/audit/verify/{job_id}").get_data(as_text=True)
    assert "waiting for a job runner" not in page  # not before the notice is due

    _next_runner(app)
    page = client.get(f"/audit/verify/{job_id}").get_data(as_text=True)
    assert 'id="verify-summary"' in page and "waiting for a job runner" not in page


def test_jobs_run_once_does_the_queued_jobs(
    demo_registry: Flask, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = demo_registry
    # one verification at a time (issue 11): a single queued job
    ids = [_add_job(app, "verify", status=JobStatus.QUEUED, params={"replay_runs": 0})]
    monkeypatch.setenv("DATABASE_URL", database_url)
    result = CliRunner().invoke(main, ["jobs", "run", "--once"])
    assert result.exit_code == 0, result.output
    assert "1 job(s) done" in result.output
    for job_id in ids:
        job = _job(app, job_id)
        assert job.status is JobStatus.SUCCEEDED and job.result and job.result["ok"] is True


def test_upgrade_fails_the_jobs_left_running_by_web_worker_threads(tmp_path: Path) -> None:
    from sqlalchemy import text

    from exchange.db import make_engine
    from exchange.migrate import upgrade_engine

    engine = make_engine(f"sqlite:///{tmp_path / 'old.sqlite3'}")
    try:
        upgrade_engine(engine, "0005")
        with engine.begin() as conn:
            # (a queued *verification* is failed by 0006_security: one at a time)
            for status in ("running", "queued"):
                conn.execute(
                    text(
                        "INSERT INTO background_jobs (kind, status, created_by, created_at,"
                        " progress) VALUES ('allocation_preview', :status, 'abe',"
                        " CURRENT_TIMESTAMP, 0)"
                    ),
                    {"status": status},
                )
        upgrade_engine(engine)
        with engine.connect() as conn:
            rows = conn.execute(
                text("SELECT status, message, attempts FROM background_jobs ORDER BY id")
            ).all()
    finally:
        engine.dispose()
    assert rows[0][0] == "failed" and "upgrade" in rows[0][1] and rows[0][2] == 0
    assert rows[1][0] == "queued" and rows[1][1] is None  # a runner will take it


def test_heartbeat_covers_only_the_jobs_in_hand(demo_registry: Flask) -> None:
    app = demo_registry
    me = queue.RunnerId.new()
    old = utcnow() - timedelta(minutes=5)
    values = {"status": JobStatus.RUNNING, "params": {}, "runner": str(me), "heartbeat_at": old}
    held = _add_job(app, "verify", **values)
    lost = _add_job(app, "allocation_preview", **values)  # its end could not be recorded
    with app.app_context(), new_unit_of_work(db.session_factory) as session:
        queue.beat(session, me, {held})
    assert _job(app, held).heartbeat_at > old  # type: ignore[operator]
    assert _job(app, lost).heartbeat_at == old  # falls silent: another runner takes it up


@pytest.mark.slow
def test_exchange_scheduler_runs_the_jobs_too(demo_registry: Flask, database_url: str) -> None:
    app = demo_registry
    job_id = _add_job(app, "verify", status=JobStatus.QUEUED, params={"replay_runs": 0})
    env = {**os.environ, "DATABASE_URL": database_url, "EXCHANGE_VERIFY_INTERVAL_SECONDS": "0"}
    env.update(EXCHANGE_JOB_POLL_SECONDS="0.1", EXCHANGE_LOG_LEVEL="WARNING")
    proc = subprocess.Popen(
        [sys.executable, "-c", "from exchange.cli import main; main()", "scheduler"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = utcnow() + timedelta(seconds=60)
        while _job(app, job_id).status is not JobStatus.SUCCEEDED and utcnow() < deadline:
            threading.Event().wait(0.2)
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(30)
    done = _job(app, job_id)
    assert done.status is JobStatus.SUCCEEDED and f":{proc.pid}:" in (done.runner or "")
    assert proc.returncode == 0
