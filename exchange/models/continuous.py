"""Continuous trading: the recorded order flow, its trades and the daily closes.

``continuous_events`` is the sequence every order and cancel of a continuous market
went through the book in (``seq`` per market, assigned under the market's row lock):
re-running it through :class:`matching.continuous.OrderBook` gives the same trades
(``exchange replay-session``). ``continuous_trades`` holds one row per execution
(listed or block) with both orders; the mechanism-neutral ``trades`` table holds the
two fills of each (against the clearing house) that the ledger settled. Both
recording tables are append-only in the database.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from exchange.models.base import Base, UTCDateTime, utcnow


class ContinuousEvent(Base):
    """One command of a continuous market's book: an order entered or a cancel."""

    __tablename__ = "continuous_events"
    __table_args__ = (
        UniqueConstraint("market_id", "seq", name="uq_continuous_events_market_seq"),
        Index("ix_continuous_events_day", "market_id", "day"),
        Index("ix_continuous_events_order", "order_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    market_id: Mapped[int] = mapped_column(ForeignKey("markets.id"))
    seq: Mapped[int] = mapped_column(BigInteger)
    day: Mapped[date] = mapped_column(Date)
    """The trading day (Beijing time)."""
    kind: Mapped[str] = mapped_column(String(8))
    """``order`` or ``cancel``."""
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id"))
    league: Mapped[str] = mapped_column(String(64))
    side: Mapped[str] = mapped_column(String(4))
    quantity: Mapped[int] = mapped_column(BigInteger)
    price: Mapped[int] = mapped_column(BigInteger)
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class ContinuousTrade(Base):
    """One execution of a continuous market: listed (at entry) or block (negotiated)."""

    __tablename__ = "continuous_trades"
    __table_args__ = (
        CheckConstraint("quantity > 0", name="quantity_positive"),
        CheckConstraint("price >= 0", name="price_non_negative"),
        UniqueConstraint("market_id", "seq", "number", name="uq_continuous_trades_seq"),
        Index("ix_continuous_trades_day", "market_id", "day", "id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    market_id: Mapped[int] = mapped_column(ForeignKey("markets.id"))
    kind: Mapped[str] = mapped_column(String(8))
    """``listed`` (matched at entry, in the close) or ``block`` (negotiated, not)."""
    seq: Mapped[int] = mapped_column(BigInteger)
    """The aggressing order's seq (listed); the block trade's id (block)."""
    number: Mapped[int] = mapped_column(Integer)
    """1, 2, ... within the seq."""
    day: Mapped[date] = mapped_column(Date)
    buy_order_id: Mapped[int | None] = mapped_column(ForeignKey("orders.id"))
    sell_order_id: Mapped[int | None] = mapped_column(ForeignKey("orders.id"))
    buyer: Mapped[str] = mapped_column(String(64))
    seller: Mapped[str] = mapped_column(String(64))
    aggressor: Mapped[str | None] = mapped_column(String(4))
    price: Mapped[int] = mapped_column(BigInteger)
    quantity: Mapped[int] = mapped_column(BigInteger)
    traded_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class DailyClose(Base):
    """A continuous market's day: open, high, low, close (VWAP of listed trades), volume."""

    __tablename__ = "continuous_closes"
    __table_args__ = (UniqueConstraint("market_id", "day", name="uq_continuous_closes_day"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    market_id: Mapped[int] = mapped_column(ForeignKey("markets.id"))
    day: Mapped[date] = mapped_column(Date)
    open: Mapped[int | None] = mapped_column(BigInteger)
    high: Mapped[int | None] = mapped_column(BigInteger)
    low: Mapped[int | None] = mapped_column(BigInteger)
    close: Mapped[int | None] = mapped_column(BigInteger)
    volume: Mapped[int] = mapped_column(BigInteger)
    turnover: Mapped[int] = mapped_column(BigInteger)
    trades: Mapped[int] = mapped_column(Integer)
    block_volume: Mapped[int] = mapped_column(BigInteger, default=0)
    computed_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class BlockTrade(Base):
    """A negotiated block trade (大宗协议): proposed by one party, confirmed by the other."""

    __tablename__ = "block_trades"
    __table_args__ = (
        CheckConstraint("quantity > 0", name="quantity_positive"),
        CheckConstraint("price > 0", name="price_positive"),
        CheckConstraint("buyer <> seller", name="two_parties"),
        UniqueConstraint("proposer", "client_id", name="uq_block_trades_client_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    market_id: Mapped[int] = mapped_column(ForeignKey("markets.id"))
    buyer: Mapped[str] = mapped_column(ForeignKey("leagues.code"))
    seller: Mapped[str] = mapped_column(ForeignKey("leagues.code"))
    proposer: Mapped[str] = mapped_column(String(64))
    """The league that proposed it; the other party confirms."""
    client_id: Mapped[str] = mapped_column(String(64))
    quantity: Mapped[int] = mapped_column(BigInteger)
    price: Mapped[int] = mapped_column(BigInteger)
    status: Mapped[str] = mapped_column(String(16))
    """``proposed``, ``confirmed`` (settled) or ``cancelled``."""
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    decided_by: Mapped[str | None] = mapped_column(String(64))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
