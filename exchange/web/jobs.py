"""Background jobs of the web pages: record one, show its status.

A job is a row of ``background_jobs`` (kind, status, progress, total, message,
params, result). ``start`` only records it as ``queued``; a job runner process
(``exchange jobs run``, or the one inside ``exchange scheduler`` and ``exchange
demo``) claims and does it (see ``exchange.jobs``). The page that started it
redirects to the job's page, which refreshes itself (``<meta http-equiv=
"refresh">``) until the status is ``succeeded`` or ``failed``; because status
and result live in the database, any worker process can show them.

``WEB_JOBS_INLINE = True`` (tests) runs a job in the request that starts it.
"""

from __future__ import annotations

from typing import Any

from flask import Flask, current_app
from sqlalchemy import select
from sqlalchemy.orm import Session

from exchange.errors import NotFound
from exchange.jobs.registry import KINDS, LIVE_PROGRESS, JobContext
from exchange.models import BackgroundJob, JobStatus
from exchange.uow import unit_of_work

__all__ = ["JobContext", "get", "live_progress", "recent", "start", "wait_all"]


def start(session: Session, kind: str, *, actor: str, params: dict[str, Any]) -> int:
    """Record a ``queued`` job of ``kind`` for a runner (inline in tests); its id."""
    if kind not in KINDS:
        raise ValueError(f"unknown job kind {kind!r}")
    with unit_of_work(session):  # ends the request's reads too (they changed nothing)
        job = BackgroundJob(
            kind=kind, status=JobStatus.QUEUED, created_by=actor, progress=0, params=params
        )
        session.add(job)
        session.flush()
        job_id = job.id
    app: Flask = current_app._get_current_object()  # type: ignore[attr-defined]
    from exchange.jobs import runner

    if app.config.get("WEB_JOBS_INLINE"):
        runner.run_inline(app, job_id)
    else:
        runner.wake(app)
    return job_id


def get(session: Session, job_id: int, kinds: tuple[str, ...]) -> BackgroundJob:
    """Job ``job_id`` if it is of one of ``kinds``, else ``NotFound``."""
    job = session.get(BackgroundJob, job_id)
    if job is None or job.kind not in kinds:
        raise NotFound(f"no job with id {job_id}", field="job_id")
    return job


def live_progress(job: BackgroundJob) -> int:
    """The job's progress: this process's live count if it runs here, else the stored one."""
    return max(LIVE_PROGRESS.get(job.id, 0), job.progress or 0)


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
    """Wait until the job runner of this process (if any) has no job in hand."""
    from exchange.jobs import runner

    runner.wait_idle(timeout)
