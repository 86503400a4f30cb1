"""One unit of work: the owner of a session's commit for one request, job or CLI command.

Services take a session and a typed command and never commit; whoever handles
the request, job or command wraps the service calls in :func:`unit_of_work`, so
that several use cases can be one atomic step::

    with unit_of_work(db.session) as session:
        market = registry.create_market(session, command)

On success the work commits once; on any exception, in the work or in its commit, it is
rolled back and the exception propagates (views render it; nothing of it stays). Inside a
service, a block that must be all or nothing without ending the caller's transaction uses
:func:`savepoint`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TypeVar

from sqlalchemy import UniqueConstraint
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from exchange.db import close_quietly
from ledger.driver import commit

T = TypeVar("T")


@contextmanager
def unit_of_work(session: Session) -> Iterator[Session]:
    """Commit ``session`` when the block ends normally, roll it back on any exception."""
    try:
        yield session
    except BaseException:
        session.rollback()
        raise
    try:
        commit(session)  # with any statement deferred to it (the action log), in one round trip
    except BaseException:
        session.rollback()  # a failed commit leaves the session usable, as a failed block does
        raise


@contextmanager
def new_unit_of_work(factory: sessionmaker[Session]) -> Iterator[Session]:
    """A fresh session as one unit of work (jobs, CLI commands), closed afterwards."""
    session = factory()
    try:
        with unit_of_work(session):
            yield session
    finally:
        close_quietly(session)


def idempotent_unit_of_work(
    session: Session, work: Callable[[Session], T], *, key: UniqueConstraint
) -> T:
    """``work(session)`` as one unit of work, run once more if it lost a race on ``key``.

    For idempotent use cases (order entry by ``client_order_id``): a concurrent request
    that made the same thing first makes this one fail on commit or flush on the unique
    ``key``; the second run, in a new unit of work, finds what the first made. Any other
    integrity error is raised as it is. Costs nothing on the usual path (no savepoint).
    """
    try:
        with unit_of_work(session):
            return work(session)
    except IntegrityError as error:
        if not violates(error, key):
            raise
        with unit_of_work(session):
            return work(session)


def violates(error: IntegrityError, key: UniqueConstraint) -> bool:
    """Is ``error`` a violation of the unique constraint ``key``?

    PostgreSQL names the constraint; SQLite names its columns
    (``UNIQUE constraint failed: orders.league_code, orders.client_order_id``).
    """
    constraint = getattr(getattr(error.orig, "diag", None), "constraint_name", None)
    if constraint is not None:
        return bool(constraint == key.name)
    table = key.table.name
    columns = ", ".join(f"{table}.{column.name}" for column in key.columns)
    return f"UNIQUE constraint failed: {columns}" in str(error.orig)


@contextmanager
def savepoint(session: Session) -> Iterator[Session]:
    """All or nothing inside the caller's transaction (a SAVEPOINT); never commits it."""
    with session.begin_nested():
        yield session
