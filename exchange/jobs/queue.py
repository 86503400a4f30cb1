"""The database side of the job runners: claim, heartbeat, finish, recover.

Every state change is one short transaction guarded by a condition on the row
(``WHERE status = 'queued'``, ``WHERE runner = :me``...) whose row count says
whether it happened, so that any number of runners on any number of hosts can
share the table. On PostgreSQL the claim also takes the candidate row with
``FOR UPDATE SKIP LOCKED``, so that runners never wait for each other.

**When is a runner gone?** A runner is ``host:pid:token``. Its jobs are taken
up again when

- it ran on this host and its process no longer exists (or is a zombie), or it
  had this very process id but is not one of this process's runners (an earlier
  incarnation, e.g. PID 1 of a restarted container): at once;
- its heartbeat is older than ``stale`` (default 60 s) and it ran on another
  host; or, on this host with a live process id, older than ``10 x stale`` (at
  least 10 minutes: the process id may have been reused, and on SQLite a long
  write transaction holds the heartbeat back); the same long limit applies to a
  job without a runner (started by a web worker of the code before runners).

A job taken up again is queued for the next claim, unless it has been claimed
``max_attempts`` times already or its kind may not run twice: then it fails
with the reason.
"""

from __future__ import annotations

import os
import secrets
import socket
from collections.abc import Callable, Collection
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import CursorResult, delete, select, update
from sqlalchemy.orm import Session

from exchange.models import BackgroundJob, JobEffect, JobRunner, JobStatus, utcnow
from exchange.uow import unit_of_work

MESSAGE_LIMIT = 4000


def _rowcount(result: object) -> int:
    """Rows an UPDATE changed (``session.execute`` is typed as a plain ``Result``)."""
    assert isinstance(result, CursorResult)
    return int(result.rowcount)


@dataclass(frozen=True)
class RunnerId:
    """Who runs a job: host name, process id, and a token per runner."""

    host: str
    pid: int
    token: str

    def __str__(self) -> str:
        return f"{self.host}:{self.pid}:{self.token}"

    @classmethod
    def new(cls) -> RunnerId:
        """A fresh identity for a runner of this process."""
        return cls(socket.gethostname()[:120] or "localhost", os.getpid(), secrets.token_hex(6))

    @classmethod
    def parse(cls, text: str | None) -> RunnerId | None:
        """The identity in ``text`` (``host:pid:token``), or None if it is not one."""
        if not text:
            return None
        parts = text.rsplit(":", 2)
        if len(parts) != 3 or not parts[1].isdigit():
            return None
        return cls(parts[0], int(parts[1]), parts[2])


@dataclass(frozen=True)
class Claimed:
    """A job this runner has claimed."""

    id: int
    kind: str
    params: dict[str, Any]
    attempts: int


def pid_alive(pid: int) -> bool:
    """Whether process ``pid`` of this host exists and is not a zombie."""
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as stat:
            state = stat.read().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return True
    return state not in ("Z", "X")


def gone_reason(
    runner: str | None,
    last_seen: datetime | None,
    *,
    me: RunnerId,
    live_tokens: Collection[str],
    now: datetime,
    stale: timedelta,
    alive: Callable[[int], bool] = pid_alive,
) -> str | None:
    """Why the runner of a running job is gone, or None if it may still be working."""
    age = now - last_seen if last_seen is not None else None
    ident = RunnerId.parse(runner)
    if ident is not None and ident.host == me.host:
        if ident.pid == me.pid:
            if ident.token in live_tokens:
                return None
            return f"its runner {runner} was an earlier process with this process id"
        if not alive(ident.pid):
            return f"its runner's process {ident.pid} on {ident.host} is gone"
        if age is not None and age > max(stale * 10, timedelta(minutes=10)):
            return f"its runner {runner} has not reported for {int(age.total_seconds())} s"
        return None
    # No runner named: a thread of a web worker of the code before job runners, which
    # reports nothing: given as long as a live process on this host.
    limit = stale if ident is not None else max(stale * 10, timedelta(minutes=10))
    if age is None or age > limit:
        seconds = "ever" if age is None else f"{int(age.total_seconds())} s"
        return f"its runner {runner or '(none)'} has not reported for {seconds}"
    return None


