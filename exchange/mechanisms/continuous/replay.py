"""Replay of a continuous market's session: the recorded order flow re-run through the book.

Every order and cancel went through the book in ``seq`` order (``continuous_events``).
Re-running the events up to the end of a day through a fresh
:class:`matching.continuous.OrderBook` (the days before rebuild the book the day started
with) must give the day's recorded listed trades exactly: same aggressing seq, same
orders, same price and quantity, in the same order.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from exchange.mechanisms.continuous.market_data import continuous_market
from exchange.models.continuous import ContinuousEvent, ContinuousTrade
from matching import Side as BookSide
from matching.continuous import BookRules, Cancel, LimitOrder, replay

TradeKey = tuple[int, int, int, int, int]
"""(seq, buy order id, sell order id, price, quantity)."""


@dataclass(frozen=True)
class SessionReplay:
    """The outcome of a replay of one market's day."""

    market_id: int
    day: date
    events: int
    recorded: list[TradeKey]
    replayed: list[TradeKey]
    result_hash: str
    differences: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.differences


def replay_session(session: Session, market_id: int, day: date) -> SessionReplay:
    """Re-run the market's events up to the end of ``day``; compare that day's trades."""
    market = continuous_market(session, market_id)
    events = session.scalars(
        select(ContinuousEvent)
        .where(ContinuousEvent.market_id == market.id, ContinuousEvent.day <= day)
        .order_by(ContinuousEvent.seq)
    ).all()
    commands: list[LimitOrder | Cancel] = [
        Cancel(str(e.order_id))
        if e.kind == "cancel"
        else LimitOrder(str(e.order_id), e.league, BookSide(e.side), e.quantity, e.price, e.seq)
        for e in events
    ]
    seqs_of_day = {e.seq for e in events if e.day == day}
    result = replay(commands, BookRules(lot=market.lot, tick=market.tick))
    replayed = [
        (t.seq, int(t.buy_id), int(t.sell_id), t.price, t.quantity)
        for t in result.trades
        if t.seq in seqs_of_day
    ]
    rows = session.scalars(
        select(ContinuousTrade)
        .where(
            ContinuousTrade.market_id == market.id,
            ContinuousTrade.day == day,
            ContinuousTrade.kind == "listed",
        )
        .order_by(ContinuousTrade.seq, ContinuousTrade.number)
    ).all()
    recorded = [
        (r.seq, r.buy_order_id or 0, r.sell_order_id or 0, r.price, r.quantity) for r in rows
    ]
    return SessionReplay(
        market.id,
        day,
        len(events),
        recorded,
        replayed,
        result.result_hash(),
        _differences(recorded, replayed),
    )


def _differences(recorded: list[TradeKey], replayed: list[TradeKey]) -> list[str]:
    out = []
    for index in range(max(len(recorded), len(replayed))):
        a = recorded[index] if index < len(recorded) else None
        b = replayed[index] if index < len(replayed) else None
        if a != b:
            out.append(f"trade {index + 1}: recorded {a}, replayed {b}")
    return out
