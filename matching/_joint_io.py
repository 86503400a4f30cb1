"""JSON forms of joint books and results (the ``clear-joint`` CLI formats) and their hashes.

Canonical JSON and SHA-256 as in :mod:`matching._canon`: markets by code, orders and fills by
id, bundles by id, legs by market.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from ._bundle import ALL_OR_NOTHING, Bundle, BundleLeg, JointResult
from ._canon import book_to_json, canonical_bytes
from ._types import InvalidBook, Order, Rules

Markets = dict[str, tuple[list[Order], Rules]]
ParseBook = Callable[[Any], tuple[list[Order], Rules]]


def _need(doc: dict[str, Any], key: str, label: str, bid: str | None = None) -> Any:
    if key not in doc:
        raise InvalidBook(f"{label}: missing field {key!r}", order_id=bid, field=key)
    return doc[key]


def _parse_bundle(i: int, bd: Any) -> Bundle:
    if not isinstance(bd, dict):
        raise InvalidBook(f"bundles[{i}] must be an object", field="bundles")
    label = f"bundles[{i}]" + (f" (id {bd['id']!r})" if "id" in bd else "")
    bid = bd.get("id") if isinstance(bd.get("id"), str) else None
    for key in ("id", "side", "legs", "limit"):
        _need(bd, key, label, bid)
    legs_doc = bd["legs"]
    if not isinstance(legs_doc, list):
        raise InvalidBook(f"{label}: legs must be a list", order_id=bid, field="legs")
    legs = []
    for j, ld in enumerate(legs_doc):
        if not isinstance(ld, dict):
            raise InvalidBook(f"{label}: legs[{j}] must be an object", order_id=bid, field="legs")
        legs.append(BundleLeg(_need(ld, "market", f"{label} legs[{j}]", bid),
                              _need(ld, "quantity", f"{label} legs[{j}]", bid)))  # fmt: skip
    seq = bd.get("seq")
    ratio = bd.get("min_ratio")
    try:
        return Bundle(bd["id"], bd["side"], legs, bd["limit"], i if seq is None else seq,
                      ALL_OR_NOTHING if ratio is None else ratio)  # fmt: skip
    except InvalidBook as exc:
        raise InvalidBook(f"{label}: {exc.message}", order_id=bid, field=exc.field) from None


def parse_joint(doc: Any, parse_book: ParseBook) -> tuple[Markets, list[Bundle]]:
    """Markets and bundles of the ``clear-joint`` input; each market's ``{"rules", "orders"}``
    is read by ``parse_book`` (the ``clear`` format) and must be single-zone."""
    if not isinstance(doc, dict):
        raise InvalidBook("the joint book must be a JSON object with 'markets' and 'bundles'")
    mdoc = doc.get("markets")
    if not isinstance(mdoc, dict):
        raise InvalidBook("'markets' must be an object of market code -> book", field="markets")
    markets: Markets = {}
    for code, book in mdoc.items():
        if not code:
            raise InvalidBook("market codes must be non-empty", field="markets")
        if isinstance(book, dict) and isinstance(book.get("rules"), dict):
            rules_doc = book["rules"]
            if rules_doc.get("links") is not None or rules_doc.get("zones") is not None:
                raise InvalidBook(f"market {code!r}: joint clearing takes single-zone markets "
                                  "(no links or zones)", field="rules.links")  # fmt: skip
        try:
            markets[code] = parse_book(book)
        except InvalidBook as exc:
            raise InvalidBook(f"market {code!r}: {exc.message}", order_id=exc.order_id,
                              field=exc.field) from None  # fmt: skip
    bdoc = doc.get("bundles", [])
    if bdoc is None:
        bdoc = []
    if not isinstance(bdoc, list):
        raise InvalidBook("'bundles' must be a list", field="bundles")
    return markets, [_parse_bundle(i, bd) for i, bd in enumerate(bdoc)]


def bundle_to_json(b: Bundle) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": b.id,
        "side": b.side.value,
        "legs": [{"market": leg.market, "quantity": leg.quantity} for leg in b.legs],
        "limit": b.limit,
        "seq": b.seq,
    }
    if b.min_ratio != ALL_OR_NOTHING:
        out["min_ratio"] = b.min_ratio
    return out


def joint_book_to_json(
    markets: Mapping[str, tuple[Iterable[Order], Rules]], bundles: Iterable[Bundle]
) -> dict[str, Any]:
    return {
        "markets": {c: book_to_json(*markets[c]) for c in sorted(markets)},
        "bundles": [bundle_to_json(b) for b in sorted(bundles, key=lambda b: b.id)],
    }


def joint_result_to_json(result: JointResult) -> dict[str, Any]:
    """The ``clear-joint`` output. A bundle that may execute in part also shows its executed
    ``steps`` of ``of`` (each leg's quantity x steps / of)."""
    bundles = []
    for b in result.bundles:
        item: dict[str, Any] = {"id": b.id, "accepted": b.accepted}
        if b.partial:
            item["steps"] = b.steps
            item["of"] = b.of
        bundles.append(item)
    markets = {}
    for code, r in result.markets:
        fills = [{"id": f.id, "quantity": f.quantity, "price": f.price} for f in r.fills]
        markets[code] = {"price": r.price, "volume": r.volume, "fills": fills}
    return {"markets": markets, "bundles": bundles}


def joint_book_hash(
    markets: Mapping[str, tuple[Iterable[Order], Rules]], bundles: Iterable[Bundle]
) -> str:
    """SHA-256 (hex) of the canonical JSON of a joint book."""
    return hashlib.sha256(canonical_bytes(joint_book_to_json(markets, bundles))).hexdigest()


def joint_result_hash(result: JointResult) -> str:
    """SHA-256 (hex) of the canonical JSON of a joint result (the CLI output)."""
    return hashlib.sha256(canonical_bytes(joint_result_to_json(result))).hexdigest()
