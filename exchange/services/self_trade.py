"""Self-trade prevention: a league's new order may not cross its own live order.

A league's buy and sell that cross in one market would trade with each other
in the next run and set a public price at no cost. The exchange refuses the
newest order at entry (the "cancel newest" rule of exchanges): 409 naming the
live order it would cross; the league cancels that one first if it means to.
In a batch, an order crossing another order of the same batch is refused too
(the whole batch, as batches are all or nothing). A buy crosses a sell of the
same market when its limit is at or above the sell's.

Entry locks the league's row (:data:`LOCK_ENTRIES`, ``FOR UPDATE``, PostgreSQL), so a
league's entries run one at a time, in a statement of its own before the one that looks
for crossing orders. In read committed a statement reads as of its own start: a lock
taken and the book read in one statement would read the book as it was before the lock
was waited for, so an entry that waited for another would miss the order that one had
just committed, and both would pass. Clearing never locks leagues, so this adds no lock
cycle. SQLite needs no lock: every writer holds the database's write lock from ``BEGIN
IMMEDIATE``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, String, and_, bindparam, or_, select
from sqlalchemy.orm import Session

from exchange.errors import Conflict
from exchange.models import League
from exchange.models.trading import Order, Side, literal_side, live_order
from ledger.driver import Prepared

LOCK_ENTRIES = Prepared(
    select(League.code).where(League.code == bindparam("league", type_=String)).with_for_update()
)
"""PostgreSQL: the league's row lock that serialises its entries (``league``: its code);
sent before, never inside, the statement that reads its crossing orders."""


@dataclass(frozen=True)
class NewOrder:
    """The parts of an order entry that decide whether it crosses."""

    market_id: int
    side: Side
    limit_price: int
    label: str = "the order"


def crossing(league: Any, market_id: Any, side: Side, price: Any) -> ColumnElement[bool]:
    """SQL: a live order of ``league`` in ``market_id`` that a new ``side`` order at
    ``price`` would cross (values or bound parameters; the rule, stated once for single
    orders and batches)."""
    if side is Side.BUY:
        crossed = and_(literal_side(Order.side, Side.SELL), Order.limit_price <= price)
    else:
        crossed = and_(literal_side(Order.side, Side.BUY), Order.limit_price >= price)
    return and_(
        Order.league_code == league,
        Order.market_id == market_id,
        live_order(Order.status),
        crossed,
    )


def most_aggressive_first(side: Side) -> tuple[Any, ...]:
    """Order of the crossed orders, the one named in a refusal first (lowest sell, highest buy)."""
    price = Order.limit_price.asc() if side is Side.BUY else Order.limit_price.desc()
    return (price, Order.id)


def refusal(new: NewOrder, order_id: int, price: int) -> Conflict:
    """The 409 for ``new`` crossing the league's live order ``order_id`` at ``price``."""
    opposite = Side.SELL if new.side is Side.BUY else Side.BUY
    return Conflict(
        f"{new.label} would cross your own live {opposite.value} order {order_id} at "
        f"{price} fen in this market (self-trade); cancel order {order_id} first",
        field="limit_price",
        code="self_trade",
        details={"conflicting_order_id": order_id},
    )


def _crossing_live_orders(
    session: Session, league: str, orders: Sequence[NewOrder]
) -> list[tuple[int, int, Side, int]]:
    """The live orders of ``league`` that some new order crosses (usually none), read
    after the league's entry lock is granted (PostgreSQL; see the module's docstring).
    Only crossing orders are read (not the league's whole book), so entry stays cheap
    however many live orders the league has.
    """
    # The most aggressive new order per (market, side) crosses whatever any other would.
    boldest = _extremes([(0, o.market_id, o.side, o.limit_price, "") for o in orders])
    crossing_any = or_(*(crossing(league, m, side, p) for (m, side), (p, *_) in boldest.items()))
    query = (
        select(Order.id, Order.market_id, Order.side, Order.limit_price)
        .where(crossing_any)
        .order_by(Order.id)
    )
    if session.get_bind().dialect.name == "postgresql":
        LOCK_ENTRIES.rows(session, {"league": league})
    return [(r[0], r[1], r[2], r[3]) for r in session.execute(query)]


def _extremes(
    entries: Sequence[tuple[int, int, Side, int, str]],
) -> dict[tuple[int, Side], tuple[int, int, str]]:
    """(market, side) -> the most aggressive (price, id, label): highest buy, lowest sell."""
    best: dict[tuple[int, Side], tuple[int, int, str]] = {}
    for ident, market_id, side, price, label in entries:
        key = (market_id, side)
        held = best.get(key)
        better = held is None or (price > held[0] if side is Side.BUY else price < held[0])
        if better:
            best[key] = (price, ident, label)
    return best


def check(session: Session, league: str, orders: Sequence[NewOrder]) -> None:
    """``Conflict`` (409) if one of ``orders`` crosses a live order of ``league`` or another."""
    markets = sorted({o.market_id for o in orders})
    rows = _crossing_live_orders(session, league, orders)
    live = _extremes([(r[0], r[1], r[2], r[3], f"order {r[0]}") for r in rows])
    for new in orders:
        opposite = Side.SELL if new.side is Side.BUY else Side.BUY
        found = live.get((new.market_id, opposite))
        if found is None:
            continue
        price, order_id, _label = found
        crosses = new.limit_price >= price if new.side is Side.BUY else new.limit_price <= price
        if crosses:
            raise refusal(new, order_id, price)
    batch = _extremes([(i, o.market_id, o.side, o.limit_price, o.label)
                       for i, o in enumerate(orders)])  # fmt: skip
    for market_id in markets:
        buy, sell = batch.get((market_id, Side.BUY)), batch.get((market_id, Side.SELL))
        if buy is not None and sell is not None and buy[0] >= sell[0]:
            raise Conflict(
                f"{buy[2]} would cross {sell[2]} of the same batch (self-trade)",
                field="orders",
                code="self_trade",
            )
