"""Canonical JSON forms of books and results, and their SHA-256 hashes.

Canonical JSON = ``json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=True)``
encoded as UTF-8. Orders are listed sorted by id, links sorted by (from, to), zones sorted;
fills sorted by id and flows by (from, to) as in :class:`ClearingResult`. The objects are the
CLI's input and output formats (see docs/matching.md), so ``book_hash`` of a parsed BOOK.json
equals the hash of its canonical re-serialisation.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from typing import Any

from ._types import ClearingResult, Flow, Link, Order, Rules, Side


def rules_to_json(rules: Rules) -> dict[str, Any]:
    out: dict[str, Any] = {
        "lot": rules.lot,
        "tick": rules.tick,
        "price_floor": rules.price_floor,
        "price_ceiling": rules.price_ceiling,
        "reference_price": rules.reference_price,
    }
    if rules.zonal:
        out["links"] = [
            _link_to_json(lk)
            for lk in sorted(rules.links, key=lambda lk: (lk.from_zone, lk.to_zone))
        ]
    if rules.zones is not None:
        out["zones"] = sorted(rules.zones)
    return out


def _link_to_json(lk: Link) -> dict[str, Any]:
    out: dict[str, Any] = {"from": lk.from_zone, "to": lk.to_zone, "capacity": lk.capacity}
    if lk.loss:  # absent when 0: books without losses keep their hashes
        out["loss"] = lk.loss
    return out


def _flow_to_json(f: Flow) -> dict[str, Any]:
    out: dict[str, Any] = {"from": f.from_zone, "to": f.to_zone, "quantity": f.quantity}
    if f.received is not None:  # only on links with a loss
        out["received"] = f.received
    return out


_SIDE_TEXT = {side: side.value for side in Side}  # a dict lookup; Enum's .value is a property


def order_to_json(order: Order, *, zonal: bool = True) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": order.id,
        "side": _SIDE_TEXT[order.side],
        "quantity": order.quantity,
        "price": order.price,
        "seq": order.seq,
    }
    if zonal or order.zone is not None:
        out["zone"] = order.zone
    return out


def book_to_json(orders: Iterable[Order], rules: Rules) -> dict[str, Any]:
    return {
        "rules": rules_to_json(rules),
        "orders": [order_to_json(o) for o in sorted(orders, key=lambda o: o.id)],
    }


def result_to_json(result: ClearingResult) -> dict[str, Any]:
    out: dict[str, Any] = {"price": result.price}
    if result.zone_prices is not None:
        out["zone_prices"] = dict(result.zone_prices)
    out["volume"] = result.volume
    out["fills"] = [{"id": f.id, "quantity": f.quantity, "price": f.price} for f in result.fills]
    out["flows"] = [_flow_to_json(f) for f in result.flows]
    return out


def canonical_bytes(obj: Any) -> bytes:
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=True).encode()


def book_hash(orders: Iterable[Order], rules: Rules) -> str:
    """SHA-256 (hex) of the canonical JSON of the book: independent of the order of input."""
    return hashlib.sha256(canonical_bytes(book_to_json(orders, rules))).hexdigest()


def result_hash(result: ClearingResult) -> str:
    """SHA-256 (hex) of the canonical JSON of the result (the CLI output)."""
    return hashlib.sha256(canonical_bytes(result_to_json(result))).hexdigest()
