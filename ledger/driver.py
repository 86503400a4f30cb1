"""Hot-path statements below SQLAlchemy's execution layer, inside the session's transaction.

SQLAlchemy's execution layer (session, execution context, result objects) costs about 150 µs
of CPU per statement on top of the driver's own 60-80 µs (psycopg, measured in
``bench/trading/README.md``); an order's five statements paid more for it than PostgreSQL
spent running them. The order and cancel paths on PostgreSQL therefore run their statements
here, compiled once by SQLAlchemy (:func:`compiled_for`) and sent on the libpq connection
under the session's own connection (:mod:`ledger._wire`: a round trip's statements in one
pipeline, its BEGIN and COMMIT with them), so they stay in its one transaction.

What callers keep: the session's transaction (``Session.connection()`` begins it first);
errors arrive as SQLAlchemy's (``IntegrityError`` and the rest, a lost connection
invalidated), through the connection's own handler; ``before_cursor_execute`` listeners see
every statement, as they would through ``Session.execute`` (the intake budget test counts
with them). What they give up: type processing, so statements here take and return plain
values (str, int, datetime, lists), and ORM loading.
"""

from __future__ import annotations

import functools
import sys
from collections import namedtuple
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Connection, Engine, Table, event, insert
from sqlalchemy.dialects.postgresql import psycopg
from sqlalchemy.orm import Session
from sqlalchemy.sql import ClauseElement, Executable, sqltypes
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.types import TypeEngine

DIALECT = psycopg.dialect()  # type: ignore[no-untyped-call]


def compiled_for(statement: ClauseElement) -> str:
    """``statement``'s SQL for psycopg (``%(name)s`` parameters); compile once, at import."""
    return str(statement.compile(dialect=DIALECT))


def fetch_rows(
    session: Session, sql: str, params: Mapping[str, Any], *, rows: bool = True
) -> Sequence[tuple[Any, ...]]:
    """Run ``sql`` (from :func:`compiled_for`) with ``params`` in ``session``'s transaction on
    PostgreSQL and return its rows as plain tuples (``rows=False``: a statement without)."""
    return _run(session, sql, params, rows=rows, notify=True)


def _run(
    session: Session, sql: str, params: Mapping[str, Any], *, rows: bool, notify: bool
) -> Sequence[tuple[Any, ...]]:
    connection = _connection(session)
    # What was deferred goes first, in this statement's round trip; on a connection with no
    # transaction yet, the BEGIN psycopg would have sent alone goes first too (_wire).
    found = _pipelined(connection, _take_deferred(connection), [(sql, params)], notify=notify)
    return found[0] if rows else ()


def fetch_together(
    session: Session, statements: Sequence[tuple[str, Mapping[str, Any]]]
) -> list[Sequence[tuple[Any, ...]]]:
    """Run ``statements`` (SQL from :func:`compiled_for`, parameters) in turn in
    ``session``'s transaction on PostgreSQL, in one round trip (one pipeline:
    :mod:`ledger._wire`), and return each one's rows. For statements of different owners
    that do not wait on each other's results (an order's entry check and its hold's
    locks). If one fails, those after it do not run; the error arrives as SQLAlchemy's."""
    connection = _connection(session)
    return _pipelined(connection, _take_deferred(connection), statements, notify=True)


def _pipelined(
    connection: Connection,
    queued: Sequence[tuple[str, Mapping[str, Any]]],
    statements: Sequence[tuple[str, Mapping[str, Any]]],
    *,
    notify: bool,
    commit: bool = False,
) -> list[Sequence[tuple[Any, ...]]]:
    """``queued`` (deferred writes, their rows not read), then ``statements``, then the COMMIT
    if ``commit``, on ``connection`` in one round trip (:func:`ledger._wire.send`); each of
    ``statements``' rows. Errors arrive as SQLAlchemy's, for the statement that failed."""
    from ledger import _wire  # psycopg's: PostgreSQL only (SQLite installs have no psycopg)

    cursor = _cursor(connection)
    if notify:  # the queued ones' listeners were told when they were deferred
        for sql, params in statements:
            _notify(connection, cursor, sql, params)
    sent = [*queued, *statements]
    try:
        found = _wire.send(connection.connection.info, cursor.connection, sent, commit=commit)
    except _wire.StatementError as failed:
        sql, params = sent[failed.index] if failed.index >= 0 else ("COMMIT", {})
        connection._handle_dbapi_exception(failed.error, sql, params, cursor, None)
    except connection.dialect.loaded_dbapi.Error as error:  # the connection broke
        sql, params = sent[0] if sent else ("COMMIT", {})
        connection._handle_dbapi_exception(error, sql, params, cursor, None)
    return found[len(queued) :]


