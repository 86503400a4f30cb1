"""Trading: orders, clearing runs and the trades they produced."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    CheckConstraint,
    Enum,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    literal_column,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from exchange.models.base import Base, UTCDateTime, string_enum, unique_key, utcnow


class Side(enum.StrEnum):
    """Buy or sell."""

    BUY = "buy"
    SELL = "sell"


class OrderStatus(enum.StrEnum):
    """Life cycle of an order."""

    OPEN = "open"
    PARTIALLY_FILLED = "partially_filled"
    FILLED = "filled"
    CANCELLED = "cancelled"
    EXPIRED = "expired"


LIVE_STATUSES = (OrderStatus.OPEN, OrderStatus.PARTIALLY_FILLED)
LIVE_STATUS_SQL = "status IN ({})".format(", ".join(f"'{s.value}'" for s in LIVE_STATUSES))
"""The live statuses as SQL with the values written out: part of the predicate of the partial
indexes of live orders, which a query states in these words (:func:`live_order`) to use them."""


def live_side_sql(side: Side) -> str:
    """The predicate of the partial index of a side's live orders (see below ``Order``)."""
    return f"side = '{side.value}' AND {LIVE_STATUS_SQL}"


def literal_side(column: Any, side: Side) -> Any:
    """SQL: ``column`` (an orders side column) is ``side``, the value written out, not bound
    (as in the partial indexes' predicates, see below ``Order``)."""
    return column == literal_column(f"'{side.value}'")


def live_order(status: Any) -> Any:
    """SQL: ``status`` (an orders status column) is live, its values written out, not bound.

    A prepared statement's generic plan can use the partial index of live orders only
    if its predicate is in the query as constants; with the statuses bound, PostgreSQL
    chose another index and filtered the league's whole history of orders.
    """
    return status.in_([literal_column(f"'{value.value}'") for value in LIVE_STATUSES])


class Validity(enum.StrEnum):
    """How long an order stays in the book."""

    GOOD_TILL_CANCELLED = "gtc"
    SINGLE_RUN = "run"


class RunStatus(enum.StrEnum):
    """Outcome of a clearing run."""

    COMPLETED = "completed"
    FAILED = "failed"
    CANCELLED = "cancelled"
    """A stability rule cancelled the run (``cancellation`` says which): nothing settled."""


class RunTrigger(enum.StrEnum):
    """What started a clearing run."""

    SCHEDULE = "schedule"
    MANUAL = "manual"
    CATCH_UP = "catch_up"


def _enum(cls: type[enum.Enum], name: str) -> Enum:
    return string_enum(cls, name, 20)


