"""Entry points: the columnar book, validation, and ``clear``."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from ._auction import (
    I64,
    IntArray,
    auction_rows,
    demand_supply,
    id_tiekey,
    levels,
    merge_levels,
)
from ._types import (
    MAX_PRICE,
    MAX_QUANTITY,
    ClearingResult,
    Curves,
    Fill,
    Flow,
    InvalidBook,
    Order,
    Rules,
    Side,
)
from ._zonal import clear_zonal

#: Largest total of a book, in lots, when links carry losses (the MILP works in floats).
MAX_LOSSY_LOTS = 2**53


@dataclass(frozen=True, eq=False)
class Book:
    """A book in columnar form (the fast path for large books).

    ``is_buy``, ``quantity``, ``price``, ``seq`` are equal-length arrays (bool, int64, int64,
    int64). ``zone`` holds indices into ``zone_names`` (required for zonal clearing). ``ids``
    are the order ids; without them, ties in ``seq`` are broken by row position, so give
    unique ``seq`` numbers for a permutation-independent result.
    """

    is_buy: NDArray[np.bool_]
    quantity: NDArray[np.int64]
    price: NDArray[np.int64]
    seq: NDArray[np.int64]
    zone: NDArray[np.int64] | None = None
    zone_names: tuple[str, ...] = ()
    ids: Sequence[str] | None = None

    @property
    def size(self) -> int:
        return int(self.is_buy.size)

    @classmethod
    def from_orders(cls, orders: Iterable[Order], rules: Rules) -> Book:
        """Columnar book from orders; checks ids and zones (see :func:`validate`)."""
        olist = list(orders)
        for o in olist:
            if not isinstance(o, Order):
                raise InvalidBook(f"expected Order values, got {type(o).__name__}")
        ids = [o.id for o in olist]
        if len(set(ids)) != len(ids):
            seen: set[str] = set()
            for i in ids:
                if i in seen:
                    raise InvalidBook(f"duplicate order id {i!r}", order_id=i, field="id")
                seen.add(i)
        n = len(olist)
        is_buy = np.fromiter((o.side is Side.BUY for o in olist), dtype=np.bool_, count=n)
        qty = np.fromiter((o.quantity for o in olist), dtype=np.int64, count=n)
        price = np.fromiter((o.price for o in olist), dtype=np.int64, count=n)
        seq = np.fromiter((o.seq for o in olist), dtype=np.int64, count=n)
        zone: NDArray[np.int64] | None = None
        names: tuple[str, ...] = ()
        if rules.zonal:
            names = _zone_names(olist, rules)
            index = {z: i for i, z in enumerate(names)}
            zl = []
            for o in olist:
                if o.zone is None:
                    raise InvalidBook(
                        f"order {o.id!r}: zone is required when links are given",
                        order_id=o.id,
                        field="zone",
                    )
                if o.zone not in index:
                    raise InvalidBook(
                        f"order {o.id!r}: unknown zone {o.zone!r}", order_id=o.id, field="zone"
                    )
                zl.append(index[o.zone])
            zone = np.array(zl, dtype=np.int64)
        return cls(is_buy, qty, price, seq, zone, names, ids)


def _zone_names(orders: list[Order], rules: Rules) -> tuple[str, ...]:
    if rules.zones is not None:
        return tuple(sorted(rules.zones))
    return tuple(sorted({o.zone for o in orders if o.zone is not None}))


def _row_name(book: Book, i: int) -> str:
    return repr(book.ids[i]) if book.ids is not None else f"at row {i}"


def validate_book(book: Book, rules: Rules) -> None:
    """Raise :class:`InvalidBook` naming the first offending order and field."""
    n = book.size
    for name in ("quantity", "price", "seq"):
        arr = getattr(book, name)
        if arr.shape != (n,):
            raise InvalidBook(f"book: {name} must have one entry per order", field=name)
        if arr.dtype.kind not in "iu":
            raise InvalidBook(f"book: {name} must be an integer array", field=name)
    if book.ids is not None:
        if len(book.ids) != n:
            raise InvalidBook("book: ids must have one entry per order", field="id")
        if len(set(book.ids)) != n:
            seen: set[str] = set()
            for oid in book.ids:
                if oid in seen:
                    raise InvalidBook(f"duplicate order id {oid!r}", order_id=oid, field="id")
                seen.add(oid)
    q = book.quantity
    pr = book.price
    checks: list[tuple[NDArray[np.bool_], str, str]] = [
        (q <= 0, "quantity", "quantity must be positive"),
        (q > MAX_QUANTITY, "quantity", f"quantity exceeds {MAX_QUANTITY}"),
        (q % rules.lot != 0, "quantity", f"quantity is not a multiple of the lot ({rules.lot})"),
        (np.abs(pr) > MAX_PRICE, "price", f"price outside +-{MAX_PRICE}"),
        (pr % rules.tick != 0, "price", f"price is not on the tick grid (tick {rules.tick})"),
    ]
    for bad, fld, msg in checks:
        if bad.any():
            row = int(np.argmax(bad))
            bad_id = book.ids[row] if book.ids is not None else None
            value = int(getattr(book, fld)[row])
            raise InvalidBook(
                f"order {_row_name(book, row)}: {msg}, got {value}", order_id=bad_id, field=fld
            )
    if rules.zonal:
        if book.zone is None or book.zone.shape != (n,):
            raise InvalidBook("book: zone is required when links are given", field="zone")
        nz = len(book.zone_names)
        badz = (book.zone < 0) | (book.zone >= nz)
        if badz.any():
            row = int(np.argmax(badz))
            raise InvalidBook(f"order {_row_name(book, row)}: unknown zone", field="zone")
        known = set(book.zone_names)
        for lk in rules.links:
            for z in (lk.from_zone, lk.to_zone):
                if z not in known:
                    raise InvalidBook(
                        f"link {lk.from_zone!r}->{lk.to_zone!r}: unknown zone {z!r}",
                        field="links",
                    )


def validate(orders: Iterable[Order], rules: Rules, *, check_price_range: bool = False) -> Book:
    """Check a book against the rules and return it in columnar form.

    Raises :class:`InvalidBook`. Limits outside [price_floor, price_ceiling] are accepted by
    clearing (such orders simply cannot trade beyond the range); pass
    ``check_price_range=True`` to reject them, as order entry does.
    """
    book = Book.from_orders(orders, rules)
    validate_book(book, rules)
    if check_price_range:
        pr = book.price
        bad = pr < rules.price_floor
        if rules.price_ceiling is not None:
            bad |= pr > rules.price_ceiling
        if bad.any():
            i = int(np.argmax(bad))
            oid = book.ids[i] if book.ids is not None else None
            raise InvalidBook(
                f"order {_row_name(book, i)}: price {int(pr[i])} outside "
                f"[{rules.price_floor}, {rules.price_ceiling}]",
                order_id=oid,
                field="price",
            )
    return book


@dataclass(frozen=True, eq=False)
class ArrayResult:
    """Result of :func:`clear_book`: fills as arrays aligned with the book's rows."""

    price: int | None
    zone_prices: tuple[tuple[str, int | None], ...] | None
    volume: int
    filled: NDArray[Any]  # units filled per row (int64, or object for huge books)
    fill_price: NDArray[np.int64]  # price paid/received per row (0 where nothing filled)
    flows: tuple[Flow, ...]


