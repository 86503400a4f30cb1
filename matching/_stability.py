"""Market-stability rules of a call auction: cancellation, cost and emissions containment.

Pure and deterministic, like the rest of ``matching``. After the EU ETS auctions (cancelled when
the bids fall short of the volume offered, or when the price is well below the secondary
market) and RGGI's reserves (a cost containment reserve, CCR, released above a trigger price;
an emissions containment reserve, ECR, withheld below one); see ``shared/FACTS.md``,
"Auction rules worth knowing", and docs/matching.md, "Stability rules".

:func:`clear_stable` clears a book under :class:`Stability` settings in four steps:

1. **Cover.** ``bid volume * 100 < min_cover_percent * offered volume`` cancels the run
   (``insufficient_cover``). Bid volume: every buy order's quantity; offered volume: every
   sell order's (the reserves' conditional steps are not in the book yet).
2. **Clear** the book as it is (:func:`matching.clear`).
3. **Reserves.** If that price is *above* ``ccr_trigger_price``, the reserve offers
   ``ccr_quantity`` units at the trigger (order id :data:`CCR_ID`); if it is *below*
   ``ecr_trigger_price``, the reserve bids for ``ecr_quantity`` units at the trigger (order id
   :data:`ECR_ID`), and what it buys is withheld (retired). The step has the lowest time
   priority (``seq`` one past the book's largest), and the book is cleared again. A price
   exactly at a trigger releases and withholds nothing.
4. **Price.** If the final price times 100 is below ``min_price_percent`` times the reference
   price, the run is cancelled (``price_below_reference``).

A cancelled run has no result: nothing settles.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from ._canon import book_to_json, canonical_bytes, order_to_json, result_hash, result_to_json
from ._clear import clear
from ._types import MAX_PRICE, MAX_QUANTITY, ClearingResult, InvalidBook, Order, Rules, Side

CCR_ID = "reserve:ccr"
"""Order id of the cost containment reserve's sell step in an adjusted book."""
ECR_ID = "reserve:ecr"
"""Order id of the emissions containment reserve's buy step in an adjusted book."""

INSUFFICIENT_COVER = "insufficient_cover"
PRICE_BELOW_REFERENCE = "price_below_reference"

MAX_COVER_PERCENT = 1000
"""Largest ``min_cover_percent`` (bids of ten times the offered volume)."""

_INT_FIELDS = (
    "min_cover_percent",
    "min_price_percent",
    "reference_price",
    "ccr_trigger_price",
    "ccr_quantity",
    "ecr_trigger_price",
    "ecr_quantity",
)


@dataclass(frozen=True, slots=True)
class Stability:
    """A market's stability settings; ``None`` turns a rule off.

    ``min_cover_percent`` (1-1000): cancel when bids cover less than this share of the offered
    volume. ``min_price_percent`` (1-100) with ``reference_price`` (fen): cancel when the
    clearing price is below this share of the reference (no reference: the rule is off).
    ``ccr_trigger_price``/``ccr_quantity`` and ``ecr_trigger_price``/``ecr_quantity``: the
    reserves, each on only with both numbers (a quantity of 0 is a reserve with nothing left).
    """

    min_cover_percent: int | None = None
    min_price_percent: int | None = None
    reference_price: int | None = None
    ccr_trigger_price: int | None = None
    ccr_quantity: int | None = None
    ecr_trigger_price: int | None = None
    ecr_quantity: int | None = None

    def __post_init__(self) -> None:
        for fld in _INT_FIELDS:
            v = getattr(self, fld)
            if v is not None and (not isinstance(v, int) or isinstance(v, bool)):
                raise InvalidBook(
                    f"stability: {fld} must be an integer or null, got {v!r}",
                    field=f"stability.{fld}",
                )
        _range(self.min_cover_percent, 1, MAX_COVER_PERCENT, "min_cover_percent")
        _range(self.min_price_percent, 1, 100, "min_price_percent")
        for fld in ("reference_price", "ccr_trigger_price", "ecr_trigger_price"):
            _range(getattr(self, fld), 0, MAX_PRICE, fld)
        for fld in ("ccr_quantity", "ecr_quantity"):
            _range(getattr(self, fld), 0, MAX_QUANTITY, fld)
        for prefix in ("ccr", "ecr"):
            trigger, qty = (
                getattr(self, f"{prefix}_trigger_price"),
                getattr(self, f"{prefix}_quantity"),
            )
            if (trigger is None) != (qty is None):
                raise InvalidBook(
                    f"stability: {prefix}_trigger_price and {prefix}_quantity go together",
                    field=f"stability.{prefix}_quantity",
                )
        if (
            self.ccr_trigger_price is not None
            and self.ecr_trigger_price is not None
            and self.ecr_trigger_price >= self.ccr_trigger_price
        ):
            raise InvalidBook(
                "stability: ecr_trigger_price must be below ccr_trigger_price",
                field="stability.ecr_trigger_price",
            )

    @property
    def active(self) -> bool:
        """Whether any rule is on."""
        return any(getattr(self, f) is not None for f in _INT_FIELDS if f != "reference_price")

    def check(self, rules: Rules) -> None:
        """Raise :class:`InvalidBook` unless the settings fit the market's ``rules``."""
        if rules.zonal and (self.ccr_quantity is not None or self.ecr_quantity is not None):
            raise InvalidBook(
                "stability: the reserves apply to single-zone markets only", field="stability"
            )
        for prefix in ("ccr", "ecr"):
            trigger, qty = (
                getattr(self, f"{prefix}_trigger_price"),
                getattr(self, f"{prefix}_quantity"),
            )
            if trigger is not None and trigger % rules.tick:
                raise InvalidBook(
                    f"stability: {prefix}_trigger_price {trigger} is not on the tick grid "
                    f"(tick {rules.tick})",
                    field=f"stability.{prefix}_trigger_price",
                )
            if qty is not None and qty % rules.lot:
                raise InvalidBook(
                    f"stability: {prefix}_quantity {qty} is not a multiple of the lot "
                    f"({rules.lot})",
                    field=f"stability.{prefix}_quantity",
                )