def claim(
    session: Session, me: RunnerId, kinds: Collection[str], job_id: int | None = None
) -> Claimed | None:
    """Take the oldest queued job of ``kinds`` (or job ``job_id``) for ``me``; None if none."""
    now = utcnow()
    with unit_of_work(session):
        query = (
            select(BackgroundJob.id)
            .where(BackgroundJob.status == JobStatus.QUEUED, BackgroundJob.kind.in_(list(kinds)))
            .order_by(BackgroundJob.id)
            .limit(5)
            .with_for_update(skip_locked=True)  # PostgreSQL; SQLite ignores it (one writer)
        )
        if job_id is not None:
            query = query.where(BackgroundJob.id == job_id)
        for candidate in list(session.scalars(query)):
            taken = session.execute(
                update(BackgroundJob)
                .where(BackgroundJob.id == candidate, BackgroundJob.status == JobStatus.QUEUED)
                .values(
                    status=JobStatus.RUNNING,
                    runner=str(me),
                    heartbeat_at=now,
                    started_at=now,
                    attempts=BackgroundJob.attempts + 1,
                )
                .execution_options(synchronize_session=False)
            )
            if _rowcount(taken) == 1:
                row = session.execute(
                    select(BackgroundJob.kind, BackgroundJob.params, BackgroundJob.attempts).where(
                        BackgroundJob.id == candidate
                    )
                ).one()
                return Claimed(candidate, row.kind, dict(row.params or {}), row.attempts)
    return None


def any_queued(session: Session, kinds: Collection[str]) -> bool:
    """Whether a job of ``kinds`` waits (a cheap read before a claim)."""
    try:
        found = session.scalar(
            select(BackgroundJob.id)
            .where(BackgroundJob.status == JobStatus.QUEUED, BackgroundJob.kind.in_(list(kinds)))
            .limit(1)
        )
    finally:
        session.rollback()
    return found is not None


def beat(session: Session, me: RunnerId, holding: Collection[int] = ()) -> None:
    """``me`` is alive: its runner row and the jobs in its hands get the time now.

    Only ``holding``: a job whose end ``me`` could not record (database away) falls
    silent, and the next runner takes it up instead of it staying ``running``.
    """
    now = utcnow()
    with unit_of_work(session):
        row = session.get(JobRunner, str(me))
        if row is None:
            session.add(JobRunner(id=str(me), host=me.host, pid=me.pid, started_at=now))
        else:
            row.heartbeat_at = now
        if holding:
            session.execute(
                update(BackgroundJob)
                .where(
                    BackgroundJob.id.in_(list(holding)),
                    BackgroundJob.runner == str(me),
                    BackgroundJob.status == JobStatus.RUNNING,
                )
                .values(heartbeat_at=now)
                .execution_options(synchronize_session=False)
            )


def unregister(session: Session, me: RunnerId) -> None:
    """``me`` stops: forget its runner row."""
    with unit_of_work(session):
        session.execute(delete(JobRunner).where(JobRunner.id == str(me)))


def runner_alive(session: Session, stale: timedelta) -> bool:
    """Whether any job runner reported within ``stale``."""
    try:
        found = session.scalar(
            select(JobRunner.id).where(JobRunner.heartbeat_at >= utcnow() - stale).limit(1)
        )
    finally:
        session.rollback()
    return found is not None


def effect_of(session: Session, job_id: int) -> JobEffect | None:
    """The recorded effect of job ``job_id``, if its work committed."""
    try:
        return session.get(JobEffect, job_id)
    finally:
        session.rollback()


