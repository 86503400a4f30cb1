"""Engine and session factory: SQLite (WAL, foreign keys) or PostgreSQL (psycopg 3)."""

from __future__ import annotations

import logging
import select
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DisconnectionError, SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

SQLITE_BUSY_TIMEOUT_MS = 30_000


def make_engine(url: str, **kwargs: Any) -> Engine:
    """Create an engine with the settings this application relies on.

    On SQLite: WAL journal, foreign keys enforced, a busy timeout, and explicit
    transaction control (``BEGIN IMMEDIATE`` for writers) so that two writers
    never deadlock on a lock upgrade. Pass ``execution_options(sqlite_begin=
    "DEFERRED")`` on an engine copy for read-only work.
    """
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(
            url, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000}, **kwargs
        )
        _configure_sqlite(engine)
        return engine
    engine = create_engine(url, **kwargs)
    if not kwargs.get("pool_pre_ping"):
        event.listen(engine, "checkout", _refuse_dead_connection)
    event.listen(engine, "rollback", _rollback_keeping_prepared)
    return engine


def _refuse_dead_connection(dbapi_connection: Any, _record: Any, _proxy: Any) -> None:
    """``checkout``: hand out no PostgreSQL connection the server has closed.

    An idle connection has nothing to read. When the server restarts or ends the session
    it sends its farewell and closes, so the socket turns readable: the pool then drops
    the connection and takes or opens another (``DisconnectionError``). This does what
    ``pool_pre_ping`` does for a restart without its round trip per request (a request
    is mostly one checkout). A peer that vanished without a word is found by the next
    statement instead: it fails (503), and SQLAlchemy drops the pool's older connections.
    """
    if dbapi_connection.closed:  # also when broken (psycopg: a broken connection is closed)
        raise DisconnectionError("the connection is closed")
    poller = select.poll()
    poller.register(dbapi_connection.fileno(), select.POLLIN)
    if poller.poll(0):
        raise DisconnectionError("the server closed the connection")


def _rollback_keeping_prepared(connection: Connection) -> None:
    """``rollback`` (before the driver's): end a PostgreSQL transaction with a plain
    ``ROLLBACK`` on the libpq connection, so that psycopg keeps its prepared statements.

    psycopg's ``Connection.rollback()`` forgets every statement it has prepared and sends
    ``DEALLOCATE ALL``, in case the transaction changed the schema. Prepared statements
    outlive a rollback on the server, and this application's connections change no schema
    (migrations commit, or fail the command that ran them). Every refused order rolled
    back, and under ``bench/load``'s traffic (a request in four refused) no connection
    reached psycopg's sixth run of a statement, so PostgreSQL planned every statement anew.
    The driver's own rollback follows, finds no transaction and sends nothing; if this
    ``ROLLBACK`` fails, the driver's runs as before and reports the error.
    """
    if connection.invalidated or connection.closed:
        return
    raw = connection.connection.driver_connection
    if (
        raw is None
        or raw.closed
        or raw.pgconn.pipeline_status  # in a pipeline (0: not)
        or raw.info.transaction_status.name not in ("INTRANS", "INERROR")  # psycopg.pq's
    ):
        return
    try:
        raw.pgconn.exec_(b"ROLLBACK")  # what it leaves is the transaction status
    except connection.dialect.loaded_dbapi.Error:
        return  # the driver's rollback meets the same fault and reports it


def _configure_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Take over transaction control from pysqlite (the documented workaround).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        mode = conn.get_execution_options().get("sqlite_begin", "IMMEDIATE")
        conn.exec_driver_sql(f"BEGIN {mode}")


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    """A session factory whose sessions do not expire objects on commit."""
    return sessionmaker(bind=engine, expire_on_commit=False)


def close_quietly(session: Session) -> None:
    """Close a session; if its connection died (server restarted), drop it instead.

    By then the outcome is decided: the work either committed or the database rolls
    it back, so a lost connection must not turn a finished request into an error.
    """
    try:
        session.close()
    except SQLAlchemyError:
        logging.getLogger("exchange").warning("database connection lost while closing a session")
        session.invalidate()
