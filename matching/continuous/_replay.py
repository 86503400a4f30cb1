"""Replay of a recorded command sequence, and the JSON forms of the book's events."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from .._canon import canonical_bytes
from ._book import OrderBook
from ._values import (
    BookRules,
    Cancel,
    Cancelled,
    Depth,
    InvalidOrder,
    Level,
    LimitOrder,
    OutsideBand,
    Trade,
)


@dataclass(frozen=True, slots=True)
class Rejection:
    """A command the book refused (nothing changed): its position, the order id, the rule
    broken (:attr:`InvalidOrder.code`) and the message."""

    index: int
    id: str
    code: str
    message: str


@dataclass(frozen=True, slots=True)
class ReplayResult:
    """Everything a replay produced, in command order, and the final book."""

    trades: tuple[Trade, ...]
    cancelled: tuple[Cancelled, ...]
    rejected: tuple[Rejection, ...]
    depth: Depth
    best_bid: int | None
    best_ask: int | None
    state_hash: str

    def to_json(self) -> dict[str, Any]:
        return {
            "trades": [trade_to_json(t) for t in self.trades],
            "cancelled": [cancelled_to_json(c) for c in self.cancelled],
            "rejected": [
                {"index": r.index, "id": r.id, "code": r.code, "message": r.message}
                for r in self.rejected
            ],
            "depth": {
                "best_bid": self.best_bid,
                "best_ask": self.best_ask,
                **depth_to_json(self.depth),
            },
            "state_hash": self.state_hash,
        }

    def result_hash(self) -> str:
        """SHA-256 (hex) of the canonical JSON of :meth:`to_json`."""
        return hashlib.sha256(canonical_bytes(self.to_json())).hexdigest()


def replay(
    commands: Iterable[LimitOrder | Cancel],
    rules: BookRules | None = None,
    *,
    depth: int | None = 5,
    stop_on_reject: bool = False,
) -> ReplayResult:
    """Run ``commands`` in order through a fresh :class:`OrderBook`. A refused command is
    recorded in ``rejected`` (or re-raised with ``stop_on_reject``) and the replay goes on,
    exactly as the book went on when it was first refused. Same input, same output."""
    book = OrderBook(rules)
    trades: list[Trade] = []
    cancelled: list[Cancelled] = []
    rejected: list[Rejection] = []
    for i, cmd in enumerate(commands):
        try:
            if isinstance(cmd, LimitOrder):
                res = book.submit(cmd)
                trades.extend(res.trades)
                if res.cancelled is not None:
                    cancelled.append(res.cancelled)
            elif isinstance(cmd, Cancel):
                cancelled.append(book.cancel(cmd.id))
            else:
                raise TypeError(f"command {i}: expected LimitOrder or Cancel, got {cmd!r}")
        except InvalidOrder as exc:
            if stop_on_reject:
                raise
            rejected.append(Rejection(i, cmd.id, exc.code, exc.message))
    return ReplayResult(tuple(trades), tuple(cancelled), tuple(rejected), book.depth(depth),
                        book.best_bid(), book.best_ask(), book.state_hash())  # fmt: skip


def trade_to_json(t: Trade) -> dict[str, Any]:
    return {
        "number": t.number,
        "seq": t.seq,
        "buy_id": t.buy_id,
        "sell_id": t.sell_id,
        "buyer": t.buyer,
        "seller": t.seller,
        "price": t.price,
        "quantity": t.quantity,
        "aggressor": t.aggressor.value,
    }


def cancelled_to_json(c: Cancelled) -> dict[str, Any]:
    return {
        "id": c.id,
        "participant": c.participant,
        "side": c.side.value,
        "price": c.price,
        "quantity": c.quantity,
        "reason": c.reason.value,
        "against": c.against,
    }


def _levels(levels: tuple[Level, ...]) -> list[dict[str, int]]:
    return [{"price": lv.price, "quantity": lv.quantity, "orders": lv.orders} for lv in levels]


def depth_to_json(d: Depth) -> dict[str, Any]:
    return {"bids": _levels(d.bids), "asks": _levels(d.asks)}


def rejection_detail(exc: InvalidOrder) -> dict[str, Any]:
    """The fields of a refusal for an error body: code, message, field, and the band."""
    out: dict[str, Any] = {"code": exc.code, "message": exc.message, "field": exc.field}
    if isinstance(exc, OutsideBand):
        out["band"] = {"low": exc.low, "high": exc.high}
    return out
