"""Tables owned by the ledger (nothing else writes them).

Append-only in the database too (migration 0002 installs triggers): journals and
postings are never updated or deleted. Three tables keep one deliberately mutable
column each, always changed in the same transaction as the postings that justify
it and always re-derivable from the postings by :func:`ledger.verify.verify`:

- ``ledger_accounts.balance``: the sum of the account's postings;
- ``ledger_holds.remaining``: the sum of the hold's postings on its escrow account;
- ``ledger_chains.seq`` / ``head_hash``: the head of each hash chain (moves forward only).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import cast

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

# A 64-bit key that is still SQLite's auto-incrementing rowid alias.
BigId = BigInteger().with_variant(Integer(), "sqlite")


class LedgerBase(DeclarativeBase):
    """Base class of the ledger's tables, on a metadata of their own."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class UTCTimestamp(TypeDecorator[datetime]):
    """A timestamp stored in UTC (microseconds) and read back timezone-aware."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: object) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given where a UTC timestamp is required")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: object) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


class Account(LedgerBase):
    """One owner's balance of one asset. Only issuance accounts may go negative."""

    __tablename__ = "ledger_accounts"
    __table_args__ = (
        UniqueConstraint("kind", "owner", "asset", name="uq_ledger_accounts_key"),
        CheckConstraint("balance >= 0 OR kind = 'issuance'", name="balance_non_negative"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    kind: Mapped[str] = mapped_column(String(32))
    owner: Mapped[str] = mapped_column(String(64))
    asset: Mapped[str] = mapped_column(String(64), index=True)
    balance: Mapped[int] = mapped_column(BigInteger, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCTimestamp())


class Chain(LedgerBase):
    """The head of one hash chain (its last sequence number and hash)."""

    __tablename__ = "ledger_chains"
    __table_args__ = (CheckConstraint("seq >= 0", name="seq_non_negative"),)

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    seq: Mapped[int] = mapped_column(BigInteger)
    head_hash: Mapped[str] = mapped_column(String(64))


class Journal(LedgerBase):
    """An atomic set of postings that sums to zero per asset, linked into a hash chain."""

    __tablename__ = "ledger_journals"
    __table_args__ = (
        UniqueConstraint("chain", "seq", name="uq_ledger_journals_chain_seq"),
        CheckConstraint("seq >= 1", name="seq_positive"),
        Index("ix_ledger_journals_created_at", "created_at"),
        Index("ix_ledger_journals_reference", "reference"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    chain: Mapped[str] = mapped_column(String(64))
    seq: Mapped[int] = mapped_column(BigInteger)
    kind: Mapped[str] = mapped_column(String(32))
    reference: Mapped[str] = mapped_column(String(128))
    actor: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCTimestamp())
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))


class Hold(LedgerBase):
    """A reservation: value moved from a main account to its escrow account for an order."""

    __tablename__ = "ledger_holds"
    __table_args__ = (
        CheckConstraint("amount > 0", name="amount_positive"),
        CheckConstraint("remaining >= 0 AND remaining <= amount", name="remaining_in_range"),
        Index("ix_ledger_holds_reference", "reference"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    main_account_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("ledger_accounts.id"))
    escrow_account_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("ledger_accounts.id"))
    amount: Mapped[int] = mapped_column(BigInteger)
    remaining: Mapped[int] = mapped_column(BigInteger)
    reference: Mapped[str] = mapped_column(String(128))
    created_at: Mapped[datetime] = mapped_column(UTCTimestamp())


class Posting(LedgerBase):
    """A signed amount on one account (positive = debit = the account receives)."""

    __tablename__ = "ledger_postings"
    __table_args__ = (
        CheckConstraint("amount <> 0", name="amount_non_zero"),
        Index("ix_ledger_postings_account_journal", "account_id", "journal_id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    journal_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("ledger_journals.id"), index=True
    )
    account_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("ledger_accounts.id"))
    amount: Mapped[int] = mapped_column(BigInteger)
    hold_id: Mapped[int | None] = mapped_column(
        BigInteger, ForeignKey("ledger_holds.id"), index=True
    )


APPEND_ONLY_TABLES = ("ledger_journals", "ledger_postings")
# Table -> the columns that may change (everything else is frozen).
GUARDED_TABLES: dict[str, tuple[str, ...]] = {
    "ledger_accounts": ("balance",),
    "ledger_holds": ("remaining",),
    "ledger_chains": ("seq", "head_hash"),
}


ACCOUNTS = cast(Table, Account.__table__)
CHAINS = cast(Table, Chain.__table__)
JOURNALS = cast(Table, Journal.__table__)
HOLDS = cast(Table, Hold.__table__)
POSTINGS = cast(Table, Posting.__table__)