def _notify(connection: Connection, cursor: Any, sql: str, params: Mapping[str, Any]) -> None:
    """Tell ``before_cursor_execute`` listeners of a statement (e.g. the budget test)."""
    if connection._has_events or connection.engine._has_events:
        for listener in connection.dispatch.before_cursor_execute:
            listener(connection, cursor, sql, params, None, False)


def commit(session: Session) -> None:
    """``session.commit()``; on PostgreSQL, writes deferred to it (:func:`defer`) go in the
    COMMIT's round trip (one pipeline): an order's last round trip carries its
    ledger write, its row, its action log entry and its commit. Errors arrive as
    SQLAlchemy's."""
    if session.get_transaction() is None or session.get_bind().dialect.name != "postgresql":
        session.commit()
        return
    session.flush()  # the ORM's pending changes first (what was deferred goes before them)
    connection = _held_connection(session)
    queued = [] if connection is None else _take_deferred(connection)
    if connection is None or not queued:
        session.commit()
        return
    # The COMMIT goes on the driver, while the session still holds the connection:
    # session.commit() hands it back to the pool, which may reset or close it, and
    # another thread may take it, before a pipeline around it were done.
    _send_queued(connection, queued, commit=True)
    session.commit()  # SQLAlchemy's part; the transaction is over, psycopg sends nothing


def defer(session: Session, sql: str, params: Mapping[str, Any]) -> None:
    """Send ``sql`` (from :func:`compiled_for`: a write whose rows nobody reads) with the
    next round trip of ``session``'s transaction instead of in one of its own: with the
    driver's next statement (pipelined before it), before SQLAlchemy's next statement on
    the connection (the ORM's flush and loads included), or with the COMMIT (:func:`commit`;
    any other commit sends it first). In the order deferred, so whatever runs after it in
    the transaction sees it; a rollback drops it with the rest. With no transaction yet, it
    begins one (sending nothing: the BEGIN goes with the write). PostgreSQL only, as
    :func:`fetch_rows`; at once inside a savepoint (whose rollback must take it too)."""
    if session.in_nested_transaction():
        _run(session, sql, params, rows=False, notify=True)
        return
    connection = _connection(session)
    _notify(connection, _cursor(connection), sql, params)
    transaction = connection.get_transaction()
    held: tuple[Any, _Queue] | None = connection.info.get(_DEFERRED)
    if held is None or held[0] is not transaction:
        held = connection.info[_DEFERRED] = (transaction, [])
    held[1].append((sql, params))


def _take_deferred(connection: Connection) -> _Queue:
    """What was deferred in ``connection``'s transaction, no longer held."""
    if _DEFERRED not in connection.info:
        return []
    held = connection.info.pop(_DEFERRED)
    if held[0] is not connection.get_transaction():
        return []  # an ended transaction's
    return cast(_Queue, held[1])


@event.listens_for(Engine, "before_execute")
def _send_deferred_first(connection: Connection, *_args: Any) -> None:
    """SQLAlchemy's next statement on the connection (the ORM's flush and loads included)
    sends what was deferred first, in a round trip of its own: it runs after it."""
    if _DEFERRED in connection.info:
        _send_deferred(connection)


@event.listens_for(Engine, "commit")
def _send_deferred_at_commit(connection: Connection) -> None:
    """A commit that is not :func:`commit`'s still writes what was deferred, first."""
    if _DEFERRED in connection.info:
        _send_deferred(connection)


@event.listens_for(Engine, "after_cursor_execute")
def _forget_prepared(connection: Connection, _cursor: Any, statement: str, *_args: Any) -> None:
    """After a statement psycopg may deallocate every prepared statement for (a savepoint's
    ROLLBACK, DDL), what ``_wire`` prepared on the connection is prepared again."""
    wire = sys.modules.get("ledger._wire")  # not imported yet: nothing was prepared
    if wire is not None and not connection.invalidated and not connection.closed:
        wire.forget_after(connection.connection.info, statement)


