"""The job runner: threads that claim queued jobs, do them and report a heartbeat.

It runs in ``exchange jobs run`` (a runner alone), in ``exchange scheduler`` and
in ``exchange demo``. Any number of runners may share a database. Settings (app
config, else environment, else default):

- ``JOB_RUNNER_THREADS`` / ``EXCHANGE_JOB_THREADS`` (2): jobs done at once;
- ``JOB_POLL_SECONDS`` / ``EXCHANGE_JOB_POLL_SECONDS`` (1): how often an idle
  runner looks for work;
- ``JOB_HEARTBEAT_SECONDS`` / ``EXCHANGE_JOB_HEARTBEAT_SECONDS`` (5): how often it
  reports, and looks for jobs whose runner is gone;
- ``JOB_STALE_SECONDS`` / ``EXCHANGE_JOB_STALE_SECONDS`` (60): the silence after
  which a runner on another host counts as gone (see ``queue``);
- ``JOB_MAX_ATTEMPTS`` / ``EXCHANGE_JOB_MAX_ATTEMPTS`` (3): claims of one job
  before it fails for good.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from flask import Flask
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from exchange.db import close_quietly
from exchange.errors import ExchangeError
from exchange.jobs import queue
from exchange.jobs.registry import KINDS, LIVE_PROGRESS, JobContext
from exchange.models import JobStatus

log = logging.getLogger(__name__)

EXTENSION = "exchange.job_runner"
# Tokens of the runners alive in this process (a job held by this process id with
# another token belongs to an earlier process that had the same id).
LIVE_TOKENS: set[str] = set()
_RUNNERS: list[JobRunner] = []
_INLINE = queue.RunnerId.new()
RECORD_RETRIES = (1.0, 2.0, 4.0, 8.0, 16.0)


@dataclass(frozen=True)
class Settings:
    """How a runner works (see the module doc)."""

    threads: int = 2
    poll: float = 1.0
    heartbeat: float = 5.0
    stale: timedelta = timedelta(seconds=60)
    max_attempts: int = 3

    @classmethod
    def of(cls, app: Flask) -> Settings:
        """The settings from the app config, else the environment, else the defaults."""

        def number(key: str, env: str, default: float) -> float:
            raw = app.config.get(key, os.environ.get(env))
            try:
                value = float(raw) if raw is not None else default
            except ValueError:
                return default
            return value if value > 0 else default

        return cls(
            threads=int(number("JOB_RUNNER_THREADS", "EXCHANGE_JOB_THREADS", 2)),
            poll=number("JOB_POLL_SECONDS", "EXCHANGE_JOB_POLL_SECONDS", 1.0),
            heartbeat=number("JOB_HEARTBEAT_SECONDS", "EXCHANGE_JOB_HEARTBEAT_SECONDS", 5.0),
            stale=timedelta(seconds=number("JOB_STALE_SECONDS", "EXCHANGE_JOB_STALE_SECONDS", 60)),
            max_attempts=int(number("JOB_MAX_ATTEMPTS", "EXCHANGE_JOB_MAX_ATTEMPTS", 3)),
        )


def _factory(app: Flask) -> sessionmaker[Session]:
    return app.extensions["exchange.db"]["sessions"]  # type: ignore[no-any-return]


def execute(app: Flask, job: queue.Claimed, me: queue.RunnerId) -> JobStatus:
    """Do a claimed job and record its end (never raises); the status recorded."""
    with app.app_context():
        session = _factory(app)()
        ctx = JobContext(app, job.id, job.params, attempt=job.attempts)
        status, message, result = JobStatus.FAILED, "", None
        try:
            effect = queue.effect_of(session, job.id)
            kind = KINDS.get(job.kind)
            if effect is not None:  # its work committed before its last runner stopped
                status, result = JobStatus.SUCCEEDED, effect.result
                message = "done by an earlier runner, which stopped before recording it"
            elif kind is None:
                message = f"unknown job kind {job.kind!r}"
            else:
                try:
                    result = kind.func(ctx)
                    status, message = JobStatus.SUCCEEDED, ""
                except ExchangeError as exc:
                    message = exc.message
                except Exception as exc:
                    log.exception("background job %s failed", job.id)
                    message = f"{type(exc).__name__}: {exc}"
            _record_end(session, job.id, me, status, ctx.done, message or None, result)
        except Exception:
            log.exception("could not record the end of background job %s", job.id)
        finally:
            close_quietly(session)
            LIVE_PROGRESS.pop(job.id, None)
    return status


def _record_end(
    session: Session,
    job_id: int,
    me: queue.RunnerId,
    status: JobStatus,
    done: int,
    message: str | None,
    result: dict[str, Any] | None,
) -> None:
    """``queue.finish``, tried again for a while if the database is away."""
    for pause in RECORD_RETRIES:
        try:
            if not queue.finish(session, job_id, me, status, done, message=message, result=result):
                log.warning("job %s was taken over by another runner; outcome dropped", job_id)
            return
        except SQLAlchemyError as exc:
            log.warning("job %s: end not recorded (%s); trying again in %s s", job_id, exc, pause)
            session.rollback()
            time.sleep(pause)
    # Still not: the job falls silent (no heartbeat) and the next runner takes it up.
    queue.finish(session, job_id, me, status, done, message=message, result=result)


def run_inline(app: Flask, job_id: int) -> None:
    """Claim and do job ``job_id`` in this thread (tests: ``WEB_JOBS_INLINE``)."""
    LIVE_TOKENS.add(_INLINE.token)
    session = _factory(app)()
    try:
        job = queue.claim(session, _INLINE, KINDS.keys(), job_id=job_id)
    finally:
        close_quietly(session)
    if job is not None:
        execute(app, job, _INLINE)


class JobRunner:
    """Worker threads that claim and do jobs, and a heartbeat thread."""

    def __init__(self, app: Flask, settings: Settings | None = None) -> None:
        self.app = app
        self.settings = settings or Settings.of(app)
        self.me = queue.RunnerId.new()
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._lock = threading.Lock()
        self._busy: set[int] = set()
        self._threads: list[threading.Thread] = []

    # --- life cycle -------------------------------------------------------------

    def start(self, workers: bool = True) -> JobRunner:
        """Report in, take up the jobs of gone runners, start the heartbeat and workers.

        ``workers=False``: the caller does the work itself (``run_one``).
        """
        LIVE_TOKENS.add(self.me.token)
        _RUNNERS.append(self)
        self.tick()
        count = max(self.settings.threads, 1) if workers else 0
        targets = [("heartbeat", self._heartbeat_loop)] + [
            (f"worker-{n}", self._work_loop) for n in range(count)
        ]
        for name, target in targets:
            thread = threading.Thread(target=target, name=f"job-runner-{name}", daemon=True)
            self._threads.append(thread)
            thread.start()
        log.info("job runner %s started with %d worker threads", self.me, count)
        return self

    def stop(self, timeout: float = 30.0) -> None:
        """Stop claiming, wait up to ``timeout`` s for the jobs in hand, report out."""
        self._stop.set()
        self._wake.set()
        deadline = time.monotonic() + timeout
        for thread in self._threads:
            if thread.name.endswith("heartbeat"):
                thread.join(5.0)
            else:
                thread.join(max(deadline - time.monotonic(), 0.0))
        if any(thread.is_alive() for thread in self._threads):
            log.warning("job runner %s stops with jobs %s unfinished", self.me, self.busy)
            return  # they stay ours until this process is gone; the next runner takes them up
        self._session_call(queue.unregister, self.me)
        LIVE_TOKENS.discard(self.me.token)
        if self in _RUNNERS:
            _RUNNERS.remove(self)

    def wake(self) -> None:
        """Look for work now (a job was just queued)."""
        self._wake.set()

    @property
    def busy(self) -> set[int]:
        with self._lock:
            return set(self._busy)

    # --- work -------------------------------------------------------------------

    def run_one(self) -> bool:
        """Claim and do one queued job; False if there was none."""
        read = self.app.extensions["exchange.db"]["read_sessions"]()
        try:
            if not queue.any_queued(read, KINDS.keys()):
                return False
        finally:
            close_quietly(read)
        job = self._session_call(queue.claim, self.me, KINDS.keys())
        if job is None:
            return False
        with self._lock:
            self._busy.add(job.id)
        try:
            log.info("job %s (%s) claimed by %s, try %d", job.id, job.kind, self.me, job.attempts)
            execute(self.app, job, self.me)
        finally:
            with self._lock:
                self._busy.discard(job.id)
        return True

    def tick(self) -> None:
        """Report in and take up the jobs of runners that are gone."""
        self._session_call(queue.beat, self.me, self.busy)
        recovered = self._session_call(
            queue.recover,
            self.me,
            live_tokens=set(LIVE_TOKENS),
            stale=self.settings.stale,
            max_attempts=self.settings.max_attempts,
            retry=lambda kind: kind in KINDS and KINDS[kind].retry,
        )
        for item in recovered:
            log.warning("job %s: %s (now %s)", item.job_id, item.reason, item.status.value)
        if recovered:
            self._wake.set()
        self._session_call(queue.prune_runners, timedelta(days=1))

    def _work_loop(self) -> None:
        while not self._stop.is_set():
            try:
                worked = self.run_one()
            except SQLAlchemyError as exc:  # database away, or busy (a long SQLite write)
                log.warning("job runner %s could not claim a job: %s", self.me, exc)
                worked = False
            except Exception:
                log.exception("job runner %s could not claim a job", self.me)
                worked = False
            if not worked:
                self._wake.wait(self.settings.poll)
                self._wake.clear()

    def _heartbeat_loop(self) -> None:
        while not self._stop.wait(self.settings.heartbeat):
            try:
                self.tick()
            except Exception as exc:  # e.g. SQLite busy while a long import writes
                log.warning("job runner %s heartbeat failed: %s", self.me, exc)

    def _session_call(self, func: Any, *args: Any, **kwargs: Any) -> Any:
        session = _factory(self.app)()
        try:
            return func(session, *args, **kwargs)
        finally:
            close_quietly(session)


def start_job_runner(app: Flask, settings: Settings | None = None) -> JobRunner:
    """Start a runner in this process (``app.extensions["exchange.job_runner"]``)."""
    runner = JobRunner(app, settings).start()
    app.extensions[EXTENSION] = runner
    return runner


def stop_job_runner(app: Flask, timeout: float = 30.0) -> None:
    """Stop this process's runner of ``app``, if any."""
    runner = app.extensions.pop(EXTENSION, None)
    if runner is not None:
        runner.stop(timeout)


def wake(app: Flask) -> None:
    """Tell this process's runner (demo: same process) that a job was queued."""
    runner = app.extensions.get(EXTENSION)
    if runner is not None:
        runner.wake()


def wait_idle(timeout: float = 30.0) -> None:
    """Wait until no runner of this process has a job in hand (tests, shutdown)."""
    deadline = time.monotonic() + timeout
    while any(r.busy for r in _RUNNERS) and time.monotonic() < deadline:
        time.sleep(0.05)
