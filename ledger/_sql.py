"""Set-based SQL of the ledger: prepared statements, locks, bulk inserts and updates.

Internal to ``ledger``: the same statements on SQLite and PostgreSQL (``COPY`` and
``unnest`` there for large batches). Lock order: accounts (ascending id), holds
(ascending id), chain heads (ascending name).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import bindparam, insert, or_, select, text, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from ledger.driver import array_literal, compiled_for, fetch_rows
from ledger.hashing import GENESIS
from ledger.models import ACCOUNTS, CHAINS, HOLDS, JOURNALS, POSTINGS, Account, Chain, Hold

CHUNK = 5000


# Statements of the hot paths, built once (SQLAlchemy then only looks up its cache).
ACCOUNT_ID = select(Account.id).where(
    Account.kind == bindparam("kind"),
    Account.owner == bindparam("owner"),
    Account.asset == bindparam("asset"),
)
ACCOUNTS_OF_OWNER = select(Account.id, Account.kind).where(
    Account.owner == bindparam("owner"),
    Account.asset == bindparam("asset"),
    Account.kind.in_(bindparam("kinds", expanding=True)),
)
LOCK_OWNER_ACCOUNTS = (
    select(Account.id, Account.kind, Account.balance)
    .where(
        Account.owner == bindparam("owner"),
        Account.asset == bindparam("asset"),
        Account.kind.in_(bindparam("kinds", expanding=True)),
    )
    .order_by(Account.id)
    .with_for_update()
)
LOCK_ACCOUNTS = (
    select(Account.id, Account.kind, Account.balance)
    .where(Account.id.in_(bindparam("ids", expanding=True)))
    .order_by(Account.id)
    .with_for_update()
)
LOCK_HOLDS = (
    select(Hold.id, Hold.escrow_account_id, Hold.remaining, Hold.amount)
    .where(Hold.id.in_(bindparam("ids", expanding=True)))
    .order_by(Hold.id)
    .with_for_update()
)
LOCK_HOLD_ACCOUNTS = (
    select(Account.id, Account.kind, Account.balance, Account.owner, Account.asset)
    .join(Hold, or_(Account.id == Hold.main_account_id, Account.id == Hold.escrow_account_id))
    .where(Hold.id == bindparam("hold_id"))
    .order_by(Account.id)
    .with_for_update(of=Account)
)
"""The two accounts of a hold (main, escrow), locked, with the owner and asset."""
LOCK_HOLDS_WITH_REFERENCE = (
    select(Hold.id, Hold.escrow_account_id, Hold.remaining, Hold.amount, Hold.reference)
    .where(Hold.id.in_(bindparam("ids", expanding=True)))
    .order_by(Hold.id)
    .with_for_update()
)
LOCK_CHAINS = (
    select(Chain.name, Chain.seq, Chain.head_hash)
    .where(Chain.name.in_(bindparam("names", expanding=True)))
    .order_by(Chain.name)
    .with_for_update()
)
INSERT_JOURNAL = insert(JOURNALS).returning(JOURNALS.c.id)
INSERT_HOLD = insert(HOLDS).returning(HOLDS.c.id)
INSERT_HOLDS = insert(HOLDS)
INSERT_POSTINGS = insert(POSTINGS)
POSTING_COLUMNS = ("journal_id", "account_id", "amount", "hold_id")
ADD = {
    "balance": update(ACCOUNTS)
    .where(ACCOUNTS.c.id == bindparam("row_id"))
    .values(balance=ACCOUNTS.c.balance + bindparam("delta")),
    "remaining": update(HOLDS)
    .where(HOLDS.c.id == bindparam("row_id"))
    .values(remaining=HOLDS.c.remaining + bindparam("delta")),
}
UPDATE_CHAIN = (
    update(CHAINS)
    .where(CHAINS.c.name == bindparam("chain_name"))
    .values(seq=bindparam("new_seq"), head_hash=bindparam("new_hash"))
)


def lock_balances(session: Session, ids: Sequence[int]) -> dict[int, tuple[str, int]]:
    result: dict[int, tuple[str, int]] = {}
    for chunk in chunks(sorted(ids)):
        rows = session.execute(LOCK_ACCOUNTS, {"ids": list(chunk)})
        for account_id, kind, balance in rows:
            result[account_id] = (kind, balance)
    return result


def lock_holds(
    session: Session, hold_ids: set[int], *, with_reference: bool = False
) -> dict[int, tuple[Any, ...]]:
    """hold id -> (escrow account id, remaining, amount[, reference]), locked in id order."""
    result: dict[int, tuple[Any, ...]] = {}
    statement = LOCK_HOLDS_WITH_REFERENCE if with_reference else LOCK_HOLDS
    for chunk in chunks(sorted(hold_ids)):
        for hold_id, *rest in session.execute(statement, {"ids": list(chunk)}):
            result[hold_id] = tuple(rest)
    return result


LOCK_FOR_HOLD = compiled_for(
    text(
        """
