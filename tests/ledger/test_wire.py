"""The driver's statements on libpq's pipeline (``ledger._wire``, PostgreSQL): the values and
errors psycopg's cursors gave, one round trip with its BEGIN and COMMIT, and prepared
statements that survive psycopg deallocating its own."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import Engine, literal, select, text
from sqlalchemy.exc import DBAPIError, IntegrityError, ProgrammingError
from sqlalchemy.orm import Session

from exchange.db import make_engine
from ledger import _wire
from ledger.driver import commit, defer, fetch_rows, fetch_together
from tests.conftest import PG_URL


@pytest.fixture(scope="module")
def engine(migrated_template: str) -> Iterator[Engine]:
    """This test process's own database (pytest-xdist's workers run side by side)."""
    if not PG_URL:
        pytest.skip("libpq's pipeline is PostgreSQL's (SQLite runs the statements in process)")
    made = make_engine(migrated_template)
    with made.begin() as conn:
        conn.execute(text("DROP TABLE IF EXISTS wire_test"))
        conn.execute(text("CREATE TABLE wire_test (id INT PRIMARY KEY, note VARCHAR)"))
    yield made
    with made.begin() as conn:
        conn.execute(text("DROP TABLE wire_test"))
    made.dispose()


@pytest.fixture
def session(engine: Engine) -> Iterator[Session]:
    with Session(engine) as opened:
        yield opened
        opened.rollback()
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM wire_test"))


def _psycopg_rows(session: Session, sql: str, params: dict[str, Any]) -> list[tuple[Any, ...]]:
    cursor = session.connection().connection.driver_connection.cursor()  # type: ignore[union-attr]
    cursor.execute(sql, params)
    return list(cursor.fetchall())


def test_values_come_back_as_psycopgs_cursors_give_them(session: Session) -> None:
    sql = (
        "SELECT %(i)s::BIGINT, %(t)s::VARCHAR, %(at)s::TIMESTAMPTZ, %(n)s::NUMERIC,"
        " %(none)s::INT, CAST(%(arr)s AS BIGINT[]), %(i)s::BIGINT + 1, 'a%%b'"
    )
    params = {
        "i": 2**62,
        "t": "北京 \"'\\",
        "at": datetime(2026, 12, 2, 8, 0, tzinfo=UTC),
        "n": Decimal("1.50"),
        "none": None,
        "arr": "{1,2,NULL}",
    }
    ours = fetch_rows(session, sql, params)
    assert list(ours) == _psycopg_rows(session, sql, params)
    assert ours[0][0] == 2**62 and ours[0][6] == 2**62 + 1 and ours[0][7] == "a%b"
    assert ours[0][5] == [1, 2, None]


def test_a_transaction_is_one_round_trip_with_its_begin_and_its_commit(
    session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    sent: list[tuple[list[str], bool]] = []
    own = _wire.send

    def counted(info: Any, raw: Any, statements: Any, *, commit: bool = False) -> Any:
        sent.append(([sql for sql, _ in statements], commit))
        return own(info, raw, statements, commit=commit)

    monkeypatch.setattr(_wire, "send", counted)
    insert = "INSERT INTO wire_test (id, note) VALUES (%(id)s, %(note)s)"
    count = "SELECT count(*) FROM wire_test WHERE id >= %(id)s"
    raw = session.connection().connection.driver_connection
    assert raw.info.transaction_status.name == "IDLE"  # type: ignore[union-attr]
    first, second = fetch_together(session, [(insert, {"id": 1, "note": "a"}), (count, {"id": 0})])
    assert (first, second) == ([], [(1,)])
    assert raw.info.transaction_status.name == "INTRANS"  # type: ignore[union-attr]
    defer(session, insert, {"id": 2, "note": "b"})
    commit(session)
    assert sent == [([insert, count], False), ([insert], True)]
    with session.begin():
        assert session.scalar(text("SELECT count(*) FROM wire_test")) == 2


def test_a_failing_statement_raises_sqlalchemys_error_and_the_rest_does_not_run(
    session: Session,
) -> None:
    insert = "INSERT INTO wire_test (id, note) VALUES (%(id)s, %(note)s)"
    fetch_rows(session, insert, {"id": 7, "note": "first"}, rows=False)
    with pytest.raises(IntegrityError) as raised:
        fetch_together(
            session,
            [
                (insert, {"id": 8, "note": "ok"}),
                (insert, {"id": 7, "note": "again"}),
                (insert, {"id": 9, "note": "never"}),
            ],
        )
    assert "wire_test_pkey" in str(raised.value.orig)
    assert raised.value.statement == insert
    session.rollback()
    with pytest.raises(ProgrammingError) as refused:  # a syntax error: its prepare fails
        fetch_together(session, [("SELECT 1", {}), ("SELEC %(x)s", {"x": 1})])
    assert refused.value.statement == "SELEC %(x)s"
    session.rollback()
    raw = session.connection().connection.driver_connection
    count = "SELECT count(*) FROM wire_test WHERE note = %(note)s"
    with pytest.raises(IntegrityError):  # prepared, then its transaction failed
        fetch_together(session, [(count, {"note": "n"}), (insert, {"id": None, "note": "n"})])
    session.rollback()
    prepared = _prepared(raw)
    assert fetch_rows(session, count, {"note": "n"}) == [(0,)]
    assert _prepared(raw) == prepared  # not prepared twice: it outlived the rollback
    session.rollback()
    with session.begin():
        assert session.scalar(text("SELECT count(*) FROM wire_test")) == 0


def test_statements_prepared_before_psycopg_deallocates_its_own_are_prepared_again(
    session: Session,
) -> None:
    """Once psycopg has prepared a statement of its own, it sends DEALLOCATE ALL after a
    ROLLBACK it has not seen before: the driver's are prepared again, under new names."""
    sql = "SELECT %(x)s::INT + 1"
    assert fetch_rows(session, sql, {"x": 1}) == [(2,)]
    for _ in range(6):  # psycopg prepares a statement after its fifth run
        session.execute(select(literal(1)))
    raw = session.connection().connection.driver_connection
    before = _prepared(raw)
    assert any(name.startswith("_pg3_") for name in before), before
    assert any(name.startswith("ledger_") for name in before), before
    point = f"wire_{uuid.uuid4().hex}"  # a text psycopg has never seen on this connection
    session.execute(text(f"SAVEPOINT {point}"))
    session.execute(text(f"ROLLBACK TO SAVEPOINT {point}"))
    assert not any(name.startswith("ledger_") for name in _prepared(raw))
    assert fetch_rows(session, sql, {"x": 2}) == [(3,)]
    assert len([n for n in _prepared(raw) if n.startswith("ledger_")]) == 1