def _exact_dtype(q: NDArray[np.int64]) -> IntArray:
    if q.size and int(q.max()) * q.size >= 2**62:
        return q.astype(object)  # Python ints: sums cannot overflow
    return q.astype(np.int64, copy=False)


def clear_book(book: Book, rules: Rules, *, validated: bool = False) -> ArrayResult:
    """Clear a columnar book. Validates it first unless ``validated``."""
    if not validated:
        validate_book(book, rules)
    q = _exact_dtype(np.asarray(book.quantity))
    pr = np.asarray(book.price, dtype=np.int64)
    seq = np.asarray(book.seq, dtype=np.int64)
    is_buy = np.asarray(book.is_buy, dtype=np.bool_)
    ids = list(book.ids) if book.ids is not None else None
    tiekey = id_tiekey(ids)
    n = q.size
    if not rules.zonal:
        price, vol, filled = auction_rows(
            q, pr, seq, is_buy, np.arange(n, dtype=np.int64), tiekey,
            floor=rules.price_floor, ceiling=rules.price_ceiling, tick=rules.tick,
            reference=rules.reference_price,
        )  # fmt: skip
        fill_price = np.where(filled != 0, price if price is not None else 0, 0).astype(np.int64)
        return ArrayResult(price, None, vol, filled, fill_price, ())
    assert book.zone is not None
    if any(lk.loss for lk in rules.links) and int(q.sum()) // rules.lot > MAX_LOSSY_LOTS:
        raise InvalidBook(f"book: more than {MAX_LOSSY_LOTS} lots in all, too many for links "
                          "with losses", field="quantity")  # fmt: skip
    zone = np.asarray(book.zone, dtype=np.int64)
    names = book.zone_names
    index = {z: i for i, z in enumerate(names)}
    ordered = sorted(rules.links, key=lambda lk: (index[lk.from_zone], index[lk.to_zone]))
    links = [(index[lk.from_zone], index[lk.to_zone], lk.capacity) for lk in ordered]
    losses = [lk.loss for lk in ordered]
    out = clear_zonal(
        q, pr, seq, is_buy, zone, len(names), links,
        lot=rules.lot, tick=rules.tick, floor=rules.price_floor, ceiling=rules.price_ceiling,
        reference=rules.reference_price, tiekey=tiekey, losses=losses,
    )  # fmt: skip
    zp = np.array([p if p is not None else 0 for p in out.zone_price], dtype=np.int64)
    filled = out.filled
    fill_price = np.where(filled != 0, zp[zone] if n else 0, 0).astype(np.int64)
    flows = tuple(
        Flow(names[a], names[b], f, r if lo else None)
        for (a, b, _), f, r, lo in zip(links, out.flow, out.received, losses, strict=True)
        if f
    )
    _check_zonal(q, pr, is_buy, zone, filled, out.zone_price, links, out.flow, out.received)
    prices = set(out.zone_price)
    common = next(iter(prices)) if len(prices) == 1 else None
    volume = int(filled[is_buy].sum())
    zone_prices = tuple(zip(names, out.zone_price, strict=True))
    return ArrayResult(common, zone_prices, volume, filled, fill_price, flows)