WITH n AS MATERIALIZED (
    SELECT (
        SELECT count(*) FROM ledger_accounts
        WHERE owner = :owner AND asset = :asset AND kind = ANY(CAST(:kinds AS VARCHAR[]))
    ) = cardinality(CAST(:kinds AS VARCHAR[]))
    AND EXISTS (SELECT 1 FROM ledger_chains WHERE name = :chain) AS ready
), a AS MATERIALIZED (
    SELECT id, kind, balance FROM ledger_accounts
    WHERE owner = :owner AND asset = :asset AND kind = ANY(CAST(:kinds AS VARCHAR[]))
        AND (SELECT ready FROM n)
    ORDER BY id FOR UPDATE
), c AS MATERIALIZED (
    SELECT name, seq, head_hash FROM ledger_chains
    WHERE name = :chain AND (SELECT ready FROM n) FOR UPDATE
)
SELECT 'account', id, kind, balance, NULL FROM a
UNION ALL SELECT 'chain', NULL, name, seq, head_hash FROM c
UNION ALL SELECT 'hold', nextval(pg_get_serial_sequence('ledger_holds', 'id')), NULL, NULL, NULL
"""
    )
)
"""PostgreSQL: an owner's accounts of one asset, then one chain head, locked in that order
(``UNION ALL`` runs its parts in turn), and the id of a new hold, in one round trip. Nothing
is locked unless every account and the chain exist (``n``): a caller that must create an
account does it before it holds any (``holds._lock_owner_accounts``), so it never waits,
holding an account, for a clearing run that created the same account and waits for that
account (a deadlock seen in bench/load)."""


def lock_for_hold(
    session: Session, owner: str, asset: str, kinds: Sequence[str], chain: str
) -> tuple[dict[int, tuple[str, int]], dict[str, tuple[int, str]], int] | None:
    """PostgreSQL: lock ``owner``'s accounts of ``kinds`` in ``asset`` and the head of
    ``chain`` and draw a hold id; ``(account id -> (kind, balance), heads, hold id)``, or
    None if an account or the chain does not exist yet (the caller creates them)."""
    return read_lock_for_hold(
        fetch_rows(session, LOCK_FOR_HOLD, lock_for_hold_params(owner, asset, kinds, chain)), kinds
    )


def lock_for_hold_params(
    owner: str, asset: str, kinds: Sequence[str], chain: str
) -> dict[str, Any]:
    """The parameters of ``LOCK_FOR_HOLD``."""
    return {"owner": owner, "asset": asset, "kinds": array_literal(kinds), "chain": chain}


def read_lock_for_hold(
    rows: Sequence[tuple[Any, ...]], kinds: Sequence[str]
) -> tuple[dict[int, tuple[str, int]], dict[str, tuple[int, str]], int] | None:
    """What :func:`lock_for_hold` returns, from the rows of ``LOCK_FOR_HOLD``."""
    accounts: dict[int, tuple[str, int]] = {}
    heads: dict[str, tuple[int, str]] = {}
    hold_id = 0
    for part, row_id, name, number, head in rows:
        if part == "account":
            accounts[row_id] = (name, number)
        elif part == "chain":
            heads[name] = (number, head)
        else:
            hold_id = row_id
    if len(accounts) < len(kinds) or not heads:
        return None
    return accounts, heads, hold_id


LOCK_FOR_RELEASE = compiled_for(
    text(
        """
