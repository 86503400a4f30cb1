"""Posting journals: accounts, issuance, transfers, holds and bulk settlement.

Every function takes the caller's SQLAlchemy ``Session`` and never commits: the
caller's transaction decides, so that one clearing run settles atomically.

Amounts are signed integers: a positive posting means the account *receives*
(its balance grows), a negative one that it *gives*. Every journal sums to zero
per asset. Issuance accounts are the only ones whose balance may be negative
(minus what has been issued).

Locking (PostgreSQL; SQLite writers are serialised by ``BEGIN IMMEDIATE``): a
write first locks every account it touches in ascending id order, then the
holds it draws on (ascending id), then the heads of the chains it extends
(ascending name); a fixed order, so concurrent writers never deadlock.
"""

from __future__ import annotations

import enum
import re
from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import bindparam, insert, select, text, tuple_, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from ledger.errors import (
    CapExceeded,
    HoldExceeded,
    HoldNotFound,
    InsufficientFunds,
    InvalidPosting,
)
from ledger.hashing import GENESIS, format_timestamp, journal_hash, posting_line
from ledger.models import ACCOUNTS, CHAINS, HOLDS, JOURNALS, POSTINGS, Account, Chain, Hold

CASH = "cash:CNY"
"""The cash asset: Chinese yuan, amounts in fen."""

REGULATOR = "regulator"
EXCHANGE = "exchange"
MAX_AMOUNT = 2**62
"""Largest absolute amount of one posting (balances stay inside BIGINT)."""

_CHUNK = 5000
_TEXT = re.compile(r"^[^|\x00-\x1f\x7f]{1,128}$")
_NAME = re.compile(r"^[a-z][a-z0-9_]{0,31}$")


# Statements of the hot paths, built once (SQLAlchemy then only looks up its cache).
_ACCOUNT_ID = select(Account.id).where(
    Account.kind == bindparam("kind"),
    Account.owner == bindparam("owner"),
    Account.asset == bindparam("asset"),
)
_ACCOUNTS_OF_OWNER = select(Account.id, Account.kind).where(
    Account.owner == bindparam("owner"),
    Account.asset == bindparam("asset"),
    Account.kind.in_(bindparam("kinds", expanding=True)),
)
_LOCK_OWNER_ACCOUNTS = (
    select(Account.id, Account.kind, Account.balance)
    .where(
        Account.owner == bindparam("owner"),
        Account.asset == bindparam("asset"),
        Account.kind.in_(bindparam("kinds", expanding=True)),
    )
    .order_by(Account.id)
    .with_for_update()
)
_LOCK_ACCOUNTS = (
    select(Account.id, Account.kind, Account.balance)
    .where(Account.id.in_(bindparam("ids", expanding=True)))
    .order_by(Account.id)
    .with_for_update()
)
_LOCK_HOLDS = (
    select(Hold.id, Hold.escrow_account_id, Hold.remaining, Hold.amount)
    .where(Hold.id.in_(bindparam("ids", expanding=True)))
    .order_by(Hold.id)
    .with_for_update()
)
_LOCK_CHAINS = (
    select(Chain.name, Chain.seq, Chain.head_hash)
    .where(Chain.name.in_(bindparam("names", expanding=True)))
    .order_by(Chain.name)
    .with_for_update()
)
_INSERT_JOURNAL = insert(JOURNALS).returning(JOURNALS.c.id)
_INSERT_HOLD = insert(HOLDS).returning(HOLDS.c.id)
_INSERT_POSTINGS = insert(POSTINGS)
_POSTING_COLUMNS = ("journal_id", "account_id", "amount", "hold_id")
_ADD = {
    "balance": update(ACCOUNTS)
    .where(ACCOUNTS.c.id == bindparam("row_id"))
    .values(balance=ACCOUNTS.c.balance + bindparam("delta")),
    "remaining": update(HOLDS)
    .where(HOLDS.c.id == bindparam("row_id"))
    .values(remaining=HOLDS.c.remaining + bindparam("delta")),
}
_UPDATE_CHAIN = (
    update(CHAINS)
    .where(CHAINS.c.name == bindparam("chain_name"))
    .values(seq=bindparam("new_seq"), head_hash=bindparam("new_hash"))
)


def market_asset(market_id: int) -> str:
    """The asset of one market's rights: ``market:<id>``."""
    return f"market:{market_id}"


def order_chain(chain: str, league: str) -> str:
    """The chain of a league's hold and release journals: ``<chain>/<league>``.

    Order intake of one league in one market is serialised by the league's account
    locks anyway; giving it its own chain means the chain head never makes two
    leagues (or two markets) wait for each other.
    """
    return f"{chain}/{league}"


