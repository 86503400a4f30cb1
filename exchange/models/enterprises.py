"""Enterprises' registry tables: trusted account lists and instructions awaiting a second
representative (the UK ETS registry's trusted accounts and four-eyes tasks)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from exchange.models.base import Base, UTCDateTime, utcnow


class TrustedAccount(Base):
    """``trusted_code`` is on ``participant_code``'s trusted list from ``effective_at``
    (24 h after it was added, by default) until ``removed_at``."""

    __tablename__ = "trusted_accounts"
    __table_args__ = (Index("ix_trusted_accounts_pair", "participant_code", "trusted_code"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    participant_code: Mapped[str] = mapped_column(ForeignKey("leagues.code"))
    trusted_code: Mapped[str] = mapped_column(ForeignKey("leagues.code"))
    added_by: Mapped[str] = mapped_column(String(64))
    added_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    effective_at: Mapped[datetime] = mapped_column(UTCDateTime())
    removed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class Instruction(Base):
    """An order or transfer a representative initiated for its enterprise, waiting for a
    second representative's approval (``status`` pending, then approved or rejected).

    ``payload`` is the request's JSON, validated when initiated and entered, with every
    check of entry run again, when approved; nothing is held before that."""

    __tablename__ = "instructions"
    __table_args__ = (UniqueConstraint("participant_code", "id", name="uq_instructions_owner"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    participant_code: Mapped[str] = mapped_column(ForeignKey("leagues.code"), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    """``order`` or ``transfer``."""
    payload: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), default="pending")
    initiated_by: Mapped[str] = mapped_column(String(64))
    decided_by: Mapped[str | None] = mapped_column(String(64))
    result: Mapped[str | None] = mapped_column(String(64))
    """What approval made, e.g. ``order:12`` or ``transfer:3``; or the refusal's code."""
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
