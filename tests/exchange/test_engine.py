"""The engine's connections on PostgreSQL: one the server ended is not handed out, and a
rollback keeps the statements psycopg prepared."""

from __future__ import annotations

import time

import pytest
from sqlalchemy import Connection, text
from sqlalchemy.exc import ProgrammingError

from exchange.db import make_engine
from tests.conftest import PG_URL


def _backend_pid(engine: object) -> int:
    with engine.connect() as conn:  # type: ignore[attr-defined]
        return int(conn.exec_driver_sql("SELECT pg_backend_pid()").scalar())


def test_a_connection_the_server_ended_is_dropped_at_checkout(database_url: str) -> None:
    if not PG_URL:
        pytest.skip("PostgreSQL's connections (SQLite opens a file)")
    engine = make_engine(database_url, pool_size=1, max_overflow=0)
    admin = make_engine(database_url, isolation_level="AUTOCOMMIT")
    try:
        first = _backend_pid(engine)  # now idle in the pool
        with admin.connect() as conn:
            assert conn.execute(text("SELECT pg_terminate_backend(:p)"), {"p": first}).scalar()
            for _ in range(100):  # the backend says goodbye and exits
                gone = not conn.execute(
                    text("SELECT count(*) FROM pg_stat_activity WHERE pid = :p"), {"p": first}
                ).scalar()
                if gone:
                    break
                time.sleep(0.05)
        # Without the checkout check (and no pre-ping round trip) this raised
        # OperationalError: the pool handed out the dead connection.
        second = _backend_pid(engine)
        assert second != first
        assert _backend_pid(engine) == second  # the new one stays in the pool
    finally:
        engine.dispose()
        admin.dispose()


def _prepared(conn: Connection) -> int:
    """How many statements the server holds prepared for this connection's session."""
    return int(conn.exec_driver_sql("SELECT count(*) FROM pg_prepared_statements").scalar())


def test_a_rollback_keeps_what_psycopg_prepared_and_still_rolls_back(database_url: str) -> None:
    if not PG_URL:
        pytest.skip("psycopg's prepared statements (PostgreSQL only)")
    engine = make_engine(database_url, pool_size=1, max_overflow=0)
    try:
        with engine.connect() as conn:
            conn.exec_driver_sql("CREATE TEMPORARY TABLE kept (n INT)")
            conn.commit()
            for n in range(6):  # psycopg prepares a statement on its sixth run
                conn.execute(text("INSERT INTO kept (n) VALUES (:n)"), {"n": n})
            assert _prepared(conn) == 1
            conn.rollback()
            # psycopg's own rollback sent DEALLOCATE ALL here: 0, and every statement was
            # planned anew until its sixth run again
            assert _prepared(conn) == 1
            assert conn.exec_driver_sql("SELECT count(*) FROM kept").scalar() == 0
            conn.commit()

            with pytest.raises(ProgrammingError):  # a failed transaction rolls back alike
                conn.exec_driver_sql("SELECT no_such_column FROM kept")
            conn.rollback()
            assert _prepared(conn) == 1
            conn.execute(text("INSERT INTO kept (n) VALUES (:n)"), {"n": 7})
            conn.commit()
            assert conn.exec_driver_sql("SELECT count(*) FROM kept").scalar() == 1
    finally:
        engine.dispose()