class AccountKind(enum.StrEnum):
    """Kinds of account owner. Other lower-case names (e.g. ``counterpart``) are allowed."""

    LEAGUE = "league"
    """A league's own (available) balance."""
    ESCROW = "escrow"
    """A league's held balance: the sum of its open holds."""
    ISSUANCE = "issuance"
    """The regulator's source of an asset; its balance is minus the amount issued."""
    CLEARING = "clearing"
    """The exchange as central counterparty; nets to zero after each run."""
    RETIREMENT = "retirement"
    """Where surrendered rights end."""
    CONGESTION = "congestion"
    """Congestion rent of zonal clearing (cash), one account per market."""


class JournalKind(enum.StrEnum):
    """What a journal records."""

    ISSUANCE = "issuance"
    DEPOSIT = "deposit"
    TRANSFER = "transfer"
    TRADE_SETTLEMENT = "trade_settlement"
    RETIREMENT = "retirement"
    HOLD = "hold"
    RELEASE = "release"
    CORRECTION = "correction"


@dataclass(frozen=True, slots=True, order=True)
class AccountKey:
    """The natural key of an account: owner kind, owner code and asset."""

    kind: str
    owner: str
    asset: str

    def __str__(self) -> str:
        return f"{self.kind}:{self.owner}/{self.asset}"


def league_account(league: str, asset: str) -> AccountKey:
    """A league's main (available) account of ``asset``."""
    return AccountKey(AccountKind.LEAGUE, league, asset)


def escrow_account(league: str, asset: str) -> AccountKey:
    """A league's escrow (held) account of ``asset``."""
    return AccountKey(AccountKind.ESCROW, league, asset)


def issuance_account(asset: str) -> AccountKey:
    """The regulator's issuance account of ``asset``."""
    return AccountKey(AccountKind.ISSUANCE, REGULATOR, asset)


def clearing_account(asset: str) -> AccountKey:
    """The exchange's clearing (central counterparty) account of ``asset``."""
    return AccountKey(AccountKind.CLEARING, EXCHANGE, asset)


def retirement_account(asset: str) -> AccountKey:
    """The retirement account of ``asset``."""
    return AccountKey(AccountKind.RETIREMENT, REGULATOR, asset)


def congestion_account(market: str, cash_asset: str = CASH) -> AccountKey:
    """The congestion-rent account of ``market`` (an asset name), in cash."""
    return AccountKey(AccountKind.CONGESTION, market, cash_asset)


@dataclass(frozen=True, slots=True)
class PostingSpec:
    """One leg of a journal: ``amount`` (signed) on ``account``, optionally on a hold."""

    account: AccountKey
    amount: int
    hold_id: int | None = None


@dataclass(frozen=True, slots=True)
class JournalSpec:
    """A journal to post. ``chain`` defaults to its first market asset, else its first asset."""

    kind: str
    reference: str
    actor: str
    postings: Sequence[PostingSpec]
    chain: str | None = None


@dataclass(frozen=True, slots=True)
class Fill:
    """One order's fill in a clearing run, drawn from the order's hold.

    A sell order's hold is on the market asset; a buy order's hold is on cash
    and was sized ``limit * quantity``: the buyer pays ``price * quantity`` and
    gets ``(limit - price) * quantity`` back. ``price`` is the price of the
    order's zone (fen per unit). ``release_rest`` releases whatever the hold
    still has after this fill (the order is done).
    """

    hold_id: int
    quantity: int
    price: int
    reference: str
    limit: int | None = None
    release_rest: bool = False


@dataclass(frozen=True, slots=True)
class Settlement:
    """What a clearing run's settlement posted."""

    journal_ids: list[int]
    volume: int
    paid_by_buyers: int
    paid_to_sellers: int
    congestion_rent: int


@dataclass(frozen=True, slots=True)
class HoldView:
    """A hold as stored."""

    id: int
    owner: str
    asset: str
    amount: int
    remaining: int
    reference: str
    created_at: datetime


# --------------------------------------------------------------------------- accounts


def ensure_accounts(session: Session, keys: Iterable[AccountKey]) -> dict[AccountKey, int]:
    """Ids of the accounts with these keys, creating the missing ones (race-safe)."""
    wanted = set(keys)
    for key in wanted:
        _check_key(key)
    found = _account_ids(session, wanted)
    missing = [k for k in wanted if k not in found]
    if missing:
        now = datetime.now(UTC)
        rows = [
            {"kind": k.kind, "owner": k.owner, "asset": k.asset, "balance": 0, "created_at": now}
            for k in sorted(missing)
        ]
        session.execute(_insert_ignore(session, ACCOUNTS, ["kind", "owner", "asset"]), rows)
        found.update(_account_ids(session, set(missing)))
    return found


def get_account(session: Session, key: AccountKey) -> tuple[int, int] | None:
    """``(id, balance)`` of an account, or None if it was never created."""
    row = session.execute(
        select(Account.id, Account.balance).where(
            Account.kind == key.kind, Account.owner == key.owner, Account.asset == key.asset
        )
    ).first()
    return None if row is None else (row[0], row[1])


def balance_of(session: Session, key: AccountKey) -> int:
    """The stored balance of an account (0 if it does not exist)."""
    account = get_account(session, key)
    return 0 if account is None else account[1]