WITH a AS MATERIALIZED (
    SELECT acc.id, acc.kind, acc.balance, acc.owner, acc.asset
    FROM ledger_accounts AS acc JOIN ledger_holds AS hl
        ON acc.id = hl.main_account_id OR acc.id = hl.escrow_account_id
    WHERE hl.id = :hold_id
    ORDER BY acc.id FOR UPDATE OF acc
), h AS MATERIALIZED (
    SELECT id, escrow_account_id, remaining, amount, reference
    FROM ledger_holds WHERE id = :hold_id FOR UPDATE
), c AS MATERIALIZED (
    SELECT name, seq, head_hash FROM ledger_chains WHERE name = :chain FOR UPDATE
)
SELECT 'account', id, kind, balance, NULL, owner, asset FROM a
UNION ALL SELECT 'hold', escrow_account_id, reference, remaining, NULL, NULL, amount::TEXT FROM h
UNION ALL SELECT 'chain', NULL, name, seq, head_hash, NULL, NULL FROM c
"""
    )
)
"""PostgreSQL: a hold's two accounts, the hold, then one chain head, locked in that order,
in one round trip."""


def lock_for_release(
    session: Session, hold_id: int, chain: str
) -> tuple[
    list[tuple[int, str, int, str, str]],
    tuple[int, int, int, str] | None,
    dict[str, tuple[int, str]],
]:
    """PostgreSQL: lock a hold's accounts, the hold and the head of ``chain``:
    ``([(account id, kind, balance, owner, asset)], (escrow id, remaining, amount,
    reference) or None, heads)``; ``heads`` is empty if ``chain`` does not exist yet."""
    accounts: list[tuple[int, str, int, str, str]] = []
    hold: tuple[int, int, int, str] | None = None
    heads: dict[str, tuple[int, str]] = {}
    params = {"hold_id": hold_id, "chain": chain}
    for part, number, name, value, head, owner, extra in fetch_rows(
        session, LOCK_FOR_RELEASE, params
    ):
        if part == "account":
            accounts.append((number, name, value, owner, extra))
        elif part == "hold":
            hold = (number, value, int(extra), name)
        else:
            heads[name] = (value, head)
    return accounts, hold, heads


def lock_chains(session: Session, names: set[str]) -> dict[str, tuple[int, str]]:
    ordered = sorted(names)
    params = {"names": ordered}
    heads = {name: (seq, head) for name, seq, head in session.execute(LOCK_CHAINS, params)}
    if len(heads) < len(ordered):
        session.execute(
            insert_ignore(session, CHAINS, ["name"]),
            [{"name": n, "seq": 0, "head_hash": GENESIS} for n in ordered if n not in heads],
        )
        heads = {name: (seq, head) for name, seq, head in session.execute(LOCK_CHAINS, params)}
    return heads


def insert_journals(session: Session, rows: list[dict[str, Any]]) -> list[int]:
    if len(rows) == 1:
        return [session.execute(INSERT_JOURNAL, rows[0]).scalar_one()]
    return insert_with_ids(session, JOURNALS, rows)


def insert_with_ids(session: Session, table: Any, rows: list[dict[str, Any]]) -> list[int]:
    """Bulk insert with ids drawn up front (no RETURNING needed); returns the ids."""
    ids = allocate_ids(session, table.name, len(rows))
    columns = ("id", *rows[0])
    copy_rows(
        session,
        table.name,
        columns,
        [(row_id, *row.values()) for row_id, row in zip(ids, rows, strict=True)],
    )
    return ids


def copy_rows(
    session: Session, table: str, columns: Sequence[str], rows: Sequence[tuple[Any, ...]]
) -> None:
    """Insert many rows fast: ``COPY`` on PostgreSQL, the driver's executemany on SQLite.

    Timestamps must be timezone-aware UTC datetimes.
    """
    connection = session.connection()
    if connection.dialect.name == "postgresql":
        driver = connection.connection.driver_connection
        assert driver is not None
        with driver.cursor() as cursor:
            statement = f"COPY {table} ({', '.join(columns)}) FROM STDIN"
            with cursor.copy(statement) as copy:
                for row in rows:
                    copy.write_row(row)
        return
    marks = ", ".join("?" for _ in columns)
    statement = f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})"
    converted = (
        [tuple(sqlite_value(v) for v in row) for row in rows]
        if any(isinstance(v, datetime) for v in rows[0])
        else list(rows)
    )
    for chunk in chunks(converted, 50_000):
        connection.exec_driver_sql(statement, list(chunk))


def sqlite_value(value: Any) -> Any:
    """What SQLAlchemy's SQLite ``DateTime`` stores for a UTC datetime."""
    if isinstance(value, datetime):
        return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
    return value


def allocate_ids(session: Session, table: str, count: int) -> list[int]:
    """``count`` fresh ids of ``table``: from its sequence, or (SQLite) after its max id.

    SQLite writers hold the database's write lock (``BEGIN IMMEDIATE``), so the
    ids after the current maximum stay ours until commit.
    """
    if session.get_bind().dialect.name == "postgresql":
        rows = session.execute(
            text(
                "SELECT nextval(pg_get_serial_sequence(:table, 'id')) "
                "FROM generate_series(1, :count)"
            ),
            {"table": table, "count": count},
        )
        return sorted(int(r[0]) for r in rows)
    start = int(session.scalar(text(f"SELECT COALESCE(MAX(id), 0) FROM {table}")) or 0)
    return list(range(start + 1, start + 1 + count))


def add_amounts(session: Session, table: Any, column: str, deltas: Mapping[int, int]) -> None:
    """``column += delta`` for each id, in ascending id order (set-based)."""
    if not deltas:
        return
    items = sorted(deltas.items())
    if session.get_bind().dialect.name == "postgresql" and len(items) > 50:
        for chunk in chunks(items, 50_000):
            session.execute(
                _PG_ADD[column],
                {"ids": [i for i, _ in chunk], "deltas": [d for _, d in chunk]},
            )
        return
    session.execute(ADD[column], [{"row_id": i, "delta": d} for i, d in items])


def _pg_add(table: str, column: str) -> Any:
    return text(
        f"UPDATE {table} AS t SET {column} = t.{column} + v.delta "
        "FROM unnest(CAST(:ids AS BIGINT[]), CAST(:deltas AS BIGINT[])) AS v(id, delta) "
        "WHERE t.id = v.id"
    )


_PG_ADD = {
    "balance": _pg_add("ledger_accounts", "balance"),
    "remaining": _pg_add("ledger_holds", "remaining"),
}


def insert_ignore(session: Session, table: Any, conflict: list[str]) -> Any:
    """INSERT ... ON CONFLICT DO NOTHING, for SQLite and PostgreSQL alike."""
    if session.get_bind().dialect.name == "postgresql":
        return postgresql.insert(table).on_conflict_do_nothing(index_elements=conflict)
    return sqlite.insert(table).on_conflict_do_nothing(index_elements=conflict)


def chunks(items: Sequence[Any], size: int = CHUNK) -> Iterator[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]
