"""Price-time priority limit order book (continuous trading).

Each side keeps its price levels in a dict (key -> level) and the keys in a sorted list, best
last; a level is a deque of resting orders in arrival order. Keys are ``price`` for bids and
``-price`` for asks, so the best level of either side is ``keys[-1]``. Cancelled orders are
only marked (quantity 0) and dropped when they reach the front of their level, when the level
empties, or when a level holds more dead than live entries. A dict by id finds an order to
cancel. The book object is mutable; everything it returns is an immutable value.
"""

from __future__ import annotations

import hashlib
from bisect import bisect_left, insort
from collections import deque
from collections.abc import Iterable, Iterator
from typing import Any

from .._canon import canonical_bytes
from .._types import Side
from ._values import (
    BookRules,
    Cancelled,
    CancelReason,
    Depth,
    InvalidOrder,
    Level,
    LimitOrder,
    OutsideBand,
    RestingOrder,
    SubmitResult,
    Trade,
    UnknownOrder,
)

_BUY = Side.BUY
_SELL = Side.SELL


class _Entry:
    """A resting order (internal, mutable)."""

    __slots__ = ("id", "participant", "price", "quantity", "seq", "side")

    def __init__(self, o: LimitOrder, quantity: int) -> None:
        self.id = o.id
        self.participant = o.participant
        self.side = o.side
        self.price = o.price
        self.quantity = quantity
        self.seq = o.seq


class _Level:
    __slots__ = ("dead", "live", "orders", "price", "quantity")

    def __init__(self, price: int) -> None:
        self.price = price
        self.orders: deque[_Entry] = deque()
        self.quantity = 0  # live quantity
        self.live = 0  # live orders
        self.dead = 0  # cancelled entries still in the deque


class _Side:
    __slots__ = ("keys", "levels", "sign")

    def __init__(self, sign: int) -> None:
        self.sign = sign  # key = sign * price; best key is keys[-1]
        self.keys: list[int] = []
        self.levels: dict[int, _Level] = {}

    def add(self, e: _Entry) -> None:
        key = self.sign * e.price
        level = self.levels.get(key)
        if level is None:
            level = self.levels[key] = _Level(e.price)
            insort(self.keys, key)
        level.orders.append(e)
        level.quantity += e.quantity
        level.live += 1

    def drop_level(self, key: int) -> None:
        del self.levels[key]
        keys = self.keys
        if keys[-1] == key:
            keys.pop()
        else:
            del keys[bisect_left(keys, key)]

    def top(self, n: int | None) -> tuple[Level, ...]:
        keys = self.keys if n is None else self.keys[-n:] if n > 0 else []
        return tuple(
            Level(lv.price, lv.quantity, lv.live) for lv in (self.levels[k] for k in reversed(keys))
        )

    def entries(self) -> Iterator[_Entry]:
        """Live entries in priority order (best price first, then arrival)."""
        for k in reversed(self.keys):
            for e in self.levels[k].orders:
                if e.quantity:
                    yield e