def lock_accounts(session: Session, keys: Iterable[AccountKey]) -> dict[AccountKey, int]:
    """Create if needed, lock (``FOR UPDATE``, ascending id) and return balances by key."""
    ids = ensure_accounts(session, keys)
    by_id = {v: k for k, v in ids.items()}
    balances = _lock_balances(session, sorted(by_id))
    return {by_id[i]: balance for i, (_kind, balance) in balances.items()}


def _account_ids(session: Session, keys: set[AccountKey]) -> dict[AccountKey, int]:
    found: dict[AccountKey, int] = {}
    ordered = sorted(keys)
    if len(ordered) > 1 and len({(k.owner, k.asset) for k in ordered}) == 1:
        # One owner's accounts of one asset (a hold: main and escrow): one query.
        pairs = session.execute(
            _ACCOUNTS_OF_OWNER,
            {
                "owner": ordered[0].owner,
                "asset": ordered[0].asset,
                "kinds": [k.kind for k in ordered],
            },
        )
        return {AccountKey(kind, ordered[0].owner, ordered[0].asset): i for i, kind in pairs}
    if len(ordered) <= 2:  # the common case (a transfer): a cached plain statement
        for key in ordered:
            account_id = session.scalar(
                _ACCOUNT_ID, {"kind": key.kind, "owner": key.owner, "asset": key.asset}
            )
            if account_id is not None:
                found[key] = account_id
        return found
    for start in range(0, len(ordered), 500):
        chunk = ordered[start : start + 500]
        rows = session.execute(
            select(Account.id, Account.kind, Account.owner, Account.asset).where(
                tuple_(Account.kind, Account.owner, Account.asset).in_(
                    [(k.kind, k.owner, k.asset) for k in chunk]
                )
            )
        )
        for account_id, kind, owner, asset in rows:
            found[AccountKey(kind, owner, asset)] = account_id
    return found


def _lock_balances(session: Session, ids: Sequence[int]) -> dict[int, tuple[str, int]]:
    result: dict[int, tuple[str, int]] = {}
    for chunk in _chunks(sorted(ids)):
        rows = session.execute(_LOCK_ACCOUNTS, {"ids": list(chunk)})
        for account_id, kind, balance in rows:
            result[account_id] = (kind, balance)
    return result


# --------------------------------------------------------------------------- posting


def post_journal(session: Session, spec: JournalSpec, *, now: datetime | None = None) -> int:
    """Post one journal; returns its id. See :func:`post_journals`."""
    return post_journals(session, [spec], now=now)[0]


def post_journals(
    session: Session, specs: Sequence[JournalSpec], *, now: datetime | None = None
) -> list[int]:
    """Post journals in order, set-based; returns their ids (in the order given).

    Checks every journal before writing anything: known kind, clean text, non-zero
    integer amounts, zero sum per asset, no account other than an issuance account
    below zero after any journal, holds drawn only on their escrow account and
    never below zero nor above their amount. Raises a :class:`LedgerError` and
    writes no journal if any check fails (missing accounts may have been created).
    """
    return _post(session, specs, now=now)


