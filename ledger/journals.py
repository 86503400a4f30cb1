"""Posting journals: validate, simulate every balance and hold, then write set-based.

Amounts are signed integers: a positive posting means the account *receives*
(its balance grows), a negative one that it *gives*. Every journal sums to zero
per asset. Issuance accounts are the only ones whose balance may be negative
(minus what has been issued); the clearing account may be short inside a batch
but not at its end.

Locking (PostgreSQL; SQLite writers are serialised by ``BEGIN IMMEDIATE``): a
write first locks every account it touches in ascending id order, then the
holds it draws on (ascending id), then the heads of the chains it extends
(ascending name); a fixed order, so concurrent writers never deadlock.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.orm import Session

from ledger import _one_statement as one
from ledger import _sql as sql
from ledger.accounts import ensure_accounts
from ledger.errors import HoldExceeded, HoldNotFound, InsufficientFunds, InvalidPosting
from ledger.hashing import format_timestamp, journal_hash, posting_line
from ledger.keys import MAX_AMOUNT, TEXT, AccountKey, AccountKind, JournalKind, JournalSpec
from ledger.models import ACCOUNTS, HOLDS

Locked = dict[int, tuple[str, int]]
"""account id -> (kind, balance), as locked."""


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
    return post_locked(session, specs, now=now)


def post_locked(
    session: Session,
    specs: Sequence[JournalSpec],
    *,
    now: datetime | None = None,
    ids: dict[AccountKey, int] | None = None,
    locked: Locked | None = None,
    new_holds: Mapping[int, tuple[int, int]] | None = None,
    locked_holds: Mapping[int, tuple[int, int, int]] | None = None,
    heads: Mapping[str, tuple[int, str]] | None = None,
    insert_holds: Sequence[Mapping[str, Any]] = (),
    deferred: bool = False,
) -> list[int]:
    """:func:`post_journals`, optionally with the accounts already created and locked.

    ``new_holds`` (hold id -> (escrow account id, amount)) are holds this
    transaction has just inserted: already ours, not locked again; ``locked_holds``
    (hold id -> (escrow account id, remaining, amount)) are holds the caller locked;
    ``heads`` (chain -> (seq, head hash)) the chain heads the caller locked.
    ``insert_holds``: rows of new holds (with their ids) to write with the journals (new
    holds too, as ``new_holds``, without being named there). ``deferred``: a write in one
    statement goes with the transaction's next round trip (``ledger.driver.defer``: for a
    caller that does not read the journal back) and returns no ids.
    """
    if not specs:
        return []
    timestamp = format_timestamp(now or datetime.now(UTC))
    chains = [validate_spec(spec) for spec in specs]
    if ids is None or locked is None:
        ids = ensure_accounts(session, (p.account for s in specs for p in s.postings))
        locked = sql.lock_balances(session, list(ids.values()))
    fresh = {**(new_holds or {})}
    fresh.update({h["id"]: (h["escrow_account_id"], h["amount"]) for h in insert_holds})
    hold_ids = {p.hold_id for s in specs for p in s.postings if p.hold_id is not None}
    mine = dict(locked_holds or {})
    holds = sql.lock_holds(session, hold_ids - set(fresh) - set(mine))
    holds.update(mine)
    holds.update({h: (escrow, 0, amount) for h, (escrow, amount) in fresh.items()})
    balances, hold_delta = _simulate(specs, ids, locked, holds)
    start = {i: b for i, (_k, b) in locked.items()}
    balance_delta = {i: balances[i] - start[i] for i in balances if balances[i] != start[i]}
    # Fresh holds were inserted with remaining = amount: exactly what their hold journal adds.
    hold_change = {h: d for h, d in hold_delta.items() if d and h not in fresh}
    heads = sql.lock_chains(session, set(chains)) if heads is None else dict(heads)
    rows = _chain_rows(specs, chains, timestamp, heads)
    postings = [
        (index, ids[p.account], p.amount, p.hold_id)
        for index, spec in enumerate(specs)
        for p in spec.postings
    ]
    if one.one_statement(session, len(postings)):
        return one.write_at_once(
            session,
            rows,
            postings,
            balance_delta,
            hold_change,
            heads,
            insert_holds,
            deferred=deferred,
        )
    if insert_holds:
        session.execute(sql.INSERT_HOLDS, list(insert_holds))
    journal_ids = sql.insert_journals(session, rows)
    session.execute(
        sql.UPDATE_CHAIN,
        [{"chain_name": c, "new_seq": s, "new_hash": h} for c, (s, h) in sorted(heads.items())],
    )
    _write_postings(session, postings, journal_ids)
    sql.add_amounts(session, ACCOUNTS, "balance", balance_delta)
    sql.add_amounts(session, HOLDS, "remaining", hold_change)
    return journal_ids


def _simulate(
    specs: Sequence[JournalSpec],
    ids: dict[AccountKey, int],
    locked: Locked,
    holds: dict[int, tuple[int, int, int]],
) -> tuple[dict[int, int], dict[int, int]]:
    """Apply the journals in memory, raising before any write; new balances, hold deltas."""
    balances = {i: balance for i, (_kind, balance) in locked.items()}
    issuance = {i for i, (kind, _b) in locked.items() if kind == AccountKind.ISSUANCE}
    # The central counterparty may be short inside a batch (a run pays sellers before
    # buyers pay in) but not at its end.
    clearing = {i for i, (kind, _b) in locked.items() if kind == AccountKind.CLEARING}
    exempt = issuance | clearing
    hold_delta: dict[int, int] = defaultdict(int)
    for index, spec in enumerate(specs):
        debited: list[int] = []
        for posting in spec.postings:
            account_id = ids[posting.account]
            balances[account_id] += posting.amount
            if posting.amount < 0 and account_id not in exempt:
                debited.append(account_id)
            if posting.hold_id is not None:
                _draw_hold(index, posting.hold_id, posting.amount, account_id, holds, hold_delta)
        for account_id in debited:
            if balances[account_id] < 0:
                key = next(k for k, v in ids.items() if v == account_id)
                requested = -sum(p.amount for p in spec.postings if p.account == key)
                raise InsufficientFunds(str(key), balances[account_id] + requested, requested)
    for account_id in clearing:
        if balances[account_id] < 0:
            key = next(k for k, v in ids.items() if v == account_id)
            raise InsufficientFunds(str(key), locked[account_id][1], -balances[account_id])
    return balances, hold_delta


def _draw_hold(
    index: int,
    hold_id: int,
    amount: int,
    account_id: int,
    holds: dict[int, tuple[int, int, int]],
    hold_delta: dict[int, int],
) -> None:
    hold = holds.get(hold_id)
    if hold is None:
        raise HoldNotFound(hold_id)
    if hold[0] != account_id:
        raise InvalidPosting(f"journal {index}: hold {hold_id} is on another account")
    remaining = hold[1] + hold_delta[hold_id]
    new = remaining + amount
    if new < 0:
        raise HoldExceeded(hold_id, remaining, -amount)
    if new > hold[2]:
        raise InvalidPosting(f"journal {index}: hold {hold_id} would exceed its amount")
    hold_delta[hold_id] += amount


def _chain_rows(
    specs: Sequence[JournalSpec],
    chains: list[str],
    timestamp: str,
    heads: dict[str, tuple[int, str]],
) -> list[dict[str, Any]]:
    """Hash each journal onto its chain (moving ``heads`` along); the rows to insert."""
    created_at = datetime.fromisoformat(timestamp)  # the same instant; strptime cost 35 µs
    rows: list[dict[str, Any]] = []
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
        rows.append(
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
    return rows


def _write_postings(
    session: Session,
    postings: Sequence[tuple[int, int, int, int | None]],
    journal_ids: list[int],
) -> None:
    rows = [(journal_ids[i], account, amount, hold) for i, account, amount, hold in postings]
    if len(rows) <= 8:
        session.execute(
            sql.INSERT_POSTINGS,
            [dict(zip(sql.POSTING_COLUMNS, row, strict=True)) for row in rows],
        )
    else:
        sql.copy_rows(session, "ledger_postings", sql.POSTING_COLUMNS, rows)


def validate_spec(spec: JournalSpec) -> str:
    """Check a journal without the database (kind, text, amounts, balance); returns its chain."""
    try:
        JournalKind(spec.kind)
    except ValueError:
        raise InvalidPosting(f"unknown journal kind {spec.kind!r}") from None
    for name in ("reference", "actor"):
        value = getattr(spec, name)
        if not isinstance(value, str) or not TEXT.match(value):
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
        if amount < 0 and posting.account.kind == AccountKind.SURRENDER:
            raise InvalidPosting(f"surrendered rights never leave {posting.account}")
        sums[posting.account.asset] += amount
    unbalanced = {asset: total for asset, total in sums.items() if total}
    if unbalanced:
        raise InvalidPosting(f"journal does not balance per asset: {unbalanced}")
    chain = spec.chain or default_chain(sums)
    if not TEXT.match(chain) or len(chain) > 64:
        raise InvalidPosting(f"bad chain name {chain!r}")
    return chain


def default_chain(assets: Iterable[str]) -> str:
    """The chain of a journal: its first market asset (sorted), else its first asset."""
    ordered = sorted(assets)
    markets = [a for a in ordered if not a.startswith("cash:")]
    return (markets or ordered)[0]
