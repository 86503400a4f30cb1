"""One ledger verification at a time: a second request is sent to the running one.

Verification reads the whole ledger; many at once would load the database for
nothing. A partial unique index (``uq_background_jobs_one_active_verify``)
makes "one queued or running" hold even for two requests at the same instant;
a job left running by a process that died is given up after ``STALE_AFTER``.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from exchange.models import BackgroundJob, JobStatus, utcnow
from exchange.uow import unit_of_work
from exchange.web import jobs

KIND = "verify"
STALE_AFTER = timedelta(hours=6)
ACTIVE = (JobStatus.QUEUED, JobStatus.RUNNING)


def _active(session: Session) -> BackgroundJob | None:
    return session.scalar(
        select(BackgroundJob).where(BackgroundJob.kind == KIND, BackgroundJob.status.in_(ACTIVE))
    )


def start_verification(
    session: Session, *, actor: str, replay_runs: int, checkpoint: dict[str, Any] | None = None
) -> tuple[int, bool]:
    """``(job id, started)``: a new verification (against ``checkpoint`` if given, else the
    latest stored one), or the one already queued or running."""
    active = _active(session)
    if active is not None and active.created_at < utcnow() - STALE_AFTER:
        with unit_of_work(session):
            active.status = JobStatus.FAILED
            active.finished_at = utcnow()
            active.message = "abandoned: no progress for too long (its process ended?)"
        active = None
    if active is not None:
        return active.id, False
    try:
        params = {"replay_runs": replay_runs, "checkpoint": checkpoint}
        return jobs.start(session, KIND, actor=actor, params=params), True
    except IntegrityError:  # another request started one just now (its unit of work rolled back)
        active = _active(session)
        if active is None:
            raise
        return active.id, False