def _range(v: int | None, low: int, high: int, fld: str) -> None:
    if v is not None and not low <= v <= high:
        raise InvalidBook(
            f"stability: {fld} must be {low}..{high}, got {v}", field=f"stability.{fld}"
        )


@dataclass(frozen=True, slots=True)
class Cancellation:
    """Why a run was cancelled, with the numbers that decided it.

    ``reason``: :data:`INSUFFICIENT_COVER` or :data:`PRICE_BELOW_REFERENCE`. ``cover_percent``
    is the bid volume as a whole percent of the offered volume, rounded down (``None`` when
    nothing was offered); ``price`` the price the run would have cleared at.
    """

    reason: str
    bid_volume: int
    offered_volume: int
    cover_percent: int | None
    min_cover_percent: int | None
    price: int | None = None
    reference_price: int | None = None
    min_price_percent: int | None = None


@dataclass(frozen=True, slots=True)
class StableResult:
    """The outcome of :func:`clear_stable`: a cancellation, or a result.

    ``orders`` is the adjusted book (the reserve step added, if any); ``result`` its clearing
    (``None`` if cancelled). ``ccr_released`` is what the reserve sold (the fill of
    :data:`CCR_ID`), ``ecr_withheld`` what it bought and withholds (the fill of :data:`ECR_ID`).
    """

    cancellation: Cancellation | None
    result: ClearingResult | None
    orders: tuple[Order, ...]
    ccr_released: int = 0
    ecr_withheld: int = 0

    @property
    def cancelled(self) -> bool:
        return self.cancellation is not None


def _cover_percent(bids: int, offered: int) -> int | None:
    return bids * 100 // offered if offered else None


def clear_stable(
    orders: Iterable[Order], rules: Rules | None = None, stability: Stability | None = None
) -> StableResult:
    """Clear ``orders`` under ``rules`` and the stability settings (see the module doc)."""
    rules = rules if rules is not None else Rules()
    st = stability if stability is not None else Stability()
    book = tuple(orders)
    st.check(rules)
    for o in book:
        if not isinstance(o, Order):
            raise InvalidBook(f"expected Order values, got {type(o).__name__}")
        if o.id in (CCR_ID, ECR_ID):
            raise InvalidBook(f"order id {o.id!r} is reserved for the reserves", order_id=o.id,
                              field="id")  # fmt: skip
    bids = sum(o.quantity for o in book if o.side is Side.BUY)
    offered = sum(o.quantity for o in book if o.side is Side.SELL)
    cover = _cover_percent(bids, offered)
    if st.min_cover_percent is not None and bids * 100 < st.min_cover_percent * offered:
        cancel = Cancellation(INSUFFICIENT_COVER, bids, offered, cover, st.min_cover_percent)
        return StableResult(cancel, None, book)
    result = clear(book, rules)
    step = _reserve_step(book, result.price, st)
    if step is not None:
        book = (*book, step)
        result = clear(book, rules)
    released = _fill_of(result, CCR_ID)
    withheld = _fill_of(result, ECR_ID)
    ref = st.reference_price
    if (
        st.min_price_percent is not None
        and ref is not None
        and result.price is not None
        and result.price * 100 < st.min_price_percent * ref
    ):
        cancel = Cancellation(
            PRICE_BELOW_REFERENCE, bids, offered, cover, st.min_cover_percent,
            result.price, ref, st.min_price_percent,
        )  # fmt: skip
        return StableResult(cancel, None, book)
    return StableResult(None, result, book, released, withheld)


