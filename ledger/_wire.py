"""PostgreSQL: a transaction's statements sent on libpq's pipeline directly (psycopg's ``pq``
layer), in one round trip, for :mod:`ledger.driver`.

psycopg's cursors in a pipeline cost about 170 µs of this process's CPU for a BEGIN, three
statements and a COMMIT; these libpq calls cost about 30 µs (``bench/trading/README.md``,
twelfth pass). What psycopg's cursors did is done here as they did it: parameters dumped
and rows loaded by a psycopg ``Transformer`` on the connection's adapters (the same Python
values), statements prepared on the server (each once per connection and parameter types,
named apart from psycopg's own), errors raised as psycopg's for the failing statement's
SQLSTATE. The BEGIN psycopg would have sent alone goes first in the same pipeline.

psycopg deallocates every prepared statement of a connection after some statements whose
status is a ``ROLLBACK`` (a savepoint's included), ``DROP``, ``ALTER``, ``DISCARD ALL`` or
``DEALLOCATE ALL`` (the first of each text, once psycopg has prepared one of its own). After
any such statement (SQLAlchemy's ``after_cursor_execute``: :func:`forget_after`) this module
no longer trusts what it prepared on the connection: before its next round trip it reads
the connection's ``pg_prepared_statements`` (a round trip of its own) and prepares again
what is gone, under new names (a name is never used twice in a process).
"""

from __future__ import annotations

import functools
import itertools
import re
import select
from collections.abc import Mapping, Sequence
from typing import Any

import psycopg
from psycopg import errors, pq
from psycopg.adapt import PyFormat, Transformer

Statement = tuple[str, Mapping[str, Any]]
"""SQL with psycopg's ``%(name)s`` parameters, and their values."""

_PARAMETER = re.compile(r"%\((\w+)\)s|%%")
_FORGETS = re.compile(r"\s*(ROLLBACK|DROP|ALTER|DISCARD|DEALLOCATE)\b", re.IGNORECASE)
_NAMES = itertools.count()
_STATE = "ledger.wire"
_STILL_PREPARED = b"SELECT name FROM pg_prepared_statements WHERE name LIKE 'ledger\\_%'"
_OK = (pq.ExecStatus.COMMAND_OK, pq.ExecStatus.TUPLES_OK, pq.ExecStatus.EMPTY_QUERY)


class StatementError(Exception):
    """A statement of a pipeline failed: ``error`` (psycopg's) and which statement."""

    def __init__(self, error: psycopg.Error, index: int) -> None:
        super().__init__(str(error))
        self.error = error
        self.index = index


@functools.lru_cache(maxsize=1024)
def _numbered(sql: str) -> tuple[bytes, tuple[str, ...]]:
    """``sql`` with ``$1``… for its ``%(name)s`` parameters, and the names in that order."""
    names: list[str] = []

    def number(found: re.Match[str]) -> str:
        name = found.group(1)
        if name is None:
            return "%"
        if name not in names:
            names.append(name)
        return f"${names.index(name) + 1}"

    return _PARAMETER.sub(number, sql).encode(), tuple(names)


class _State:
    """What this module keeps for one psycopg connection."""

    __slots__ = ("prepared", "raw", "transformer", "unsure")

    def __init__(self, raw: psycopg.Connection[Any]) -> None:
        self.raw = raw
        self.transformer = Transformer(raw)
        self.prepared: dict[tuple[bytes, tuple[int, ...]], bytes] = {}
        self.unsure = False
        """Whether psycopg may have deallocated what :attr:`prepared` names."""

    def check_prepared(self) -> None:
        """If unsure, keep only the statements the server still has (one round trip)."""
        if not self.unsure:
            return
        found = self.raw.pgconn.exec_(_STILL_PREPARED)
        if found.status != pq.ExecStatus.TUPLES_OK:
            return  # a failed transaction: its statements fail the same way; ask next time
        kept = {found.get_value(row, 0) for row in range(found.ntuples)}
        self.prepared = {key: name for key, name in self.prepared.items() if name in kept}
        self.unsure = False


def _state(info: dict[str, Any], raw: psycopg.Connection[Any]) -> _State:
    state: _State | None = info.get(_STATE)
    if state is None or state.raw is not raw:
        state = info[_STATE] = _State(raw)
    return state


def forget_after(info: dict[str, Any], statement: str) -> None:
    """After ``statement`` ran on the connection whose pool ``info`` this is: if psycopg may
    have deallocated every prepared statement after it, forget those prepared here."""
    if _STATE in info and _FORGETS.match(statement):
        info[_STATE].unsure = True


