"""Accounts: find or create them by key, read and lock their balances."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime

from sqlalchemy import select, tuple_
from sqlalchemy.orm import Session

from ledger import _sql as sql
from ledger.errors import InvalidPosting
from ledger.keys import NAME, TEXT, AccountKey
from ledger.models import ACCOUNTS, Account


def ensure_accounts(session: Session, keys: Iterable[AccountKey]) -> dict[AccountKey, int]:
    """Ids of the accounts with these keys, creating the missing ones (race-safe)."""
    wanted = set(keys)
    for key in wanted:
        check_key(key)
    found = _account_ids(session, wanted)
    missing = [k for k in wanted if k not in found]
    if missing:
        now = datetime.now(UTC)
        rows = [
            {"kind": k.kind, "owner": k.owner, "asset": k.asset, "balance": 0, "created_at": now}
            for k in sorted(missing)
        ]
        session.execute(sql.insert_ignore(session, ACCOUNTS, ["kind", "owner", "asset"]), rows)
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
    balances = sql.lock_balances(session, sorted(by_id))
    return {by_id[i]: balance for i, (_kind, balance) in balances.items()}


def _account_ids(session: Session, keys: set[AccountKey]) -> dict[AccountKey, int]:
    found: dict[AccountKey, int] = {}
    ordered = sorted(keys)
    if len(ordered) > 1 and len({(k.owner, k.asset) for k in ordered}) == 1:
        # One owner's accounts of one asset (a hold: main and escrow): one query.
        pairs = session.execute(
            sql.ACCOUNTS_OF_OWNER,
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
                sql.ACCOUNT_ID, {"kind": key.kind, "owner": key.owner, "asset": key.asset}
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


def check_key(key: AccountKey) -> None:
    """Raise :class:`InvalidPosting` unless the key's kind, owner and asset are well formed."""
    if not NAME.match(key.kind):
        raise InvalidPosting(f"bad account kind {key.kind!r}")
    for value in (key.owner, key.asset):
        if not TEXT.match(value) or len(value) > 64:
            raise InvalidPosting(f"bad account owner or asset {value!r}")
