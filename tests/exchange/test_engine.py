"""The engine's connection pool on PostgreSQL: a connection the server ended is not handed out."""

from __future__ import annotations

import time

import pytest
from sqlalchemy import text

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