def _post(
    session: Session,
    specs: Sequence[JournalSpec],
    *,
    now: datetime | None = None,
    ids: dict[AccountKey, int] | None = None,
    locked: dict[int, tuple[str, int]] | None = None,
    new_holds: Mapping[int, tuple[int, int]] | None = None,
) -> list[int]:
    """:func:`post_journals`, optionally with the accounts already created and locked."""
    if not specs:
        return []
    timestamp = format_timestamp(now or datetime.now(UTC))
    created_at = datetime.strptime(timestamp, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)
    chains = [_validate(spec) for spec in specs]

    if ids is None or locked is None:
        ids = ensure_accounts(session, (p.account for s in specs for p in s.postings))
        locked = _lock_balances(session, list(ids.values()))
    balances = {i: balance for i, (_kind, balance) in locked.items()}
    issuance = {i for i, (kind, _b) in locked.items() if kind == AccountKind.ISSUANCE}
    # The central counterparty may be short inside a batch (a run pays sellers before
    # buyers pay in) but not at its end.
    clearing = {i for i, (kind, _b) in locked.items() if kind == AccountKind.CLEARING}
    exempt = issuance | clearing
    hold_ids = {p.hold_id for s in specs for p in s.postings if p.hold_id is not None}
    # Holds just inserted by this transaction are already exclusively ours.
    fresh = new_holds or {}
    holds = _lock_holds(session, hold_ids - set(fresh))
    holds.update({h: (escrow, 0, amount) for h, (escrow, amount) in fresh.items()})

    # Simulate, journal by journal, before writing anything.
    hold_delta: dict[int, int] = defaultdict(int)
    for index, spec in enumerate(specs):
        debited: list[int] = []
        for posting in spec.postings:
            account_id = ids[posting.account]
            balances[account_id] += posting.amount
            if posting.amount < 0 and account_id not in exempt:
                debited.append(account_id)
            if posting.hold_id is not None:
                hold = holds.get(posting.hold_id)
                if hold is None:
                    raise HoldNotFound(posting.hold_id)
                if hold[0] != account_id:
                    raise InvalidPosting(
                        f"journal {index}: hold {posting.hold_id} is on another account "
                        f"than {posting.account}"
                    )
                remaining = hold[1] + hold_delta[posting.hold_id]
                new = remaining + posting.amount
                if new < 0:
                    raise HoldExceeded(posting.hold_id, remaining, -posting.amount)
                if new > hold[2]:
                    raise InvalidPosting(
                        f"journal {index}: hold {posting.hold_id} would exceed its amount"
                    )
                hold_delta[posting.hold_id] += posting.amount
        for account_id in debited:
            if balances[account_id] < 0:
                key = next(k for k, v in ids.items() if v == account_id)
                requested = -sum(p.amount for p in spec.postings if p.account == key)
                raise InsufficientFunds(str(key), balances[account_id] + requested, requested)

    for account_id in clearing:
        if balances[account_id] < 0:
            key = next(k for k, v in ids.items() if v == account_id)
            raise InsufficientFunds(str(key), locked[account_id][1], -balances[account_id])

    heads = _lock_chains(session, set(chains))
    journal_rows: list[dict[str, Any]] = []
    for spec, chain in zip(specs, chains, strict=True):
        seq, prev = heads[chain]
        seq += 1
        digest = journal_hash(
            chain=chain,
            seq=seq,
            prev_hash=prev,
            kind=spec.kind,
            reference=spec.reference,
            actor=spec.actor,
            created_at=timestamp,
            posting_lines=[
                posting_line(p.account.asset, p.account.kind, p.account.owner, p.amount, p.hold_id)
                for p in spec.postings
            ],
        )
        heads[chain] = (seq, digest)
        journal_rows.append(
            {
                "chain": chain,
                "seq": seq,
                "kind": str(spec.kind),
                "reference": spec.reference,
                "actor": spec.actor,
                "created_at": created_at,
                "prev_hash": prev,
                "hash": digest,
            }
        )

    journal_ids = _insert_journals(session, journal_rows)
    posting_rows = [
        (jid, ids[p.account], p.amount, p.hold_id)
        for jid, spec in zip(journal_ids, specs, strict=True)
        for p in spec.postings
    ]
    if len(posting_rows) <= 8:
        session.execute(
            _INSERT_POSTINGS,
            [dict(zip(_POSTING_COLUMNS, row, strict=True)) for row in posting_rows],
        )
    else:
        _copy_rows(session, "ledger_postings", _POSTING_COLUMNS, posting_rows)

    start = {i: b for i, (_k, b) in locked.items()}
    _add_amounts(
        session,
        ACCOUNTS,
        "balance",
        {i: balances[i] - start[i] for i in balances if balances[i] != start[i]},
    )
    # Fresh holds were inserted with remaining = amount: exactly what their hold journal adds.
    _add_amounts(
        session, HOLDS, "remaining", {h: d for h, d in hold_delta.items() if d and h not in fresh}
    )
    session.execute(
        _UPDATE_CHAIN,
        [{"chain_name": c, "new_seq": s, "new_hash": h} for c, (s, h) in sorted(heads.items())],
    )
    return journal_ids


def _validate(spec: JournalSpec) -> str:
    try:
        JournalKind(spec.kind)
    except ValueError:
        raise InvalidPosting(f"unknown journal kind {spec.kind!r}") from None
    for name in ("reference", "actor"):
        value = getattr(spec, name)
        if not isinstance(value, str) or not _TEXT.match(value):
            raise InvalidPosting(
                f"{name} must be 1-128 characters without '|' or control characters"
            )
    if not spec.postings:
        raise InvalidPosting("a journal needs postings")
    sums: dict[str, int] = defaultdict(int)
    for posting in spec.postings:
        amount = posting.amount
        if type(amount) is not int or amount == 0 or abs(amount) > MAX_AMOUNT:
            raise InvalidPosting(f"amount must be a non-zero integer, got {amount!r}")
        sums[posting.account.asset] += amount
    unbalanced = {asset: total for asset, total in sums.items() if total}
    if unbalanced:
        raise InvalidPosting(f"journal does not balance per asset: {unbalanced}")
    chain = spec.chain or default_chain(sums)
    if not _TEXT.match(chain) or len(chain) > 64:
        raise InvalidPosting(f"bad chain name {chain!r}")
    return chain


def default_chain(assets: Iterable[str]) -> str:
    """The chain of a journal: its first market asset (sorted), else its first asset."""
    ordered = sorted(assets)
    markets = [a for a in ordered if not a.startswith("cash:")]
    return (markets or ordered)[0]


def _check_key(key: AccountKey) -> None:
    if not _NAME.match(key.kind):
        raise InvalidPosting(f"bad account kind {key.kind!r}")
    for value in (key.owner, key.asset):
        if not _TEXT.match(value) or len(value) > 64:
            raise InvalidPosting(f"bad account owner or asset {value!r}")


