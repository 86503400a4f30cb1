"""One ledger verification at a time: a second request is sent to the running one.

Verification reads the whole ledger; many at once would load the database for
nothing. A partial unique index (``uq_background_jobs_one_active_verify``)
makes "one queued or running" hold even for two requests at the same instant;
a job left running by a process that died is given up after ``STALE_AFTER``.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from exchange.db import transaction
from exchange.models import BackgroundJob, JobStatus, utcnow
from exchange.web import jobs

KIND = "verify"
STALE_AFTER = timedelta(hours=6)
ACTIVE = (JobStatus.QUEUED, JobStatus.RUNNING)


def _active(session: Session) -> BackgroundJob | None:
    return session.scalar(
        select(BackgroundJob).where(BackgroundJob.kind == KIND, BackgroundJob.status.in_(ACTIVE))
    )


def start_verification(session: Session, *, actor: str, replay_runs: int) -> tuple[int, bool]:
    """``(job id, started)``: a new verification, or the one already queued or running."""
    active = _active(session)
    if active is not None and active.created_at < utcnow() - STALE_AFTER:
        with transaction(session):
            active.status = JobStatus.FAILED
            active.finished_at = utcnow()
            active.message = "abandoned: no progress for too long (its process ended?)"
        active = None
    if active is not None:
        return active.id, False
    try:
        return jobs.start(session, KIND, actor=actor, params={"replay_runs": replay_runs}), True
    except IntegrityError:  # another request started one just now
        session.rollback()
        active = _active(session)
        if active is None:
            raise
        return active.id, False
