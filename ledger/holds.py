"""Holds: reserve part of a league's balance for an order, then draw on or release it."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ledger import _one_statement as one
from ledger import _sql as sql
from ledger.accounts import check_key, ensure_accounts
from ledger.errors import HoldExceeded, HoldNotFound, InsufficientFunds
from ledger.journals import post_locked, validate_spec
from ledger.keys import (
    AccountKey,
    AccountKind,
    JournalKind,
    JournalSpec,
    PostingSpec,
    escrow_account,
    league_account,
    order_chain,
    positive,
)
from ledger.models import HOLDS, Account, Hold


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


_HOLD_KINDS = (AccountKind.ESCROW, AccountKind.LEAGUE)
_HOLD_POSTINGS = 2  # main -> escrow; a release's too


@dataclass(frozen=True, slots=True)
class HoldLock:
    """The statement that locks what a hold of ``league``'s ``asset`` takes (both accounts,
    the chain head) and draws its id: for a caller that sends it with a statement of its own
    in one round trip (``ledger.driver.fetch_together``) and gives its rows to
    :func:`place_hold` (``prelocked``)."""

    league: str
    asset: str
    chain: str
    sql: str
    params: Mapping[str, Any]


def hold_lock(
    session: Session, *, league: str, asset: str, chain: str | None = None
) -> HoldLock | None:
    """The :class:`HoldLock` of :func:`place_hold` with these arguments; None where
    :func:`place_hold` locks by itself (SQLite)."""
    if not one.one_statement(session, _HOLD_POSTINGS):
        return None
    journal_chain = order_chain(chain or asset, league)
    params = sql.lock_for_hold_params(league, asset, _HOLD_KINDS, journal_chain)
    return HoldLock(league, asset, journal_chain, sql.LOCK_FOR_HOLD, params)


def place_hold(
    session: Session,
    *,
    league: str,
    asset: str,
    amount: int,
    reference: str,
    actor: str,
    chain: str | None = None,
    prelocked: tuple[HoldLock, Sequence[tuple[Any, ...]]] | None = None,
) -> int:
    """Reserve ``amount`` of a league's available ``asset``; returns the hold id.

    Moves the amount from the league's main account to its escrow account in a
    ``hold`` journal. Raises :class:`InsufficientFunds` (with the available
    amount) and writes nothing when the league has too little. For a buy order
    (a cash hold) pass ``chain=market_asset(id)`` to chain it with its market.
    The journal goes on the league's chain :func:`order_chain` ``(chain or asset, league)``.
    ``prelocked``: this hold's :func:`hold_lock` and the rows its statement gave, when the
    caller ran it (else it is run here).
    """
    positive(amount)
    main, escrow = league_account(league, asset), escrow_account(league, asset)
    journal_chain = order_chain(chain or asset, league)
    spec = JournalSpec(
        JournalKind.HOLD,
        reference,
        actor,
        (PostingSpec(main, -amount), PostingSpec(escrow, amount)),
        chain=journal_chain,
    )
    validate_spec(spec)  # before the hold row exists
    locked, heads, hold_id = _lock_for_hold(session, league, asset, journal_chain, prelocked)
    ids = {AccountKey(kind, league, asset): i for i, (kind, _b) in locked.items()}
    available = locked[ids[main]][1]
    if available < amount:
        raise InsufficientFunds(str(main), available, amount)
    row = {
        "main_account_id": ids[main],
        "escrow_account_id": ids[escrow],
        "amount": amount,
        "remaining": amount,
        "reference": reference,
        "created_at": datetime.now(UTC),
    }
    if hold_id is None:  # written now: a hold this transaction already has
        hold_id = session.execute(sql.INSERT_HOLD, row).scalar_one()
        new_holds, insert_holds = {hold_id: (ids[escrow], amount)}, []
    else:  # written with the journal
        new_holds, insert_holds = {}, [{"id": hold_id, **row}]
    post_locked(
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
        new_holds=new_holds,
        heads=heads,
        insert_holds=insert_holds,
        deferred=True,  # nothing reads the journal back before the next round trip
    )
    return int(hold_id)


def _lock_for_hold(
    session: Session,
    league: str,
    asset: str,
    chain: str,
    prelocked: tuple[HoldLock, Sequence[tuple[Any, ...]]] | None,
) -> tuple[dict[int, tuple[str, int]], dict[str, tuple[int, str]] | None, int | None]:
    """The hold's accounts locked (id -> (kind, balance)), and on PostgreSQL the chain head
    locked and the hold's id drawn, in one round trip (the caller's, with ``prelocked``);
    the hold row is then written with its journal. Else (SQLite, or an account or the chain
    is new) only the accounts, created first if missing: heads and id are None."""
    kinds = list(_HOLD_KINDS)
    at_once = None
    if prelocked is not None:
        lock, rows = prelocked
        if (lock.league, lock.asset, lock.chain) != (league, asset, chain):
            raise ValueError(f"the lock is of another hold: {lock.league}, {lock.asset}")
        at_once = sql.read_lock_for_hold(rows, kinds)
    elif one.one_statement(session, _HOLD_POSTINGS):
        at_once = sql.lock_for_hold(session, league, asset, kinds, chain)
    if at_once is None:
        return _lock_owner_accounts(session, league, asset, kinds), None, None
    return at_once


def _lock_owner_accounts(
    session: Session, owner: str, asset: str, kinds: list[AccountKind]
) -> dict[int, tuple[str, int]]:
    """Lock ``owner``'s accounts of ``kinds`` in ``asset``, creating the missing ones first;
    account id -> (kind, balance)."""
    params = {"owner": owner, "asset": asset, "kinds": kinds}
    if session.get_bind().dialect.name == "postgresql":  # before any lock (see LOCK_FOR_HOLD)
        ensure_accounts(session, [AccountKey(kind, owner, asset) for kind in kinds])
    rows = session.execute(sql.LOCK_OWNER_ACCOUNTS, params).all()
    if len(rows) < len(kinds):
        ensure_accounts(session, [AccountKey(kind, owner, asset) for kind in kinds])
        rows = session.execute(sql.LOCK_OWNER_ACCOUNTS, params).all()
    return {i: (kind, balance) for i, kind, balance in rows}


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
    positive(*(r.amount for r in requests))
    for r in requests:  # text and chain checks, before any hold row exists
        key = league_account(r.league, r.asset)
        check_key(key)
        validate_spec(
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
    locked = sql.lock_balances(session, list(ids.values()))
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
    hold_ids = sql.insert_with_ids(session, HOLDS, rows)
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
    post_locked(
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
    owner: str | None = None,
    deferred: bool = False,
) -> int | None:
    """Give back ``amount`` (default: all that remains) of a hold; returns the journal id.

    Returns None when nothing remains to release. ``owner``: the hold's owner, if the
    caller knows it (with ``chain``, PostgreSQL then locks everything in one round trip).
    ``deferred``: the write goes with the transaction's next round trip where it can
    (``ledger.driver.defer``), and None is returned: for a caller that does not read the
    journal back (a cancel).
    """
    # Lock order as everywhere: the hold's two accounts (ascending id), the hold, the head.
    heads: dict[str, tuple[int, str]] | None = None
    if owner is not None and chain is not None and one.one_statement(session, _HOLD_POSTINGS):
        accounts, hold, heads = sql.lock_for_release(session, hold_id, order_chain(chain, owner))
        if (accounts and accounts[0][3] != owner) or not heads:  # a wrong hint, or a new chain
            heads = None
    else:
        rows = session.execute(sql.LOCK_HOLD_ACCOUNTS, {"hold_id": hold_id}).all()
        accounts = [(r[0], r[1], r[2], r[3], r[4]) for r in rows]
        found = sql.lock_holds(session, {hold_id}, with_reference=True) if accounts else {}
        hold = (*found[hold_id],) if found else None
    if not accounts or hold is None:
        raise HoldNotFound(hold_id)
    owner, asset = accounts[0][3], accounts[0][4]
    main, escrow = league_account(owner, asset), escrow_account(owner, asset)
    ids = {AccountKey(kind, owner, asset): i for i, kind, _b, _o, _a in accounts}
    locked = {i: (kind, balance) for i, kind, balance, _o, _a in accounts}
    escrow_id, remaining, total, stored_reference = hold
    if amount is None:
        amount = remaining
        if amount == 0:
            return None
    positive(amount)
    if amount > remaining:
        raise HoldExceeded(hold_id, remaining, amount)
    spec = JournalSpec(
        JournalKind.RELEASE,
        reference or str(stored_reference),
        actor,
        (PostingSpec(escrow, -amount, hold_id), PostingSpec(main, amount)),
        chain=order_chain(chain or asset, owner),
    )
    written = post_locked(
        session,
        [spec],
        ids=ids,
        locked=locked,
        locked_holds={hold_id: (escrow_id, remaining, total)},
        heads=heads,
        deferred=deferred,
    )
    return written[0] if written else None


def hold_owners(session: Session, hold_ids: set[int]) -> dict[int, tuple[str, str, int]]:
    """hold id -> (owner, asset, remaining), unlocked (lock accounts, then :func:`lock_holds`)."""
    result: dict[int, tuple[str, str, int]] = {}
    for chunk in sql.chunks(sorted(hold_ids)):
        rows = session.execute(
            select(Hold.id, Account.owner, Account.asset, Hold.remaining)
            .join(Account, Account.id == Hold.escrow_account_id)
            .where(Hold.id.in_(chunk))
        )
        for hold_id, owner, asset, remaining in rows:
            result[hold_id] = (owner, asset, remaining)
    return result


def lock_holds(session: Session, hold_ids: Iterable[int]) -> dict[int, int]:
    """Lock holds (``FOR UPDATE``, ascending id); hold id -> remaining amount.

    Lock the accounts a write touches first (:func:`lock_accounts`), then its holds.
    """
    locked = sql.lock_holds(session, set(hold_ids))
    return {h: remaining for h, (_e, remaining, _a) in locked.items()}
