"""Tables of signed checkpoints and of the keys that sign them (owned by the ledger).

Both are append-only (migration 0006 installs triggers refusing UPDATE and DELETE).
The private keys are never stored: only public keys and signed statements.
"""

from __future__ import annotations

from datetime import datetime
from typing import cast

from sqlalchemy import BigInteger, CheckConstraint, String, Table, Text
from sqlalchemy.orm import Mapped, mapped_column

from ledger.models import LedgerBase, UTCTimestamp


class Checkpoint(LedgerBase):
    """A signed statement of every chain head at one moment, chained to its predecessor."""

    __tablename__ = "ledger_checkpoints"
    __table_args__ = (CheckConstraint("seq >= 1", name="seq_positive"),)

    seq: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    created_at: Mapped[datetime] = mapped_column(UTCTimestamp())
    reference: Mapped[str] = mapped_column(String(128))
    prev_hash: Mapped[str] = mapped_column(String(64))
    key_id: Mapped[str] = mapped_column(String(64))
    statement: Mapped[str] = mapped_column(Text)
    hash: Mapped[str] = mapped_column(String(64), unique=True)
    signature: Mapped[str] = mapped_column(String(128))


class SigningKey(LedgerBase):
    """A public key and the statement introducing it (signed by it and by its predecessor)."""

    __tablename__ = "ledger_signing_keys"

    key_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    public_key: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCTimestamp())
    predecessor: Mapped[str | None] = mapped_column(String(64), unique=True)
    statement: Mapped[str] = mapped_column(Text)
    signature: Mapped[str] = mapped_column(String(128))
    predecessor_signature: Mapped[str | None] = mapped_column(String(128))


CHECKPOINTS = cast(Table, Checkpoint.__table__)
SIGNING_KEYS = cast(Table, SigningKey.__table__)
CHECKPOINT_TABLES = ("ledger_checkpoints", "ledger_signing_keys")
