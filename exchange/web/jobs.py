"""Background jobs: long work started from a page runs in a thread with its own session.

A job is a row of ``background_jobs`` (kind, status, progress, total, message,
params, result). ``start`` inserts it and starts a daemon thread that runs the
job's function inside an app context with sessions of its own, never the
request's; the page that started it redirects to the job's page, which refreshes
itself (``<meta http-equiv="refresh">``) until the status is ``succeeded`` or
``failed``. Because status and result live in the database, any worker process
can show them.

Progress is written in short transactions of its own. On SQLite a writer holds
the database lock until it commits, so progress reported *inside* a write
transaction (the bulk allocation) is kept in memory only (``progress_note``)
and the row is updated when the work is done; PostgreSQL gets it live.

``WEB_JOBS_INLINE = True`` (tests) runs a job in the request that starts it.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from flask import Flask, current_app
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from exchange.errors import ExchangeError, NotFound
from exchange.models import BackgroundJob, JobStatus, utcnow
from exchange.uow import unit_of_work

JobFunction = Callable[["JobContext"], dict[str, Any]]
_threads: set[threading.Thread] = set()
_live_progress: dict[int, int] = {}


class JobContext:
    """What a job function gets: its parameters, sessions and a progress reporter."""

    def __init__(self, app: Flask, job_id: int, params: dict[str, Any]) -> None:
        self.app = app
        self.job_id = job_id
        self.params = params
        self._sessions: sessionmaker[Session] = app.extensions["exchange.db"]["sessions"]
        self.read_sessions: sessionmaker[Session] = app.extensions["exchange.db"]["read_sessions"]
        self.sessions = self._sessions
        self.done = 0

    @property
    def sqlite(self) -> bool:
        return self._sessions.kw["bind"].dialect.name == "sqlite"  # type: ignore[no-any-return]

    def set_total(self, total: int) -> None:
        """The amount of work expected (e.g. postings to read)."""
        self._update(total=total)

    def progress(self, increment: int) -> None:
        """``increment`` more units done (written at once)."""
        self.done += increment
        _live_progress[self.job_id] = self.done
        self._update(progress=self.done)

    def progress_note(self, increment: int) -> None:
        """``increment`` more units done, from inside a write transaction (see module doc)."""
        self.done += increment
        _live_progress[self.job_id] = self.done
        if not self.sqlite:
            self._update(progress=self.done)

    def _update(self, **values: Any) -> None:
        session = self._sessions()
        try:
            with unit_of_work(session):
                job = session.get(BackgroundJob, self.job_id)
                if job is not None:
                    for key, value in values.items():
                        setattr(job, key, value)
        finally:
            session.close()


def start(session: Session, kind: str, *, actor: str, params: dict[str, Any]) -> int:
    """Record a job of ``kind`` and start it (in a thread, or inline in tests); its id."""
    if kind not in _kinds(current_app):
        raise ValueError(f"unknown job kind {kind!r}")
    with unit_of_work(session):
        job = BackgroundJob(
            kind=kind, status=JobStatus.QUEUED, created_by=actor, progress=0, params=params
        )
        session.add(job)
        session.flush()
        job_id = job.id
    app: Flask = current_app._get_current_object()  # type: ignore[attr-defined]
    if app.config.get("WEB_JOBS_INLINE"):
        run(app, job_id)
    else:
        thread = threading.Thread(target=run, args=(app, job_id), name=f"job-{job_id}", daemon=True)
        _threads.add(thread)
        thread.start()
    return job_id


def run(app: Flask, job_id: int) -> None:
    """Run job ``job_id`` to its end, recording success or failure (never raises)."""
    with app.app_context():
        factory: sessionmaker[Session] = app.extensions["exchange.db"]["sessions"]
        session = factory()
        try:
            with unit_of_work(session):
                job = session.get(BackgroundJob, job_id)
                if job is None or job.status is not JobStatus.QUEUED:
                    return
                job.status = JobStatus.RUNNING
                job.started_at = utcnow()
                kind, params = job.kind, dict(job.params or {})
            ctx = JobContext(app, job_id, params)
            try:
                result = _kinds(app)[kind](ctx)
            except ExchangeError as exc:
                _finish(session, job_id, JobStatus.FAILED, ctx.done, message=exc.message)
            except Exception as exc:
                app.logger.exception("background job %s failed", job_id)
                _finish(
                    session,
                    job_id,
                    JobStatus.FAILED,
                    ctx.done,
                    message=f"{type(exc).__name__}: {exc}",
                )
            else:
                _finish(session, job_id, JobStatus.SUCCEEDED, ctx.done, result=result)
        finally:
            session.close()
            _live_progress.pop(job_id, None)
            _threads.discard(threading.current_thread())


def _finish(
    session: Session,
    job_id: int,
    status: JobStatus,
    done: int,
    *,
    message: str | None = None,
    result: dict[str, Any] | None = None,
) -> None:
    if session.in_transaction():
        session.rollback()
    with unit_of_work(session):
        job = session.get(BackgroundJob, job_id)
        if job is None:
            return
        job.status = status
        job.finished_at = utcnow()
        job.progress = max(done, job.progress or 0)
        if message is not None:
            job.message = message[:4000]
        if result is not None:
            job.result = result


def get(session: Session, job_id: int, kinds: tuple[str, ...]) -> BackgroundJob:
    """Job ``job_id`` if it is of one of ``kinds``, else ``NotFound``."""
    job = session.get(BackgroundJob, job_id)
    if job is None or job.kind not in kinds:
        raise NotFound(f"no job with id {job_id}", field="job_id")
    return job


def live_progress(job: BackgroundJob) -> int:
    """The job's progress: this process's live count if it runs here, else the stored one."""
    return max(_live_progress.get(job.id, 0), job.progress or 0)


def recent(session: Session, kinds: tuple[str, ...], limit: int = 10) -> list[BackgroundJob]:
    """The latest jobs of ``kinds``, newest first."""
    return list(
        session.scalars(
            select(BackgroundJob)
            .where(BackgroundJob.kind.in_(kinds))
            .order_by(BackgroundJob.id.desc())
            .limit(limit)
        )
    )


def wait_all(timeout: float = 30.0) -> None:
    """Wait for the running job threads of this process (tests, shutdown)."""
    for thread in list(_threads):
        thread.join(timeout)


def _kinds(app: Flask) -> dict[str, JobFunction]:
    """The job kinds wired by the composition root (``exchange.composition``)."""
    kinds: dict[str, JobFunction] = app.extensions["exchange.background_jobs"]
    return kinds
