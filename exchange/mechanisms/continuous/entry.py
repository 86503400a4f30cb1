"""Matching at entry: an order of a continuous market trades against the resting book.

Runs inside the order's unit of work, after the order row and its hold exist
(:func:`exchange.mechanisms.after_order_entered`). Under the market's row lock
(taken first, at entry, by :meth:`Continuous.lock_for_entry`, so entries of one market
serialise on both databases without a lock cycle):

1. session, price band and T+1 are checked (a refusal rolls the order back);
2. cancels since the last entry are recorded, then the order, each with the market's
   next ``seq`` (the recorded order flow that ``replay-session`` re-runs);
3. the opposite side that can trade (prices within the limit, in priority order) is
   loaded into a :class:`matching.continuous.OrderBook` and the order submitted: every
   trade is at the resting order's price;
4. each trade is settled delivery versus payment through the ledger (two fills against
   the clearing house, drawn from both orders' holds), recorded in ``continuous_trades``
   and as two fills in ``trades``; both orders' filled quantities and statuses follow.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from sqlalchemy import and_, exists, func, select
from sqlalchemy.orm import Session, aliased

import ledger
from exchange.errors import Conflict
from exchange.mechanisms.continuous import rules, sessions
from exchange.mechanisms.continuous.settle import settle_trades
from exchange.models import Market
from exchange.models.base import utcnow
from exchange.models.continuous import ContinuousEvent
from exchange.models.trading import LIVE_STATUSES, Order, OrderStatus, Side, Validity
from matching import Side as BookSide
from matching.continuous import BookRules, LimitOrder, OrderBook, RestingOrder, SubmitResult

MECHANISM = "continuous"
ATTEMPTS = 5
PAGE = 64
"""Candidate makers read per statement."""


@dataclass(frozen=True)
class _Candidates:
    makers: dict[int, Order]
    seqs: dict[int, int]


def enter(session: Session, order: Order, *, actor: str) -> SubmitResult:
    """Check, record and match ``order`` (already inserted, its hold placed)."""
    market = rules.lock_market(session, order.market_id)
    now = utcnow()
    day = sessions.trading_day(now)
    rules.check_session(market, now)
    rules.check_band(
        rules.band_of(market, rules.previous_close(session, market, day)), order.limit_price
    )
    rules.check_t_plus_one(session, order, day)
    candidates, result = _match(session, market, order)
    seq = record_cancels(session, market.id, day)
    seq += 1
    session.add(_event(market.id, seq, day, "order", order, order.quantity))
    # The book numbered the order with a placeholder seq; trades carry the real one.
    settle_trades(session, market, order, candidates.makers, result, seq=seq, day=day, actor=actor)
    rest = result.resting if result.cancelled is None else 0
    if result.cancelled is not None or (rest and order.validity is Validity.SINGLE_RUN):
        # Self-trade prevention, or an immediate-or-cancel order: the rest is withdrawn.
        _withdraw(session, order, actor=actor)
        seq += 1
        session.add(_event(market.id, seq, day, "cancel", order, order.remaining_quantity))
    return result


def last_seq(session: Session, market_id: int) -> int:
    """The market's latest recorded seq (0 before the first)."""
    found = session.scalar(
        select(func.max(ContinuousEvent.seq)).where(ContinuousEvent.market_id == market_id)
    )
    return int(found or 0)


def record_cancels(session: Session, market_id: int, day: date) -> int:
    """Record, in cancel time order, the orders that left the book by a cancel since the
    last entry; returns the last seq. Cancels between two entries commute, so recording
    them just before the next entry gives that entry the book it traded against."""
    seq = last_seq(session, market_id)
    placed = aliased(ContinuousEvent)
    cancel = aliased(ContinuousEvent)
    gone = session.scalars(
        select(Order)
        .join(placed, and_(placed.order_id == Order.id, placed.kind == "order"))
        .where(
            Order.market_id == market_id,
            Order.status.in_((OrderStatus.CANCELLED, OrderStatus.EXPIRED)),
            ~exists().where(cancel.order_id == Order.id, cancel.kind == "cancel"),
        )
        .order_by(Order.updated_at, Order.id)
    ).all()
    for order in gone:
        seq += 1
        session.add(_event(market_id, seq, day, "cancel", order, order.remaining_quantity))
    if gone:
        session.flush()
    return seq