def _lock_holds(session: Session, hold_ids: set[int]) -> dict[int, tuple[int, int, int]]:
    """hold id -> (escrow account id, remaining, amount), locked in id order."""
    result: dict[int, tuple[int, int, int]] = {}
    for chunk in _chunks(sorted(hold_ids)):
        rows = session.execute(_LOCK_HOLDS, {"ids": list(chunk)})
        for hold_id, escrow, remaining, amount in rows:
            result[hold_id] = (escrow, remaining, amount)
    return result


def _lock_chains(session: Session, names: set[str]) -> dict[str, tuple[int, str]]:
    ordered = sorted(names)
    params = {"names": ordered}
    heads = {name: (seq, head) for name, seq, head in session.execute(_LOCK_CHAINS, params)}
    if len(heads) < len(ordered):
        session.execute(
            _insert_ignore(session, CHAINS, ["name"]),
            [{"name": n, "seq": 0, "head_hash": GENESIS} for n in ordered if n not in heads],
        )
        heads = {name: (seq, head) for name, seq, head in session.execute(_LOCK_CHAINS, params)}
    return heads


def _insert_journals(session: Session, rows: list[dict[str, Any]]) -> list[int]:
    if len(rows) == 1:
        return [session.execute(_INSERT_JOURNAL, rows[0]).scalar_one()]
    return _insert_with_ids(session, JOURNALS, rows)


def _insert_with_ids(session: Session, table: Any, rows: list[dict[str, Any]]) -> list[int]:
    """Bulk insert with ids drawn up front (no RETURNING needed); returns the ids."""
    ids = _allocate_ids(session, table.name, len(rows))
    columns = ("id", *rows[0])
    _copy_rows(
        session,
        table.name,
        columns,
        [(row_id, *row.values()) for row_id, row in zip(ids, rows, strict=True)],
    )
    return ids


def _copy_rows(
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
        [tuple(_sqlite_value(v) for v in row) for row in rows]
        if any(isinstance(v, datetime) for v in rows[0])
        else list(rows)
    )
    for chunk in _chunks(converted, 50_000):
        connection.exec_driver_sql(statement, list(chunk))


def _sqlite_value(value: Any) -> Any:
    """What SQLAlchemy's SQLite ``DateTime`` stores for a UTC datetime."""
    if isinstance(value, datetime):
        return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
    return value


def _allocate_ids(session: Session, table: str, count: int) -> list[int]:
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


def _add_amounts(session: Session, table: Any, column: str, deltas: Mapping[int, int]) -> None:
    """``column += delta`` for each id, in ascending id order (set-based)."""
    if not deltas:
        return
    items = sorted(deltas.items())
    if session.get_bind().dialect.name == "postgresql" and len(items) > 50:
        for chunk in _chunks(items, 50_000):
            session.execute(
                _PG_ADD[column],
                {"ids": [i for i, _ in chunk], "deltas": [d for _, d in chunk]},
            )
        return
    session.execute(_ADD[column], [{"row_id": i, "delta": d} for i, d in items])


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


def _insert_ignore(session: Session, table: Any, conflict: list[str]) -> Any:
    """INSERT ... ON CONFLICT DO NOTHING, for SQLite and PostgreSQL alike."""
    if session.get_bind().dialect.name == "postgresql":
        return postgresql.insert(table).on_conflict_do_nothing(index_elements=conflict)
    return sqlite.insert(table).on_conflict_do_nothing(index_elements=conflict)


