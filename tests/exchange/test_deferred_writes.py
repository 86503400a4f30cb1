"""Writes deferred to the transaction's next round trip (``ledger.driver.defer``: the action
log's entry, an order's row and its hold's ledger write): on PostgreSQL sent with the next
statement or the COMMIT, at once elsewhere; seen by whatever runs after them, never lost,
never leaked."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from sqlalchemy.pool import NullPool

from exchange.db import make_engine
from exchange.models import ActionLog, utcnow
from exchange.uow import savepoint, unit_of_work
from ledger.driver import Prepared, commit, prepared_insert


def _entry(path: str, **extra: Any) -> dict[str, Any]:
    return {
        "at": utcnow(),
        "username": "deferred-test",
        "method": "POST",
        "path": path,
        "status": 201,
        **extra,
    }


def _defer(session: Session, row: dict[str, Any]) -> None:
    prepared_insert(ActionLog.__table__, tuple(row)).defer(session, row)


def _paths(session: Session) -> list[str]:
    session.rollback()  # a fresh snapshot: what is committed
    return list(
        session.scalars(
            select(ActionLog.path).where(ActionLog.username == "deferred-test").order_by("id")
        )
    )


def _postgres(session: Session) -> bool:
    return session.get_bind().dialect.name == "postgresql"


def test_a_deferred_entry_is_written_with_the_commit(session: Session) -> None:
    session.execute(select(1))  # a transaction is open
    _defer(session, _entry("/a"))
    commit(session)
    assert _paths(session) == ["/a"]


def test_what_runs_after_a_deferred_write_sees_it(session: Session) -> None:
    """SQLAlchemy's statements (a Core read, the ORM's load and flush) and the driver's
    send what was deferred first: a unit of work reads its own writes, in order."""
    session.execute(select(1))
    _defer(session, _entry("/seen", id=987_654_330))
    assert session.scalar(select(func.count()).where(ActionLog.path == "/seen")) == 1
    _defer(session, _entry("/loaded", id=987_654_331))
    loaded = session.get(ActionLog, 987_654_331)  # the ORM's load
    assert loaded is not None and loaded.path == "/loaded"
    loaded.status = 299
    _defer(session, _entry("/then", id=987_654_332))
    session.flush()  # the ORM's UPDATE, after the deferred INSERT before it
    count = Prepared(select(func.count()).where(ActionLog.id.between(987_654_330, 987_654_332)))
    _defer(session, _entry("/last", id=987_654_333))
    assert count.first(session, {})[0] == 3  # the driver's: /last went after this read
    commit(session)
    assert _paths(session) == ["/seen", "/loaded", "/then", "/last"]
    assert session.get(ActionLog, 987_654_331).status == 299  # type: ignore[union-attr]


def test_a_plain_commit_writes_what_was_deferred(session: Session) -> None:
    session.execute(select(1))
    _defer(session, _entry("/plain"))
    session.commit()  # not ledger.driver.commit: the commit listener writes it first
    assert _paths(session) == ["/plain"]


def test_a_rollback_drops_what_was_deferred_and_the_next_commit_does_not_write_it(
    session: Session,
) -> None:
    session.execute(select(1))
    _defer(session, _entry("/dropped"))
    session.rollback()
    with unit_of_work(session):
        _defer(session, _entry("/kept"))
    assert _paths(session) == ["/kept"]


def test_a_deferred_write_that_fails_fails_the_commit_and_commits_nothing(
    session: Session,
) -> None:
    with unit_of_work(session):
        _defer(session, _entry("/first", id=987_654_321))
    session.execute(select(1))
    _defer(session, _entry("/second"))
    with pytest.raises(IntegrityError):  # at the commit on PostgreSQL, at once on SQLite
        _defer(session, _entry("/duplicate", id=987_654_321))  # the primary key again
        commit(session)
    session.rollback()
    assert _paths(session) == ["/first"]


def test_the_order_path_writes_its_log_entry_in_its_one_commit(
    client: Any, auth: Any, demo_registry: Any, session: Session
) -> None:
    from tests.exchange.trading_helpers import fund, market_id

    mid = market_id(demo_registry, "CEA-2026")
    fund(demo_registry, rights={("ordos", mid): 1_000})
    order = {
        "market_id": mid,
        "side": "sell",
        "quantity": 100,
        "limit_price": 5_000,
        "client_order_id": "deferred-1",
    }
    response = client.post("/api/v1/orders", headers=auth("league", "ordos"), json=order)
    assert response.status_code == 201, response.get_json()
    logged = session.scalars(
        select(ActionLog.status).where(
            ActionLog.path == "/api/v1/orders", ActionLog.league_code == "ordos"
        )
    ).all()
    assert logged == [201]


def test_an_entry_deferred_in_a_savepoint_that_rolls_back_is_not_written(
    session: Session,
) -> None:
    with unit_of_work(session):
        _defer(session, _entry("/outer"))
        with pytest.raises(RuntimeError), savepoint(session):
            _defer(session, _entry("/inner"))
            raise RuntimeError("the savepoint's work fails")
    assert _paths(session) == ["/outer"]


def test_a_driver_statement_in_a_savepoint_rolls_back_with_it(session: Session) -> None:
    """The driver's remembered connection must not skip the savepoint: SQLAlchemy emits
    SAVEPOINT only when the nested transaction first asks for the connection."""

    def insert(path: str) -> None:
        row = _entry(path)
        prepared_insert(ActionLog.__table__, tuple(row)).rows(session, row)

    with unit_of_work(session):
        insert("/before")  # the driver remembers the connection for the transaction
        with pytest.raises(RuntimeError), savepoint(session):
            insert("/inside")  # the savepoint's first statement, on the driver
            raise RuntimeError("the savepoint's work fails")
        insert("/after")
    assert _paths(session) == ["/before", "/after"]


def test_the_commit_keeps_its_connection_until_the_pipeline_is_done(database_url: str) -> None:
    """A pool that closes each connection it gets back (here: no pool; under load, a
    QueuePool's overflow) must not get it while the COMMIT's pipeline is still open."""
    engine = make_engine(database_url, poolclass=NullPool)
    try:
        with Session(engine) as session:
            session.execute(select(1))
            _defer(session, _entry("/nullpool"))
            commit(session)
            assert _paths(session) == ["/nullpool"]
    finally:
        engine.dispose()


def test_a_failed_commit_leaves_the_session_usable(session: Session) -> None:
    with unit_of_work(session):
        _defer(session, _entry("/one", id=987_654_322))
    with pytest.raises(IntegrityError), unit_of_work(session):
        _defer(session, _entry("/again", id=987_654_322))
    with unit_of_work(session):  # no "transaction is aborted", no rollback needed first
        _defer(session, _entry("/next"))
    assert sorted(_paths(session)) == ["/next", "/one"]
