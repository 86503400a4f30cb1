"""The kinds of background jobs and what a job function is given.

A kind is a function ``func(ctx) -> result``; the kinds are listed in the composition
root (``exchange.composition.BACKGROUND_JOBS``) and bound with :func:`register_kinds`.
A job may run more than once: when its runner dies, the next runner runs it
again. That is safe for read-only work and for work whose effect is one
transaction that also records the job's result (``JobContext.record_effect``):
the re-run finds the recorded effect and does not repeat it. A kind that is
neither is listed with ``retry=False``: its job is then marked failed when
its runner dies.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from flask import Flask
from sqlalchemy.orm import Session, sessionmaker

from exchange.models import BackgroundJob, JobEffect
from exchange.uow import unit_of_work

JobFunction = Callable[["JobContext"], dict[str, Any]]


@dataclass(frozen=True)
class JobKind:
    """A registered kind: its function, and whether a job may run again after a crash."""

    name: str
    func: JobFunction
    retry: bool


KINDS: dict[str, JobKind] = {}
# Progress of the jobs this process runs (progress reported inside a write
# transaction on SQLite cannot reach the database until it commits).
LIVE_PROGRESS: dict[int, int] = {}


def register_kinds(kinds: Mapping[str, JobKind]) -> None:
    """Bind the kinds of background jobs (the composition root's list) for this process."""
    KINDS.clear()
    KINDS.update(kinds)


class JobContext:
    """What a job function gets: its parameters, sessions and a progress reporter."""

    def __init__(self, app: Flask, job_id: int, params: dict[str, Any], attempt: int = 1) -> None:
        self.app = app
        self.job_id = job_id
        self.params = params
        self.attempt = attempt
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
        LIVE_PROGRESS[self.job_id] = self.done
        self._update(progress=self.done)

    def progress_note(self, increment: int) -> None:
        """``increment`` more units done, from inside a write transaction.

        On SQLite the writer holds the database lock until it commits, so the
        count stays in this process; PostgreSQL gets it at once.
        """
        self.done += increment
        LIVE_PROGRESS[self.job_id] = self.done
        if not self.sqlite:
            self._update(progress=self.done)

    def record_effect(self, session: Session, result: dict[str, Any]) -> None:
        """Inside the transaction of the job's effect: record its result with it.

        If the runner dies after the commit, the next runner finishes the job with
        this result instead of doing the work again.
        """
        session.add(JobEffect(job_id=self.job_id, result=result))
        session.flush()

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