def _check_zonal(
    q: IntArray,
    pr: I64,
    is_buy: NDArray[np.bool_],
    zone: I64,
    filled: IntArray,
    zprice: list[int | None],
    links: list[tuple[int, int, int | None]],
    flow: list[int],
    received: list[int],
) -> None:
    """Exact invariants of a zonal result; a failure is a bug, never a property of the book."""
    nz = len(zprice)
    net = [0] * nz
    for z in range(nz):
        sel = zone == z
        net[z] = int(filled[sel & is_buy].sum()) - int(filled[sel & ~is_buy].sum())
    for (a, b, cap), f, r in zip(links, flow, received, strict=True):
        if f < 0 or (cap is not None and f > cap) or not 0 <= r <= f:
            raise RuntimeError("zonal clearing: flow outside link capacity")
        net[a] += f
        net[b] -= r
    if any(net):
        raise RuntimeError("zonal clearing: quantity not conserved")
    if ((filled < 0) | (filled > q)).any():
        raise RuntimeError("zonal clearing: fill outside order quantity")
    got = filled != 0
    if got.any():
        zp = np.array([p if p is not None else 0 for p in zprice], dtype=np.int64)[zone]
        has = np.array([p is not None for p in zprice], dtype=np.bool_)[zone]
        bad = got & (~has | (is_buy & (pr < zp)) | (~is_buy & (pr > zp)))
        if bad.any():
            raise RuntimeError("zonal clearing: a fill violates its limit price")


def clear(orders: Iterable[Order], rules: Rules | None = None) -> ClearingResult:
    """Clear a book of :class:`Order` values under ``rules`` (default ``Rules()``)."""
    rules = rules if rules is not None else Rules()
    book = validate(orders, rules)
    res = clear_book(book, rules, validated=True)
    ids = book.ids or ()
    nz = np.flatnonzero(res.filled != 0)
    fq = res.filled[nz].tolist()
    fp = res.fill_price[nz].tolist()
    fills = sorted(
        (Fill(ids[i], int(a), int(b)) for i, a, b in zip(nz.tolist(), fq, fp, strict=True)),
        key=lambda f: f.id,
    )
    return ClearingResult(res.price, res.zone_prices, res.volume, tuple(fills), res.flows)


def curves(orders: Iterable[Order] | Book, rules: Rules | None = None) -> Curves:
    """Aggregated demand and supply curves at each distinct limit price (ascending)."""
    rules = rules if rules is not None else Rules()
    book = orders if isinstance(orders, Book) else validate(orders, Rules(
        lot=rules.lot, tick=rules.tick, price_floor=rules.price_floor,
        price_ceiling=rules.price_ceiling,
    ))  # fmt: skip
    q = _exact_dtype(np.asarray(book.quantity))
    pr = np.asarray(book.price, dtype=np.int64)
    sel = np.asarray(book.is_buy, dtype=np.bool_)
    bl, bq = levels(pr[sel], q[sel])
    sl, sq = levels(pr[~sel], q[~sel])
    at, _ = merge_levels([(bl, bq), (sl, sq)], q.dtype)
    d, s = demand_supply(bl, bq, sl, sq, at)
    return Curves(
        tuple(int(x) for x in at.tolist()),
        tuple(int(x) for x in d.tolist()),
        tuple(int(x) for x in s.tolist()),
    )