def _reserve_step(book: tuple[Order, ...], price: int | None, st: Stability) -> Order | None:
    if price is None:
        return None
    seq = max((o.seq for o in book), default=0) + 1
    if st.ccr_trigger_price is not None and st.ccr_quantity and price > st.ccr_trigger_price:
        return Order(CCR_ID, Side.SELL, st.ccr_quantity, st.ccr_trigger_price, seq)
    if st.ecr_trigger_price is not None and st.ecr_quantity and price < st.ecr_trigger_price:
        return Order(ECR_ID, Side.BUY, st.ecr_quantity, st.ecr_trigger_price, seq)
    return None


def _fill_of(result: ClearingResult, order_id: str) -> int:
    return next((f.quantity for f in result.fills if f.id == order_id), 0)


def stability_to_json(st: Stability) -> dict[str, Any]:
    """The settings as a JSON object (every field, ``null`` when off)."""
    return {f: getattr(st, f) for f in _INT_FIELDS}


def stability_from_json(doc: Any) -> Stability:
    """Settings from a JSON object (missing fields: off); raises :class:`InvalidBook`."""
    if not isinstance(doc, dict):
        raise InvalidBook("'stability' must be an object", field="stability")
    unknown = sorted(set(doc) - set(_INT_FIELDS))
    if unknown:
        raise InvalidBook(
            f"stability: unknown field {unknown[0]!r}", field=f"stability.{unknown[0]}"
        )
    return Stability(**{f: doc.get(f) for f in _INT_FIELDS})


def stable_result_to_json(out: StableResult) -> dict[str, Any]:
    """The CLI's output for a book with stability settings: the result plus what they did."""
    doc: dict[str, Any]
    if out.cancellation is not None:
        c = out.cancellation
        doc = {"price": None, "volume": 0, "fills": [], "flows": []}
        doc["cancelled"] = {
            "reason": c.reason, "bid_volume": c.bid_volume, "offered_volume": c.offered_volume,
            "cover_percent": c.cover_percent, "min_cover_percent": c.min_cover_percent,
            "price": c.price, "reference_price": c.reference_price,
            "min_price_percent": c.min_price_percent,
        }  # fmt: skip
        return doc
    assert out.result is not None
    doc = result_to_json(out.result)
    doc["ccr_released"] = out.ccr_released
    doc["ecr_withheld"] = out.ecr_withheld
    return doc


def stable_book_to_json(
    orders: Iterable[Order], rules: Rules, stability: Stability | None
) -> dict[str, Any]:
    """The book's canonical JSON, with ``stability`` only when a rule is on (so books without
    stability rules keep their form and hash)."""
    doc = book_to_json(orders, rules)
    if stability is not None and stability.active:
        doc["stability"] = stability_to_json(stability)
    return doc


def stable_book_hash(orders: Iterable[Order], rules: Rules, stability: Stability | None) -> str:
    """SHA-256 (hex) of :func:`stable_book_to_json`; :func:`matching.book_hash` without rules."""
    return hashlib.sha256(
        canonical_bytes(stable_book_to_json(orders, rules, stability))
    ).hexdigest()


def stable_result_hash(out: StableResult) -> str:
    """SHA-256 (hex) of the result (:func:`matching.result_hash`), or of the cancellation."""
    if out.result is not None:
        return result_hash(out.result)
    return hashlib.sha256(canonical_bytes(stable_result_to_json(out))).hexdigest()


def reserve_orders_json(out: StableResult) -> list[dict[str, Any]]:
    """The reserve steps added to the book, as JSON orders (for display and audit)."""
    return [order_to_json(o, zonal=False) for o in out.orders if o.id in (CCR_ID, ECR_ID)]