class OrderBook:
    """A continuous limit order book with price-time priority and self-trade prevention.

    ``submit`` matches an incoming limit order at entry against the opposite side, at the
    resting orders' prices, best price first and, within a price, in arrival order; the
    remainder rests. Self-trade prevention ("cancel newest"): when the next resting order the
    incoming order would trade with belongs to the same participant, matching stops, the
    trades already made stand, and the incoming order's remainder is cancelled (reported in
    ``SubmitResult.cancelled``); the resting order is left untouched.
    """

    def __init__(self, rules: BookRules | None = None) -> None:
        self.rules = rules if rules is not None else BookRules()
        if not isinstance(self.rules, BookRules):
            raise TypeError("rules must be BookRules")
        self._bids = _Side(1)
        self._asks = _Side(-1)
        self._live: dict[str, _Entry] = {}
        self._ids: set[str] = set()
        self.last_seq: int | None = None
        self.trade_count = 0

    # --- order entry ---------------------------------------------------------------------

    def check(self, order: LimitOrder) -> None:
        """Raise :class:`InvalidOrder` if the book would refuse ``order`` (checked in this
        order: lot, tick, band, seq, duplicate id); change nothing."""
        if not isinstance(order, LimitOrder):
            raise TypeError(f"expected a LimitOrder, got {type(order).__name__}")
        rules = self.rules
        oid = order.id
        if order.quantity % rules.lot:
            raise InvalidOrder(
                f"order {oid!r}: quantity {order.quantity} is not a multiple of the lot "
                f"({rules.lot})", code="lot", order_id=oid, field="quantity",
            )  # fmt: skip
        if order.price % rules.tick:
            raise InvalidOrder(
                f"order {oid!r}: price {order.price} is not on the tick grid "
                f"(tick {rules.tick})", code="tick", order_id=oid, field="price",
            )  # fmt: skip
        band = rules.band
        if band is not None and not band.low <= order.price <= band.high:
            raise OutsideBand(
                f"order {oid!r}: price {order.price} is outside the price band "
                f"[{band.low}, {band.high}]", order_id=oid, low=band.low, high=band.high,
            )  # fmt: skip
        if self.last_seq is not None and order.seq <= self.last_seq:
            raise InvalidOrder(
                f"order {oid!r}: seq {order.seq} must be greater than the last accepted "
                f"seq {self.last_seq}", code="seq", order_id=oid, field="seq",
            )  # fmt: skip
        if oid in self._ids:
            raise InvalidOrder(f"order id {oid!r} was already used in this book",
                               code="duplicate_id", order_id=oid, field="id")  # fmt: skip

    def submit(self, order: LimitOrder) -> SubmitResult:
        """Match ``order`` at entry and rest the remainder; raise :class:`InvalidOrder`
        (nothing changed) if it is refused."""
        self.check(order)
        self._ids.add(order.id)
        self.last_seq = order.seq
        is_buy = order.side is _BUY
        opp = self._asks if is_buy else self._bids
        keys, levels = opp.keys, opp.levels
        limit_key = opp.sign * order.price
        remaining = order.quantity
        participant = order.participant
        trades: list[Trade] = []
        blocker: _Entry | None = None
        while remaining and keys and keys[-1] >= limit_key:
            key = keys[-1]
            level = levels[key]
            q = level.orders
            while True:
                head = q[0]
                if not head.quantity:
                    q.popleft()
                    level.dead -= 1
                    continue
                if head.participant == participant:
                    blocker = head
                    break
                fill = head.quantity if head.quantity < remaining else remaining
                self.trade_count += 1
                if is_buy:
                    ids, who = (order.id, head.id), (participant, head.participant)
                else:
                    ids, who = (head.id, order.id), (head.participant, participant)
                trades.append(
                    Trade(self.trade_count, order.seq, *ids, *who, level.price, fill, order.side)
                )
                head.quantity -= fill
                level.quantity -= fill
                remaining -= fill
                if not head.quantity:
                    q.popleft()
                    level.live -= 1
                    del self._live[head.id]
                    if not level.live:
                        opp.drop_level(key)
                        break
                if not remaining:
                    break
            if blocker is not None:
                break
        cancelled = None
        resting = 0
        if blocker is not None:
            cancelled = Cancelled(order.id, participant, order.side, order.price, remaining,
                                  CancelReason.SELF_TRADE, blocker.id)  # fmt: skip
        elif remaining:
            e = _Entry(order, remaining)
            (self._bids if is_buy else self._asks).add(e)
            self._live[order.id] = e
            resting = remaining
        return SubmitResult(order, tuple(trades), resting, cancelled)

    def cancel(self, order_id: str) -> Cancelled:
        """Withdraw the rest of a resting order; raise :class:`UnknownOrder` if ``order_id``
        is not resting (never submitted, filled, or cancelled already)."""
        e = self._live.pop(order_id, None) if isinstance(order_id, str) else None
        if e is None:
            raise UnknownOrder(str(order_id))
        side = self._bids if e.side is _BUY else self._asks
        key = side.sign * e.price
        level = side.levels[key]
        qty = e.quantity
        e.quantity = 0
        level.quantity -= qty
        level.live -= 1
        if not level.live:
            side.drop_level(key)
        else:
            level.dead += 1
            if level.dead > level.live + 8:
                level.orders = deque(x for x in level.orders if x.quantity)
                level.dead = 0
        return Cancelled(e.id, e.participant, e.side, e.price, qty, CancelReason.REQUESTED)

    # --- market data and state -----------------------------------------------------------

    def best_bid(self) -> int | None:
        keys = self._bids.keys
        return keys[-1] if keys else None

    def best_ask(self) -> int | None:
        keys = self._asks.keys
        return -keys[-1] if keys else None

    def depth(self, levels: int | None = 5) -> Depth:
        """The best ``levels`` aggregated price levels per side (``None``: all)."""
        if levels is not None and (isinstance(levels, bool) or levels < 0):
            raise ValueError("levels must be >= 0 or None")
        return Depth(self._bids.top(levels), self._asks.top(levels))

    def orders(self, side: Side | None = None) -> Iterator[RestingOrder]:
        """Resting orders in priority order: bids best first, then asks best first."""
        sides = [self._bids, self._asks] if side is None else [
            self._bids if Side(side) is _BUY else self._asks]  # fmt: skip
        for s in sides:
            for e in s.entries():
                yield RestingOrder(e.id, e.participant, e.side, e.price, e.quantity, e.seq)

    def get(self, order_id: str) -> RestingOrder | None:
        e = self._live.get(order_id)
        if e is None:
            return None
        return RestingOrder(e.id, e.participant, e.side, e.price, e.quantity, e.seq)

    def __len__(self) -> int:
        return len(self._live)

    def state(self) -> dict[str, Any]:
        """The book's state as canonical JSON data (the input of :meth:`state_hash`)."""
        band = self.rules.band

        def rows(s: _Side) -> list[list[Any]]:
            return [[e.id, e.participant, e.price, e.quantity, e.seq] for e in s.entries()]

        return {
            "rules": {
                "lot": self.rules.lot,
                "tick": self.rules.tick,
                "band": None if band is None else {"low": band.low, "high": band.high},
            },
            "last_seq": self.last_seq,
            "trades": self.trade_count,
            "bids": rows(self._bids),
            "asks": rows(self._asks),
        }

    def state_hash(self) -> str:
        """SHA-256 (hex) of the canonical JSON of :meth:`state`: the rules, the last seq, the
        number of trades and every resting order in priority order."""
        return hashlib.sha256(canonical_bytes(self.state())).hexdigest()

    def verify(self) -> None:
        """Check the internal invariants; raise ``AssertionError`` on a broken one (a bug)."""
        seen = 0
        for s in (self._bids, self._asks):
            if s.keys != sorted(s.levels) or len(set(s.keys)) != len(s.keys):
                raise AssertionError("level keys out of order")
            for k, lv in s.levels.items():
                live = [e for e in lv.orders if e.quantity]
                if k != s.sign * lv.price or not live or len(live) != lv.live:
                    raise AssertionError(f"level {lv.price}: bad key or live count")
                if sum(e.quantity for e in live) != lv.quantity:
                    raise AssertionError(f"level {lv.price}: quantity mismatch")
                if len(lv.orders) - len(live) != lv.dead:
                    raise AssertionError(f"level {lv.price}: dead count mismatch")
                if any(e.price != lv.price or self._live.get(e.id) is not e for e in live):
                    raise AssertionError(f"level {lv.price}: entry not indexed")
                if [e.seq for e in live] != sorted(e.seq for e in live):
                    raise AssertionError(f"level {lv.price}: time priority broken")
                seen += len(live)
        if seen != len(self._live):
            raise AssertionError("id index holds orders that are not in a level")
        bid, ask = self.best_bid(), self.best_ask()
        if bid is not None and ask is not None and bid >= ask:
            raise AssertionError(f"crossed book: bid {bid} >= ask {ask}")

    @classmethod
    def restore(
        cls,
        rules: BookRules,
        resting: Iterable[RestingOrder],
        *,
        last_seq: int | None = None,
        trade_count: int = 0,
        used_ids: Iterable[str] = (),
    ) -> OrderBook:
        """Rebuild a book from its resting orders (e.g. loaded from a database), placed in
        ``seq`` order. Raises :class:`InvalidOrder` if they break the rules or cross, and
        ``ValueError`` for duplicate ids or a ``seq`` above ``last_seq``."""
        book = cls(rules)
        for r in sorted(resting, key=lambda r: r.seq):
            o = LimitOrder(r.id, r.participant, r.side, r.quantity, r.price, r.seq)
            res = book.submit(o)
            if res.trades or res.cancelled is not None:
                raise InvalidOrder(f"order {r.id!r} crosses the book", code="crossed",
                                   order_id=r.id)  # fmt: skip
        if last_seq is not None:
            if book.last_seq is not None and book.last_seq > last_seq:
                raise ValueError(f"a resting order has a seq above last_seq {last_seq}")
            book.last_seq = last_seq
        book._ids.update(used_ids)
        book.trade_count = trade_count
        return book