def send(
    info: dict[str, Any],
    raw: psycopg.Connection[Any],
    statements: Sequence[Statement],
    *,
    commit: bool = False,
) -> list[Sequence[tuple[Any, ...]]]:
    """Run ``statements`` in turn on ``raw`` in one round trip (a BEGIN first if no
    transaction is open, a COMMIT last if ``commit``) and return each one's rows.

    ``info``: the pooled connection's ``info`` (what was prepared on it is kept there). A
    statement that fails raises :class:`StatementError` (psycopg's error; those after it do
    not run, the transaction is left failed); a broken connection, psycopg's
    ``OperationalError`` with the connection closed."""
    state = _state(info, raw)
    pgconn = raw.pgconn
    if raw._pipeline is not None or pgconn.pipeline_status != pq.PipelineStatus.OFF:
        raise psycopg.ProgrammingError("the connection is already in a pipeline")
    with raw.lock:
        try:
            state.check_prepared()
            pgconn.enter_pipeline_mode()
            return _round_trip(state, pgconn, statements, commit)
        except (psycopg.OperationalError, OSError) as broken:
            raw.close()  # whatever it had left unread: no one can use it after this
            raise psycopg.OperationalError(f"the connection broke: {broken}") from broken
        finally:
            if not raw.closed and pgconn.pipeline_status != pq.PipelineStatus.OFF:
                pgconn.exit_pipeline_mode()


def _round_trip(
    state: _State, pgconn: Any, statements: Sequence[Statement], commit: bool
) -> list[Sequence[tuple[Any, ...]]]:
    """Queue, send, read: results in the order the commands were queued."""
    raw, transformer = state.raw, state.transformer
    # Each command's statement (-1: BEGIN, COMMIT) and whether its result has the rows.
    commands: list[tuple[int, bool]] = []
    preparing: dict[int, tuple[tuple[bytes, tuple[int, ...]], bytes]] = {}  # command: key, name
    if pgconn.transaction_status == pq.TransactionStatus.IDLE and not raw.autocommit:
        pgconn.send_query_params(_begin(raw), None)
        commands.append((-1, False))
    for index, (sql, params) in enumerate(statements):
        text, names = _numbered(sql)
        values = transformer.dump_sequence([params[n] for n in names], [PyFormat.AUTO] * len(names))
        types = tuple(transformer.types or ())
        key = (text, types)
        name = state.prepared.get(key)
        if name is None:
            name = b"ledger_%d" % next(_NAMES)
            pgconn.send_prepare(name, text, param_types=types or None)
            preparing[len(commands)] = (key, name)
            commands.append((index, False))
        pgconn.send_query_prepared(name, values, param_formats=transformer.formats)
        commands.append((index, True))
    if commit:
        pgconn.send_query_params(b"COMMIT", None)
        commands.append((-1, False))
    pgconn.pipeline_sync()
    _flush(pgconn)
    results = _read(pgconn)

    rows: list[Sequence[tuple[Any, ...]]] = [[] for _ in statements]
    failed: StatementError | None = None
    for number, ((index, has_rows), result) in enumerate(zip(commands, results, strict=True)):
        status = result.status
        if status == pq.ExecStatus.PIPELINE_ABORTED:
            continue
        if status not in _OK:
            if failed is None:
                error = errors.error_from_result(result, encoding=raw.info.encoding)
                failed = StatementError(error, index)
            continue
        if number in preparing:  # prepared on the server whatever comes after (not undone)
            key, name = preparing[number]
            state.prepared[key] = name
        elif has_rows and status == pq.ExecStatus.TUPLES_OK:
            transformer.set_pgresult(result)
            rows[index] = transformer.load_rows(0, result.ntuples, tuple)
    if failed is not None:
        if failed.error.sqlstate == "26000":  # a prepared statement is gone: look again
            state.unsure = True
        raise failed
    return rows


def _begin(raw: psycopg.Connection[Any]) -> bytes:
    """The BEGIN psycopg would send, with the connection's transaction characteristics."""
    parts = [b"BEGIN"]
    if raw.isolation_level is not None:
        level = psycopg.IsolationLevel(raw.isolation_level).name.replace("_", " ")
        parts.append(b"ISOLATION LEVEL " + level.encode())
    if raw.read_only is not None:
        parts.append(b"READ ONLY" if raw.read_only else b"READ WRITE")
    if raw.deferrable is not None:
        parts.append(b"DEFERRABLE" if raw.deferrable else b"NOT DEFERRABLE")
    return b" ".join(parts)


def _flush(pgconn: Any) -> None:
    """Send all that is queued, reading what arrives meanwhile (a large write's)."""
    while pgconn.flush():
        if _wait(pgconn.socket, select.POLLIN | select.POLLOUT) & select.POLLIN:
            pgconn.consume_input()


def _read(pgconn: Any) -> list[Any]:
    """Every queued command's result, up to the pipeline's sync point."""
    results: list[Any] = []
    current = None
    while True:
        if pgconn.is_busy():
            _wait(pgconn.socket, select.POLLIN)
            pgconn.consume_input()
            continue
        result = pgconn.get_result()
        if result is None:  # the end of one command's results
            if current is not None:
                results.append(current)
                current = None
            continue
        if result.status == pq.ExecStatus.PIPELINE_SYNC:
            return results
        current = result  # a command has one result here (no COPY, one statement each)


def _wait(socket: int, events: int) -> int:
    """Block (the GIL released) until ``socket`` has one of ``events``; what it has."""
    poller = select.poll()
    poller.register(socket, events)
    while True:
        ready = poller.poll()
        if ready:
            happened = ready[0][1]
            if happened & (select.POLLERR | select.POLLNVAL):
                raise psycopg.OperationalError("the connection's socket failed")
            return int(happened)
