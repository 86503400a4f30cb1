"""Bundle orders (issue 21): several legs in call-auction markets of one window, all or nothing.

A bundle is one order of a league over legs in different markets that clear in the same window;
its limit is on the total value (sum of the legs' clearing prices x quantities). The markets of
a window with bundles are cleared jointly (``matching.clear_joint``); ``joint_clearings`` keeps
the joint book and hashes for replay, ``joint_clearing_runs`` says which runs it produced.
"""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from exchange.models.base import Base, UTCDateTime, string_enum, unique_key, utcnow
from exchange.models.trading import Side


class BundleStatus(enum.StrEnum):
    """Life cycle of a bundle: open until its window's joint run, or cancelled."""

    OPEN = "open"
    ACCEPTED = "accepted"
    REJECTED = "rejected"
    CANCELLED = "cancelled"


class Bundle(Base):
    """A league's bundle order; ``limit_total`` is the effective limit on its total value."""

    __tablename__ = "bundles"
    __table_args__ = (
        UniqueConstraint("league_code", "client_order_id", name="uq_bundles_client_order_id"),
        CheckConstraint("limit_total > 0", name="limit_positive"),
        CheckConstraint(
            "min_ratio IS NULL OR (min_ratio >= 1 AND min_ratio <= 1000)", name="min_ratio_range"
        ),
        Index("ix_bundles_window", "window", "status"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    league_code: Mapped[str] = mapped_column(ForeignKey("leagues.code"))
    window: Mapped[datetime] = mapped_column(UTCDateTime())
    side: Mapped[Side] = mapped_column(string_enum(Side, "bundle_side", 20))
    max_total: Mapped[int | None] = mapped_column(BigInteger)
    min_total: Mapped[int | None] = mapped_column(BigInteger)
    limit_total: Mapped[int] = mapped_column(BigInteger)
    min_ratio: Mapped[int | None] = mapped_column(Integer)
    client_order_id: Mapped[str] = mapped_column(String(64))
    status: Mapped[BundleStatus] = mapped_column(
        string_enum(BundleStatus, "bundle_status", 20), default=BundleStatus.OPEN
    )
    reason: Mapped[str | None] = mapped_column(String(32))
    reason_detail: Mapped[str | None] = mapped_column(Text)
    hold_id: Mapped[int | None] = mapped_column(BigInteger)
    """A buy bundle's cash hold (its worst case); a sell bundle holds per leg."""
    steps: Mapped[int | None] = mapped_column(Integer)
    of: Mapped[int | None] = mapped_column(Integer)
    amount: Mapped[int] = mapped_column(BigInteger, default=0)
    """What the bundle paid (buy) or received (sell) in fen, once accepted."""
    joint_id: Mapped[int | None] = mapped_column(ForeignKey("joint_clearings.id"))
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    legs: Mapped[list[BundleLeg]] = relationship(
        back_populates="bundle", order_by="BundleLeg.market_id", lazy="selectin"
    )


CLIENT_BUNDLE_KEY = unique_key(Bundle, "uq_bundles_client_order_id")
"""A league's ``client_order_id`` of a bundle is unique: idempotent entry retries on it."""


class BundleLeg(Base):
    """One leg: ``quantity`` in ``market_id``; ``limit_price`` (optional) feeds the total limit."""

    __tablename__ = "bundle_legs"
    __table_args__ = (
        UniqueConstraint("bundle_id", "market_id", name="uq_bundle_legs_market"),
        CheckConstraint("quantity > 0", name="quantity_positive"),
        Index("ix_bundle_legs_market", "market_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    bundle_id: Mapped[int] = mapped_column(ForeignKey("bundles.id"))
    market_id: Mapped[int] = mapped_column(ForeignKey("markets.id"))
    quantity: Mapped[int] = mapped_column(BigInteger)
    limit_price: Mapped[int | None] = mapped_column(BigInteger)
    hold_id: Mapped[int | None] = mapped_column(BigInteger)
    """A sell leg's hold on the market's rights."""
    filled_quantity: Mapped[int] = mapped_column(BigInteger, default=0)
    price: Mapped[int | None] = mapped_column(BigInteger)
    run_id: Mapped[int | None] = mapped_column(ForeignKey("clearing_runs.id"))

    bundle: Mapped[Bundle] = relationship(back_populates="legs")


class JointClearing(Base):
    """One joint clearing of the markets of a window with bundles: the book, for replay."""

    __tablename__ = "joint_clearings"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    window: Mapped[datetime] = mapped_column(UTCDateTime())
    book: Mapped[str] = mapped_column(Text)
    """Canonical JSON of the joint book (``matching.joint_book_to_json``)."""
    book_hash: Mapped[str] = mapped_column(String(64))
    result_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class JointClearingRun(Base):
    """A market's clearing run that was part of a joint clearing."""

    __tablename__ = "joint_clearing_runs"

    run_id: Mapped[int] = mapped_column(ForeignKey("clearing_runs.id"), primary_key=True)
    joint_id: Mapped[int] = mapped_column(ForeignKey("joint_clearings.id"))
    code: Mapped[str] = mapped_column(String(64))
    """The market's code in the joint book."""