@event.listens_for(Engine, "rollback")
def _drop_deferred(connection: Connection) -> None:
    """A rollback drops what was deferred: it was never sent."""
    if not connection.invalidated and not connection.closed:
        connection.info.pop(_DEFERRED, None)


def _send_deferred(connection: Connection) -> None:
    queued = _take_deferred(connection)
    if queued:
        _send_queued(connection, queued, commit=False)


def _send_queued(connection: Connection, queued: _Queue, *, commit: bool) -> None:
    """``queued`` in one round trip on ``connection``, the COMMIT after them if ``commit``."""
    _pipelined(connection, queued, [], notify=False, commit=commit)


_DEFERRED = "ledger.driver.deferred"
_Queue = list[tuple[str, Mapping[str, Any]]]  # deferred statements: SQL, driver parameters
_CONNECTION = "ledger.driver.connection"
_CURSOR = "ledger.driver.cursor"


def _connection(session: Session) -> Connection:
    """``session.connection()``, remembered for the session's innermost transaction while
    it is active (an order's statements asked for it seven times).

    Innermost: SQLAlchemy emits a savepoint's SAVEPOINT only when the nested transaction
    first asks for the connection, so a savepoint's first statement must ask again, or it
    would run outside the savepoint and outlive its rollback."""
    held = _held_connection(session)
    if held is not None:
        return held
    connection = session.connection()
    session.info[_CONNECTION] = (
        session.get_nested_transaction() or session.get_transaction(),
        connection,
    )
    return connection


def _held_connection(session: Session) -> Connection | None:
    """The connection :func:`_connection` gave in the session's innermost transaction, if
    that is still active; else None."""
    transaction = session.get_nested_transaction() or session.get_transaction()
    held = session.info.get(_CONNECTION)
    if (
        held is not None
        and transaction is not None
        and held[0] is transaction
        and transaction.is_active
    ):
        return cast(Connection, held[1])
    return None


def _cursor(connection: Connection) -> Any:
    """One driver cursor per pooled DBAPI connection, reused by its statements (kept in
    the connection's ``info``, which the pool clears when it drops the connection)."""
    pooled = connection.connection
    raw = pooled.driver_connection
    cursor = pooled.info.get(_CURSOR)
    if cursor is None or cursor.closed or cursor.connection is not raw:
        cursor = pooled.info[_CURSOR] = cast(Any, raw).cursor()
    return cursor


def array_literal(values: Iterable[int | str | datetime | None]) -> str:
    """``values`` as a PostgreSQL array literal (``{1,"a\\"b",NULL}``), bound as text where the
    statement casts it (``CAST(:ids AS BIGINT[])``).

    psycopg's list adapter inspects every element to choose the array's type: about 6 µs
    per list, 150 µs for the 25 arrays of an order's ledger write; this costs a twentieth.
    Integers, strings (quoted, ``\\`` and ``"`` escaped), timezone-aware datetimes and None.
    """
    return "{" + ",".join(_element(value) for value in values) + "}"


def _element(value: int | str | datetime | None) -> str:
    if value is None:
        return "NULL"
    if isinstance(value, bool):  # an int, but its str() is no integer literal
        raise TypeError("array_literal takes no booleans")
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise ValueError("array_literal takes timezone-aware datetimes only")
        return f'"{value.isoformat()}"'
    raise TypeError(f"array_literal takes no {type(value).__name__}")