def _chunks(items: Sequence[Any], size: int = _CHUNK) -> Iterator[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


# --------------------------------------------------------------------------- use cases


def issue(
    session: Session,
    *,
    league: str,
    asset: str,
    amount: int,
    reference: str,
    actor: str,
    cap: int | None = None,
) -> int:
    """Issue (allocate) ``amount`` of ``asset`` to a league; returns the journal id.

    With ``cap``, the issuance account is locked first and the total issued may
    not exceed it (:class:`CapExceeded`), also under concurrent issuers.
    """
    return issue_many(session, [(league, amount, reference)], asset=asset, actor=actor, cap=cap)[0]


def issue_many(
    session: Session,
    allocations: Sequence[tuple[str, int, str]],
    *,
    asset: str,
    actor: str,
    cap: int | None = None,
) -> list[int]:
    """Issue many ``(league, amount, reference)`` allocations of one asset at once."""
    _positive(*(a for _l, a, _r in allocations))
    source = issuance_account(asset)
    locked = lock_accounts(session, [source])
    if cap is not None:
        issued = -locked[source]
        requested = sum(a for _l, a, _r in allocations)
        if issued + requested > cap:
            raise CapExceeded(asset, cap, issued, requested)
    specs = [
        JournalSpec(
            JournalKind.ISSUANCE,
            reference,
            actor,
            (PostingSpec(source, -amount), PostingSpec(league_account(league, asset), amount)),
        )
        for league, amount, reference in allocations
    ]
    return post_journals(session, specs)


def issued_total(session: Session, asset: str) -> int:
    """How much of ``asset`` has been issued (minus the issuance account's balance)."""
    return -balance_of(session, issuance_account(asset))


def deposit_cash(
    session: Session,
    *,
    league: str,
    amount: int,
    reference: str,
    actor: str,
    asset: str = CASH,
) -> int:
    """Credit a league's cash account (fen) from the regulator's cash issuance account."""
    _positive(amount)
    return post_journal(
        session,
        JournalSpec(
            JournalKind.DEPOSIT,
            reference,
            actor,
            (
                PostingSpec(issuance_account(asset), -amount),
                PostingSpec(league_account(league, asset), amount),
            ),
        ),
    )


def retire(
    session: Session, *, league: str, asset: str, amount: int, reference: str, actor: str
) -> int:
    """Surrender ``amount`` of a league's available rights to the retirement account."""
    _positive(amount)
    return post_journal(
        session,
        JournalSpec(
            JournalKind.RETIREMENT,
            reference,
            actor,
            (
                PostingSpec(league_account(league, asset), -amount),
                PostingSpec(retirement_account(asset), amount),
            ),
        ),
    )


def transfer(
    session: Session,
    *,
    source: AccountKey,
    target: AccountKey,
    amount: int,
    reference: str,
    actor: str,
    kind: str = JournalKind.TRANSFER,
) -> int:
    """Move ``amount`` from one account to another of the same asset."""
    _positive(amount)
    if source.asset != target.asset:
        raise InvalidPosting("a transfer moves one asset; use a journal for exchanges")
    if source == target:
        raise InvalidPosting(f"a transfer needs two accounts, got {source} twice")
    return post_journal(
        session,
        JournalSpec(
            kind, reference, actor, (PostingSpec(source, -amount), PostingSpec(target, amount))
        ),
    )


def place_hold(
    session: Session,
    *,
    league: str,
    asset: str,
    amount: int,
    reference: str,
    actor: str,
    chain: str | None = None,
) -> int:
    """Reserve ``amount`` of a league's available ``asset``; returns the hold id.

    Moves the amount from the league's main account to its escrow account in a
    ``hold`` journal. Raises :class:`InsufficientFunds` (with the available
    amount) and writes nothing when the league has too little. For a buy order
    (a cash hold) pass ``chain=market_asset(id)`` to chain it with its market.
    The journal goes on the league's chain :func:`order_chain` ``(chain or asset, league)``.
    """
    _positive(amount)
    main, escrow = league_account(league, asset), escrow_account(league, asset)
    spec = JournalSpec(
        JournalKind.HOLD,
        reference,
        actor,
        (PostingSpec(main, -amount), PostingSpec(escrow, amount)),
        chain=order_chain(chain or asset, league),
    )
    _validate(spec)  # before the hold row exists
    # Find and lock both accounts in one round trip; create them first if missing.
    params = {"owner": league, "asset": asset, "kinds": [AccountKind.ESCROW, AccountKind.LEAGUE]}
    rows = session.execute(_LOCK_OWNER_ACCOUNTS, params).all()
    if len(rows) < 2:
        ensure_accounts(session, [main, escrow])
        rows = session.execute(_LOCK_OWNER_ACCOUNTS, params).all()
    ids = {AccountKey(kind, league, asset): i for i, kind, _b in rows}
    locked = {i: (kind, balance) for i, kind, balance in rows}
    available = locked[ids[main]][1]
    if available < amount:
        raise InsufficientFunds(str(main), available, amount)
    hold_id = session.execute(
        _INSERT_HOLD,
        {
            "main_account_id": ids[main],
            "escrow_account_id": ids[escrow],
            "amount": amount,
            "remaining": amount,
            "reference": reference,
            "created_at": datetime.now(UTC),
        },
    ).scalar_one()
    _post(
        session,
        [
            JournalSpec(
                spec.kind,
                reference,
                actor,
                (PostingSpec(main, -amount), PostingSpec(escrow, amount, hold_id)),
                chain=spec.chain,
            )
        ],
        ids=ids,
        locked=locked,
        new_holds={hold_id: (ids[escrow], amount)},
    )
    return int(hold_id)


@dataclass(frozen=True, slots=True)
class HoldRequest:
    """One hold to place in bulk (see :func:`place_holds`)."""

    league: str
    asset: str
    amount: int
    reference: str
    chain: str | None = None


def place_holds(session: Session, requests: Sequence[HoldRequest], *, actor: str) -> list[int]:
    """Place many holds in one set-based step; returns their ids in the order given.

    All or nothing: if any league lacks the available amount for its holds (in
    order), :class:`InsufficientFunds` is raised before anything is written.
    """
    if not requests:
        return []
    _positive(*(r.amount for r in requests))
    for r in requests:  # text and chain checks, before any hold row exists
        key = league_account(r.league, r.asset)
        _check_key(key)
        _validate(
            JournalSpec(
                JournalKind.HOLD,
                r.reference,
                actor,
                (
                    PostingSpec(key, -r.amount),
                    PostingSpec(escrow_account(r.league, r.asset), r.amount),
                ),
                chain=order_chain(r.chain or r.asset, r.league),
            )
        )
    keys = {
        k
        for r in requests
        for k in (league_account(r.league, r.asset), escrow_account(r.league, r.asset))
    }
    ids = ensure_accounts(session, keys)
    locked = _lock_balances(session, list(ids.values()))
    left = {i: balance for i, (_k, balance) in locked.items()}
    for request in requests:
        main_id = ids[league_account(request.league, request.asset)]
        if left[main_id] < request.amount:
            raise InsufficientFunds(
                str(league_account(request.league, request.asset)), left[main_id], request.amount
            )
        left[main_id] -= request.amount
    now = datetime.now(UTC)
    rows = [
        {
            "main_account_id": ids[league_account(r.league, r.asset)],
            "escrow_account_id": ids[escrow_account(r.league, r.asset)],
            "amount": r.amount,
            "remaining": r.amount,
            "reference": r.reference,
            "created_at": now,
        }
        for r in requests
    ]
    hold_ids = _insert_with_ids(session, HOLDS, rows)
    specs = [
        JournalSpec(
            JournalKind.HOLD,
            r.reference,
            actor,
            (
                PostingSpec(league_account(r.league, r.asset), -r.amount),
                PostingSpec(escrow_account(r.league, r.asset), r.amount, hold_id),
            ),
            chain=order_chain(r.chain or r.asset, r.league),
        )
        for r, hold_id in zip(requests, hold_ids, strict=True)
    ]
    _post(
        session,
        specs,
        ids=ids,
        locked=locked,
        new_holds={
            hold_id: (ids[escrow_account(r.league, r.asset)], r.amount)
            for r, hold_id in zip(requests, hold_ids, strict=True)
        },
    )
    return hold_ids


def get_hold(session: Session, hold_id: int) -> HoldView:
    """A hold by id, or :class:`HoldNotFound`."""
    row = session.execute(
        select(
            Hold.id,
            Account.owner,
            Account.asset,
            Hold.amount,
            Hold.remaining,
            Hold.reference,
            Hold.created_at,
        )
        .join(Account, Account.id == Hold.escrow_account_id)
        .where(Hold.id == hold_id)
    ).first()
    if row is None:
        raise HoldNotFound(hold_id)
    return HoldView(*row)


def release_hold(
    session: Session,
    hold_id: int,
    *,
    amount: int | None = None,
    actor: str,
    reference: str | None = None,
    chain: str | None = None,
) -> int | None:
    """Give back ``amount`` (default: all that remains) of a hold; returns the journal id.

    Returns None when nothing remains to release.
    """
    hold = get_hold(session, hold_id)
    lock_accounts(
        session, [escrow_account(hold.owner, hold.asset), league_account(hold.owner, hold.asset)]
    )
    remaining = _lock_holds(session, {hold_id})[hold_id][1]
    if amount is None:
        amount = remaining
        if amount == 0:
            return None
    _positive(amount)
    if amount > remaining:
        raise HoldExceeded(hold_id, remaining, amount)
    return post_journal(
        session,
        JournalSpec(
            JournalKind.RELEASE,
            reference or hold.reference,
            actor,
            (
                PostingSpec(escrow_account(hold.owner, hold.asset), -amount, hold_id),
                PostingSpec(league_account(hold.owner, hold.asset), amount),
            ),
            chain=order_chain(chain or hold.asset, hold.owner),
        ),
    )


def settle_fills(
    session: Session,
    *,
    asset: str,
    fills: Sequence[Fill],
    reference: str,
    actor: str,
    cash_asset: str = CASH,
    now: datetime | None = None,
) -> Settlement:
    """Settle a clearing run of market ``asset`` in bulk: one journal per fill.

    Delivery versus payment against the exchange's clearing account: a sell fill
    moves ``quantity`` from the seller's hold to the clearing account and
    ``price * quantity`` from the clearing account to the seller's cash, in one
    journal; a buy fill moves ``quantity`` from the clearing account to the buyer
    and draws ``limit * quantity`` from the buyer's cash hold: ``price *
    quantity`` to the clearing account, the rest back to the buyer. Afterwards
    the clearing account must be flat in rights; the cash left on it (buyers in
    dear zones paid more than sellers in cheap zones got) is the congestion rent,
    booked to the market's congestion account in a last journal. Raises and
    writes nothing when the run does not balance. All journals go on the
    market's chain, referenced ``<reference>/<fill reference>``.
    """
    if not fills:
        return Settlement([], 0, 0, 0, 0)
    holds = _hold_owners(session, {f.hold_id for f in fills})
    clearing_rights, clearing_cash = clearing_account(asset), clearing_account(cash_asset)
    # Lock order: accounts, then holds (then chains, in post_journals).
    owners = {owner for owner, _a, _r in holds.values()}
    lock_accounts(
        session,
        [clearing_rights, clearing_cash, congestion_account(asset, cash_asset)]
        + [
            make(owner, a)
            for owner in owners
            for a in (asset, cash_asset)
            for make in (league_account, escrow_account)
        ],
    )
    locked_holds = _lock_holds(session, set(holds))
    holds = {h: (o, a, locked_holds[h][1]) for h, (o, a, _r) in holds.items()}
    remaining = {h: r for h, (_o, _a, r) in holds.items()}
    specs: list[JournalSpec] = []
    volume_in = volume_out = paid = received = 0
    for fill in fills:
        if fill.hold_id not in holds:
            raise HoldNotFound(fill.hold_id)
        owner, hold_asset, _r = holds[fill.hold_id]
        q, p = fill.quantity, fill.price
        if type(q) is not int or q <= 0 or type(p) is not int or p < 0:
            raise InvalidPosting(f"{fill.reference}: quantity > 0 and price >= 0 (integers)")
        if hold_asset == asset:  # sell
            draw = q
            legs = [
                PostingSpec(escrow_account(owner, asset), -q, fill.hold_id),
                PostingSpec(clearing_rights, q),
            ]
            if p:
                legs += [
                    PostingSpec(clearing_cash, -p * q),
                    PostingSpec(league_account(owner, cash_asset), p * q),
                ]
            volume_in += q
            received += p * q
        elif hold_asset == cash_asset:  # buy
            if fill.limit is None or type(fill.limit) is not int or fill.limit < p:
                raise InvalidPosting(f"{fill.reference}: a buy fill needs limit >= price")
            draw = fill.limit * q
            legs = [
                PostingSpec(clearing_rights, -q),
                PostingSpec(league_account(owner, asset), q),
                PostingSpec(escrow_account(owner, cash_asset), -draw, fill.hold_id),
            ]
            if p:
                legs.append(PostingSpec(clearing_cash, p * q))
            if draw - p * q:
                legs.append(PostingSpec(league_account(owner, cash_asset), draw - p * q))
            volume_out += q
            paid += p * q
        else:
            raise InvalidPosting(f"hold {fill.hold_id} is on {hold_asset}, not {asset}")
        left = remaining[fill.hold_id] - draw
        if left < 0:
            raise HoldExceeded(fill.hold_id, remaining[fill.hold_id], draw)
        if fill.release_rest and left:
            escrow = escrow_account(owner, hold_asset)
            legs += [
                PostingSpec(escrow, -left, fill.hold_id),
                PostingSpec(league_account(owner, hold_asset), left),
            ]
            left = 0
        remaining[fill.hold_id] = left
        specs.append(
            JournalSpec(
                JournalKind.TRADE_SETTLEMENT,
                _join_reference(reference, fill.reference),
                actor,
                _merge(legs),
                chain=asset,
            )
        )
    if volume_in != volume_out:
        raise InvalidPosting(f"run sells {volume_in} but buys {volume_out}")
    rent = paid - received
    if rent < 0:
        raise InvalidPosting(f"sellers get {received} but buyers pay only {paid}")
    if rent:
        specs.append(
            JournalSpec(
                JournalKind.TRADE_SETTLEMENT,
                _join_reference(reference, "congestion"),
                actor,
                (
                    PostingSpec(clearing_cash, -rent),
                    PostingSpec(congestion_account(asset, cash_asset), rent),
                ),
                chain=asset,
            )
        )
    ids = post_journals(session, specs, now=now)
    return Settlement(ids, volume_in, paid, received, rent)


def _hold_owners(session: Session, hold_ids: set[int]) -> dict[int, tuple[str, str, int]]:
    """hold id -> (owner, asset, remaining) (unlocked; ``post_journals`` locks)."""
    result: dict[int, tuple[str, str, int]] = {}
    for chunk in _chunks(sorted(hold_ids)):
        rows = session.execute(
            select(Hold.id, Account.owner, Account.asset, Hold.remaining)
            .join(Account, Account.id == Hold.escrow_account_id)
            .where(Hold.id.in_(chunk))
        )
        for hold_id, owner, asset, remaining in rows:
            result[hold_id] = (owner, asset, remaining)
    return result


def _merge(legs: list[PostingSpec]) -> tuple[PostingSpec, ...]:
    """Add up legs on the same (account, hold); drop those that net to zero."""
    totals: dict[tuple[AccountKey, int | None], int] = defaultdict(int)
    for leg in legs:
        totals[(leg.account, leg.hold_id)] += leg.amount
    return tuple(PostingSpec(k, a, h) for (k, h), a in totals.items() if a)


def _join_reference(run: str, item: str) -> str:
    return f"{run}/{item}"[:128]


def _positive(*amounts: int) -> None:
    for amount in amounts:
        if type(amount) is not int or amount <= 0 or amount > MAX_AMOUNT:
            raise InvalidPosting(f"amount must be a positive integer, got {amount!r}")
