"""A naive continuous order book: one list of resting orders, scanned linearly.

Obviously correct rather than fast: the best opposite order is found by ``min`` over every
resting order with the key (price for asks / minus price for bids, seq). Used as the oracle of
the property tests of ``matching.continuous.OrderBook``.
"""

from __future__ import annotations

from dataclasses import dataclass

# (number, seq, buy_id, sell_id, buyer, seller, price, quantity, aggressor)
RefTrade = tuple[int, int, str, str, str, str, int, int, str]


@dataclass
class RefOrder:
    id: str
    participant: str
    side: str
    price: int
    quantity: int
    seq: int


@dataclass
class RefOutcome:
    trades: list[RefTrade]
    resting: int
    stp_cancelled: int  # remainder cancelled by self-trade prevention (0 if none)
    stp_against: str | None


class RefBook:
    def __init__(self, lot: int = 1, tick: int = 1, band: tuple[int, int] | None = None):
        self.lot, self.tick, self.band = lot, tick, band
        self.resting: list[RefOrder] = []
        self.used: set[str] = set()
        self.last_seq: int | None = None
        self.count = 0

    def refusal(self, oid: str, qty: int, price: int, seq: int) -> str | None:
        """The code of the first rule broken, in the documented order, or None."""
        if qty % self.lot:
            return "lot"
        if price % self.tick:
            return "tick"
        if self.band is not None and not self.band[0] <= price <= self.band[1]:
            return "band"
        if self.last_seq is not None and seq <= self.last_seq:
            return "seq"
        if oid in self.used:
            return "duplicate_id"
        return None

    def submit(
        self, oid: str, who: str, side: str, qty: int, price: int, seq: int
    ) -> RefOutcome | str:
        code = self.refusal(oid, qty, price, seq)
        if code is not None:
            return code
        self.used.add(oid)
        self.last_seq = seq
        trades: list[RefTrade] = []
        left = qty
        while left:
            if side == "buy":
                crossing = [r for r in self.resting if r.side == "sell" and r.price <= price]
                key = lambda r: (r.price, r.seq)  # noqa: E731
            else:
                crossing = [r for r in self.resting if r.side == "buy" and r.price >= price]
                key = lambda r: (-r.price, r.seq)  # noqa: E731
            if not crossing:
                break
            best = min(crossing, key=key)
            if best.participant == who:
                return RefOutcome(trades, 0, left, best.id)
            n = min(left, best.quantity)
            self.count += 1
            if side == "buy":
                trades.append((self.count, seq, oid, best.id, who, best.participant,
                               best.price, n, side))  # fmt: skip
            else:
                trades.append((self.count, seq, best.id, oid, best.participant, who,
                               best.price, n, side))  # fmt: skip
            best.quantity -= n
            left -= n
            if best.quantity == 0:
                self.resting.remove(best)
        if left:
            self.resting.append(RefOrder(oid, who, side, price, left, seq))
        return RefOutcome(trades, left, 0, None)

    def cancel(self, oid: str) -> int | str:
        for r in self.resting:
            if r.id == oid:
                self.resting.remove(r)
                return r.quantity
        return "unknown_order"

    def depth(self) -> tuple[list[tuple[int, int, int]], list[tuple[int, int, int]]]:
        """All levels (price, quantity, orders): bids descending, asks ascending."""
        out = []
        for side, rev in (("buy", True), ("sell", False)):
            levels: dict[int, list[int]] = {}
            for r in self.resting:
                if r.side == side:
                    lv = levels.setdefault(r.price, [0, 0])
                    lv[0] += r.quantity
                    lv[1] += 1
            out.append([(p, q, n) for p, (q, n) in sorted(levels.items(), reverse=rev)])
        return out[0], out[1]