def test_a_rollback_that_deallocates_nothing_prepares_nothing_again(session: Session) -> None:
    """A savepoint's ROLLBACK psycopg has seen before leaves every statement prepared: the
    driver's keep their names (none is prepared twice, none is left behind)."""
    sql = "SELECT %(x)s::INT * 3"
    session.begin_nested().rollback()  # psycopg has now seen this ROLLBACK's text
    assert fetch_rows(session, sql, {"x": 1}) == [(3,)]
    raw = session.connection().connection.driver_connection
    before = sorted(n for n in _prepared(raw) if n.startswith("ledger_"))
    for _ in range(3):
        nested = session.begin_nested()
        nested.rollback()
        assert fetch_rows(session, sql, {"x": 2}) == [(6,)]
    assert sorted(n for n in _prepared(raw) if n.startswith("ledger_")) == before


def _prepared(raw: Any) -> list[str]:
    return [row[0] for row in raw.execute("SELECT name FROM pg_prepared_statements")]


def test_a_broken_connection_is_closed_and_reported(session: Session, engine: Engine) -> None:
    fetch_rows(session, "SELECT 1", {})
    raw = session.connection().connection.driver_connection
    pid = raw.info.backend_pid  # type: ignore[union-attr]
    with engine.connect() as other:
        other.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
    with pytest.raises(DBAPIError) as raised:
        fetch_rows(session, "SELECT 2", {})
    assert raised.value.connection_invalidated
    assert raw.closed  # type: ignore[union-attr]
