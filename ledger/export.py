"""The state rows an independent verifier needs beside the journals (for the export).

After the journal lines, ``exchange export-ledger --format jsonl`` writes one line per
account (stored balance), hold (stored remaining), chain head and signing key, each
with a ``record`` field naming its kind, so that a verifier holding only the export
can recompute every check of :func:`ledger.verify.verify` (see docs/ledger.md).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, aliased

from ledger.checkpoint_models import SigningKey
from ledger.models import Account, Chain, Hold


def state_records(session: Session) -> Iterator[dict[str, Any]]:
    """Accounts, holds, chain heads and signing keys as JSON-ready mappings."""
    for account in session.scalars(select(Account).order_by(Account.id)):
        yield {
            "record": "account",
            "id": account.id,
            "kind": account.kind,
            "owner": account.owner,
            "asset": account.asset,
            "balance": account.balance,
        }
    main, escrow = aliased(Account), aliased(Account)
    rows = session.execute(
        select(Hold, main, escrow)
        .join(main, main.id == Hold.main_account_id)
        .join(escrow, escrow.id == Hold.escrow_account_id)
        .order_by(Hold.id)
    )
    for hold, main_account, escrow_account in rows:
        yield {
            "record": "hold",
            "id": hold.id,
            "main": _key(main_account),
            "escrow": _key(escrow_account),
            "amount": hold.amount,
            "remaining": hold.remaining,
        }
    for chain in session.scalars(select(Chain).order_by(Chain.name)):
        yield {"record": "chain", "name": chain.name, "seq": chain.seq, "head": chain.head_hash}
    for key in session.scalars(select(SigningKey).order_by(SigningKey.created_at)):
        yield {
            "record": "signing_key",
            "key_id": key.key_id,
            "public_key": key.public_key,
            "statement": key.statement,
            "signature": key.signature,
            "predecessor_signature": key.predecessor_signature,
        }


def _key(account: Account) -> dict[str, str]:
    return {"kind": account.kind, "owner": account.owner, "asset": account.asset}