class Order(Base):
    """A league's limit order in one market; its hold lives in the ledger."""

    __tablename__ = "orders"
    __table_args__ = (
        UniqueConstraint("league_code", "client_order_id", name="uq_orders_client_order_id"),
        CheckConstraint("quantity > 0", name="quantity_positive"),
        CheckConstraint("filled_quantity >= 0 AND filled_quantity <= quantity", name="filled"),
        CheckConstraint("limit_price >= 0", name="price_non_negative"),
        Index("ix_orders_book", "market_id", "status", "id"),
        # Self-trade prevention at entry: a league's live orders on the other side of a
        # market, most aggressive first (exchange.services.self_trade): see below the class.
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    market_id: Mapped[int] = mapped_column(ForeignKey("markets.id"))
    league_code: Mapped[str] = mapped_column(ForeignKey("leagues.code"))
    zone: Mapped[str] = mapped_column(String(32))
    side: Mapped[Side] = mapped_column(_enum(Side, "side"))
    quantity: Mapped[int] = mapped_column(BigInteger)
    limit_price: Mapped[int] = mapped_column(BigInteger)
    filled_quantity: Mapped[int] = mapped_column(BigInteger, default=0)
    filled_amount: Mapped[int] = mapped_column(BigInteger, default=0)
    status: Mapped[OrderStatus] = mapped_column(
        _enum(OrderStatus, "order_status"), default=OrderStatus.OPEN
    )
    validity: Mapped[Validity] = mapped_column(
        _enum(Validity, "validity"), default=Validity.GOOD_TILL_CANCELLED
    )
    client_order_id: Mapped[str] = mapped_column(String(64))
    hold_id: Mapped[int | None] = mapped_column(BigInteger)
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    last_run_id: Mapped[int | None] = mapped_column(Integer)

    fills: Mapped[list[Trade]] = relationship(
        back_populates="order", order_by="Trade.id", lazy="selectin"
    )

    @property
    def remaining_quantity(self) -> int:
        """Units still to trade."""
        return self.quantity - self.filled_quantity

    @property
    def average_price(self) -> int | None:
        """Quantity-weighted average fill price, rounded down to the fen."""
        if not self.filled_quantity:
            return None
        return self.filled_amount // self.filled_quantity


def _live_side_index(name: str, side: Side, price: Any) -> Index:
    """A league's live orders on one side of a market, the most aggressive first: the
    order of :func:`exchange.services.self_trade.most_aggressive_first`, so that the
    self-trade query (which writes out the side and the statuses) reads its first row with
    no sort. No other index can serve it without sorting, and so a prepared statement's
    generic plan, even one made on an empty table, picks this one."""
    where = text(live_side_sql(side))
    return Index(
        name,
        Order.league_code,
        Order.market_id,
        price,
        Order.id,
        postgresql_where=where,
        sqlite_where=where,
    )


_live_side_index("ix_orders_live_sells", Side.SELL, Order.limit_price)  # a buy crosses these
_live_side_index("ix_orders_live_buys", Side.BUY, Order.limit_price.desc())  # a sell, these

CLIENT_ORDER_KEY = unique_key(Order, "uq_orders_client_order_id")
"""A league's ``client_order_id`` is unique: the key idempotent order entry retries on."""


class ClearingRun(Base):
    """One call auction of a market for a window; at most one per (market, window)."""

    __tablename__ = "clearing_runs"
    __table_args__ = (
        UniqueConstraint("market_id", "window", name="uq_clearing_runs_market_window"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    market_id: Mapped[int] = mapped_column(ForeignKey("markets.id"))
    window: Mapped[datetime] = mapped_column(UTCDateTime())
    trigger: Mapped[RunTrigger] = mapped_column(_enum(RunTrigger, "run_trigger"))
    status: Mapped[RunStatus] = mapped_column(_enum(RunStatus, "run_status"))
    started_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    order_count: Mapped[int] = mapped_column(Integer, default=0)
    volume: Mapped[int] = mapped_column(BigInteger, default=0)
    price: Mapped[int | None] = mapped_column(BigInteger)
    zone_prices: Mapped[dict[str, int] | None] = mapped_column(JSON)
    flows: Mapped[list[dict[str, Any]] | None] = mapped_column(JSON)
    curves: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    auction_stats: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    timings_ms: Mapped[dict[str, float] | None] = mapped_column(JSON)
    engine: Mapped[dict[str, str] | None] = mapped_column(JSON)
    book_hash: Mapped[str | None] = mapped_column(String(64))
    result_hash: Mapped[str | None] = mapped_column(String(64))
    failure_reason: Mapped[str | None] = mapped_column(Text)
    triggered_by: Mapped[str] = mapped_column(String(64))
    cancellation: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    """A cancelled run: the rule's reason code and its numbers (``matching.Cancellation``)."""
    reserves: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    """Stability settings in force and what the reserves did (``ccr_released``,
    ``ecr_withheld``); None when the market has no stability rule."""


class ClearingSnapshot(Base):
    """The exact book and rules a run cleared (canonical JSON), for replay."""

    __tablename__ = "clearing_snapshots"

    run_id: Mapped[int] = mapped_column(
        ForeignKey("clearing_runs.id", ondelete="CASCADE"), primary_key=True
    )
    book: Mapped[str] = mapped_column(Text)


class Trade(Base):
    """A trade, whatever mechanism formed it: who bought from whom, how much, at what price.

    A call auction's trades are its fills: each order trades with the exchange's
    clearing house (the central counterparty), so one side is the league and the
    other ``exchange``; ``run_id`` and ``order_id`` say where it came from. Trades
    of other mechanisms (a negotiated transfer: a contract) leave those empty and
    name their ``source``. Ids of fills migrated from the ``fills`` table are kept.
    """

    __tablename__ = "trades"
    __table_args__ = (
        CheckConstraint("quantity > 0", name="quantity_positive"),
        CheckConstraint("price >= 0", name="price_non_negative"),
        Index("ix_trades_run", "run_id"),
        Index("ix_trades_market", "market_id", "id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    market_id: Mapped[int] = mapped_column(ForeignKey("markets.id"))
    mechanism: Mapped[str] = mapped_column(String(32))
    buyer: Mapped[str] = mapped_column(String(64))
    seller: Mapped[str] = mapped_column(String(64))
    quantity: Mapped[int] = mapped_column(BigInteger)
    price: Mapped[int] = mapped_column(BigInteger)
    amount: Mapped[int] = mapped_column(BigInteger)
    source: Mapped[str] = mapped_column(String(64))
    """Where the trade came from: ``run:<id>``, ``contract:<id>``, ..."""
    run_id: Mapped[int | None] = mapped_column(ForeignKey("clearing_runs.id"))
    order_id: Mapped[int | None] = mapped_column(ForeignKey("orders.id"))

    order: Mapped[Order | None] = relationship(back_populates="fills")