def _event(
    market_id: int, seq: int, day: date, kind: str, order: Order, quantity: int
) -> ContinuousEvent:
    return ContinuousEvent(
        market_id=market_id,
        seq=seq,
        day=day,
        kind=kind,
        order_id=order.id,
        league=order.league_code,
        side=order.side.value,
        quantity=quantity,
        price=order.limit_price,
        recorded_at=utcnow(),
    )


def _match(session: Session, market: Market, order: Order) -> tuple[_Candidates, SubmitResult]:
    """Submit ``order`` to a book of the resting orders it can trade with; the makers it
    touches are locked and checked unchanged (a concurrent cancel: try again)."""
    for _attempt in range(ATTEMPTS):
        candidates = _candidates(session, market, order)
        if not _unchanged(candidates):
            continue
        resting = [
            RestingOrder(
                str(o.id),
                o.league_code,
                BookSide(o.side.value),
                o.limit_price,
                o.remaining_quantity,
                candidates.seqs[o.id],
            )
            for o in candidates.makers.values()
        ]
        top = max(candidates.seqs.values(), default=0)
        book = OrderBook.restore(BookRules(lot=market.lot, tick=market.tick), resting, last_seq=top)
        result = book.submit(
            LimitOrder(
                str(order.id),
                order.league_code,
                BookSide(order.side.value),
                order.quantity,
                order.limit_price,
                top + 1,
            )
        )
        return candidates, result
    raise Conflict(
        "the book changed while this order was matched; try again",
        field="market_id",
        code="busy",
    )


def _candidates(session: Session, market: Market, order: Order) -> _Candidates:
    """Resting orders of the other side at prices the order accepts, best first, as many
    as can fill it (time priority: recorded seq)."""
    buy = order.side is Side.BUY
    price_ok = (
        Order.limit_price <= order.limit_price if buy else Order.limit_price >= order.limit_price
    )
    query = (
        select(Order.id, Order.quantity - Order.filled_quantity, ContinuousEvent.seq)
        .join(
            ContinuousEvent,
            and_(ContinuousEvent.order_id == Order.id, ContinuousEvent.kind == "order"),
        )
        .where(
            Order.market_id == market.id,
            Order.side == (Side.SELL if buy else Side.BUY),
            Order.status.in_(LIVE_STATUSES),
            Order.id != order.id,
            price_ok,
        )
        .order_by(Order.limit_price.asc() if buy else Order.limit_price.desc(), ContinuousEvent.seq)
    )
    chosen: dict[int, int] = {}
    total = offset = 0
    while total < order.quantity:  # in pages: a deep book is not read past what can fill
        rows = session.execute(query.offset(offset).limit(PAGE)).all()
        for ident, remaining, seq in rows:
            if total >= order.quantity:
                break
            chosen[ident] = seq
            total += remaining
        if len(rows) < PAGE:
            break
        offset += PAGE
    makers = _load(session, sorted(chosen))
    return _Candidates({i: makers[i] for i in chosen if i in makers}, chosen)


def _load(session: Session, ids: Sequence[int]) -> dict[int, Order]:
    if not ids:
        return {}
    found = session.scalars(
        select(Order)
        .where(Order.id.in_(list(ids)))
        .order_by(Order.id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).all()
    return {o.id: o for o in found}


def _unchanged(candidates: _Candidates) -> bool:
    """Every chosen maker is still live once locked (a cancel that committed between the
    read and the lock shows here: read again)."""
    makers = candidates.makers
    return all(i in makers and makers[i].status in LIVE_STATUSES for i in candidates.seqs)


def _withdraw(session: Session, order: Order, *, actor: str) -> None:
    if order.hold_id is not None:
        ledger.release_hold(
            session,
            order.hold_id,
            actor=actor,
            reference=f"order:{order.id}/cancel",
            chain=ledger.market_asset(order.market_id),
        )
    order.status = OrderStatus.CANCELLED
    order.updated_at = utcnow()
