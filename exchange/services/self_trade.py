"""Self-trade prevention: a league's new order may not cross its own live order.

A league's buy and sell that cross in one market would trade with each other
in the next run and set a public price at no cost. The exchange refuses the
newest order at entry (the "cancel newest" rule of exchanges): 409 naming the
live order it would cross; the league cancels that one first if it means to.
In a batch, an order crossing another order of the same batch is refused too
(the whole batch, as batches are all or nothing). A buy crosses a sell of the
same market when its limit is at or above the sell's.

Entry takes a row lock on the league (``FOR UPDATE``) before looking, so two
concurrent entries of one league cannot both pass; clearing never locks
leagues, so this adds no lock cycle.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from exchange import mechanisms
from exchange.errors import Conflict
from exchange.models import League
from exchange.models.trading import LIVE_STATUSES, Order, Side


@dataclass(frozen=True)
class NewOrder:
    """The parts of an order entry that decide whether it crosses."""

    market_id: int
    side: Side
    limit_price: int
    label: str = "the order"


def lock_league(session: Session, league: str) -> None:
    """Serialise order entry of ``league`` (a row lock on the league until commit)."""
    session.execute(select(League.code).where(League.code == league).with_for_update())


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
    lock_league(session, league)
    markets = sorted({o.market_id for o in orders})
    mechanisms.lock_for_entry(session, markets)  # then the markets' locks (continuous)
    rows = session.execute(
        select(Order.id, Order.market_id, Order.side, Order.limit_price)
        .where(
            Order.league_code == league,
            Order.market_id.in_(markets),
            Order.status.in_(LIVE_STATUSES),
        )
        .order_by(Order.id)
    ).all()
    live = _extremes([(r[0], r[1], r[2], r[3], f"order {r[0]}") for r in rows])
    for new in orders:
        opposite = Side.SELL if new.side is Side.BUY else Side.BUY
        found = live.get((new.market_id, opposite))
        if found is None:
            continue
        price, order_id, _label = found
        crosses = new.limit_price >= price if new.side is Side.BUY else new.limit_price <= price
        if crosses:
            raise Conflict(
                f"{new.label} would cross your own live {opposite.value} order {order_id} at "
                f"{price} fen in this market (self-trade); cancel order {order_id} first",
                field="limit_price",
                code="self_trade",
                details={"conflicting_order_id": order_id},
            )
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