def finish(
    session: Session,
    job_id: int,
    me: RunnerId,
    status: JobStatus,
    done: int,
    *,
    message: str | None = None,
    result: dict[str, Any] | None = None,
) -> bool:
    """Record the end of a job ``me`` holds; False if it is no longer ``me``'s."""
    if session.in_transaction():
        session.rollback()
    values: dict[str, Any] = {"status": status, "finished_at": utcnow(), "message": None}
    if message is not None:
        values["message"] = message[:MESSAGE_LIMIT]
    if result is not None:
        values["result"] = result
    with unit_of_work(session):
        job = session.get(BackgroundJob, job_id)
        if job is None or job.runner != str(me) or job.status is not JobStatus.RUNNING:
            return False
        values["progress"] = max(done, job.progress or 0)
        changed = session.execute(
            update(BackgroundJob)
            .where(
                BackgroundJob.id == job_id,
                BackgroundJob.runner == str(me),
                BackgroundJob.status == JobStatus.RUNNING,
            )
            .values(**values)
            .execution_options(synchronize_session=False)
        )
        session.expire(job)
        return _rowcount(changed) == 1


@dataclass(frozen=True)
class Recovered:
    """A running job whose runner was gone: queued again, or failed."""

    job_id: int
    status: JobStatus
    reason: str


def recover(
    session: Session,
    me: RunnerId,
    *,
    live_tokens: Collection[str],
    stale: timedelta,
    max_attempts: int,
    retry: Callable[[str], bool],
    alive: Callable[[int], bool] = pid_alive,
) -> list[Recovered]:
    """Queue again (or fail) every running job whose runner is gone."""
    now = utcnow()
    try:
        rows = session.execute(
            select(
                BackgroundJob.id,
                BackgroundJob.kind,
                BackgroundJob.runner,
                BackgroundJob.heartbeat_at,
                BackgroundJob.started_at,
                BackgroundJob.attempts,
            ).where(BackgroundJob.status == JobStatus.RUNNING)
        ).all()
    finally:
        session.rollback()
    done: list[Recovered] = []
    for row in rows:
        last_seen = row.heartbeat_at or row.started_at
        reason = gone_reason(
            row.runner,
            last_seen,
            me=me,
            live_tokens=live_tokens,
            now=now,
            stale=stale,
            alive=alive,
        )
        if reason is None:
            continue
        if not retry(row.kind):
            status, text = JobStatus.FAILED, f"{reason}; this kind of job is not run twice"
        elif row.attempts >= max_attempts:
            status, text = JobStatus.FAILED, f"{reason}; not run again after {row.attempts} tries"
        else:
            status, text = JobStatus.QUEUED, f"{reason}; queued again"
        values: dict[str, Any] = {"status": status, "message": text[:MESSAGE_LIMIT]}
        if status is JobStatus.FAILED:
            values["finished_at"] = now
        else:
            values.update(runner=None, heartbeat_at=None)
        guard = [BackgroundJob.id == row.id, BackgroundJob.status == JobStatus.RUNNING]
        guard.append(
            BackgroundJob.runner == row.runner
            if row.runner is not None
            else BackgroundJob.runner.is_(None)
        )
        guard.append(
            BackgroundJob.heartbeat_at == row.heartbeat_at
            if row.heartbeat_at is not None
            else BackgroundJob.heartbeat_at.is_(None)
        )
        with unit_of_work(session):
            changed = session.execute(
                update(BackgroundJob)
                .where(*guard)
                .values(**values)
                .execution_options(synchronize_session=False)
            )
        if _rowcount(changed) == 1:
            done.append(Recovered(row.id, status, text))
    return done


def prune_runners(session: Session, older_than: timedelta) -> None:
    """Forget runner rows that have not reported for ``older_than`` (crashed runners)."""
    with unit_of_work(session):
        session.execute(delete(JobRunner).where(JobRunner.heartbeat_at < utcnow() - older_than))