class Prepared:
    """A Core statement compiled once for psycopg, with its parameters' and columns' type
    processing (enums, JSON) worked out once; :meth:`rows` runs it on the driver on
    PostgreSQL and through ``Session.execute`` elsewhere (SQLite: no round trips to save).

    Constant ``IN`` lists are rendered at compile time; an ``INSERT`` is compiled for the
    ``columns`` it is given (every call gives those, and only those)."""

    def __init__(self, statement: Executable, *, columns: Sequence[str] | None = None) -> None:
        self.statement = statement
        compiled = cast(
            SQLCompiler,
            cast(ClauseElement, statement).compile(
                dialect=DIALECT, column_keys=list(columns) if columns is not None else None
            ),
        )
        blanks = {  # the caller's parameters; the rest are constants of the statement
            name: None
            for bind, name in compiled.bind_names.items()
            if bind.required or (bind.value is None and bind.callable is None)
        }
        expanded = compiled.construct_expanded_state(blanks)
        self.sql = expanded.statement
        types = {name: bind.type for bind, name in compiled.bind_names.items()}
        self.binds = {
            name: processor
            for name, type_ in types.items()
            if (processor := type_.bind_processor(DIALECT)) is not None
        }
        processors = {**self.binds, **(expanded.processors or {})}
        self.constants = {
            name: processors[name](value) if name in processors else value
            for name, value in expanded.parameters.items()
            if name not in blanks
        }
        selected = list(getattr(statement, "exported_columns", ()))  # a SELECT's, a RETURNING's
        keys = [column.key or f"c{i}" for i, column in enumerate(selected)]
        self.row: Any = namedtuple("Row", keys, rename=True)  # type: ignore[misc]
        self.results = [_result_processor(c.type) for c in selected]
        self._processed = [(i, p) for i, p in enumerate(self.results) if p is not None]

    def rows(self, session: Session, params: Mapping[str, Any]) -> Sequence[Any]:
        """The statement's rows for ``params`` in ``session``'s transaction (attribute access
        by column key, values typed as ``Session.execute`` would give them)."""
        if session.get_bind().dialect.name != "postgresql":
            result = session.execute(self.statement, params)
            return result.all() if self.results else ()
        values = self._values(params)
        if not self.results:  # an INSERT (any implicit RETURNING of its new key is not read)
            return fetch_rows(session, self.sql, values, rows=False)
        return self.typed(fetch_rows(session, self.sql, values))

    def to_send(self, params: Mapping[str, Any]) -> tuple[str, dict[str, Any]]:
        """The statement's SQL and driver parameters for ``params``, for
        :func:`fetch_together` (PostgreSQL); its rows then go through :meth:`typed`."""
        return self.sql, self._values(params)

    def typed(self, found: Sequence[tuple[Any, ...]]) -> list[Any]:
        """The driver's rows of this statement as :meth:`rows` gives them."""
        make, processed = self.row._make, self._processed
        if not processed:
            return [make(raw) for raw in found]
        out = []
        for raw in found:  # a clearing run's book is thousands of rows: touch only what changes
            cells = list(raw)
            for i, process in processed:
                cells[i] = process(cells[i])
            out.append(make(cells))
        return out

    def _values(self, params: Mapping[str, Any]) -> dict[str, Any]:
        """The driver's parameters: the statement's constants and the caller's ``params``
        through their types' bind processors."""
        binds = self.binds
        return {
            **self.constants,
            **{k: binds[k](v) if k in binds else v for k, v in params.items()},
        }

    def first(self, session: Session, params: Mapping[str, Any]) -> Any:
        """The first row for ``params``, or None."""
        found = self.rows(session, params)
        return found[0] if found else None

    def defer(self, session: Session, params: Mapping[str, Any]) -> None:
        """Write this row-less statement with the transaction's next round trip
        (:func:`defer`): a write that the rest of the unit of work does not wait on (the
        action log's entry, an order's row)."""
        if self.results:
            raise ValueError("a statement whose rows are read is run, not deferred")
        if session.get_bind().dialect.name != "postgresql":
            self.rows(session, params)
            return
        defer(session, self.sql, self._values(params))


def _result_processor(type_: TypeEngine[Any]) -> Callable[[Any], Any] | None:
    """How a column of ``type_`` comes back as ``Session.execute`` would give it: an enum's
    member by a dict lookup of its stored text (SQLAlchemy's own processor costs a few
    function calls per value), else SQLAlchemy's processor (None: as the driver gives it)."""
    if isinstance(type_, sqltypes.Enum) and type_.enum_class is not None:
        members: dict[Any, Any] = dict(zip(type_.enums, type_.enum_class, strict=True))
        members[None] = None
        return members.__getitem__
    return cast(Callable[[Any], Any] | None, type_.result_processor(DIALECT, None))


@functools.cache
def prepared_insert(table: Table, columns: tuple[str, ...]) -> Prepared:
    """``INSERT INTO table (columns)`` as a :class:`Prepared`, one per table and columns."""
    return Prepared(insert(table), columns=columns)
