"""Single-zone uniform-price call auction on integer arrays.

Price determination follows the Xetra T7 market model, section 11.1.1 (see docs/matching.md):
maximum executable volume, then minimum surplus, then market pressure, then the reference
price, then the midpoint of the remaining range rounded down to the tick grid. Candidate prices
are every tick-grid price in [floor, ceiling]; since demand and supply only change at limit
prices, each distinct limit and each open gap between adjacent limits is evaluated once.

Quantities are int64 arrays, or object arrays of Python ints when int64 sums could overflow.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
from numpy.typing import NDArray

IntArray = NDArray[Any]  # int64, or object (exact Python ints) for huge books
I64 = NDArray[np.int64]
#: Tie-break key of rows of the book (ranks of their order ids).
TieKey = Callable[[I64], I64]


def prefix(q: IntArray) -> IntArray:
    """[0, q0, q0+q1, ...] in the dtype of ``q`` (exact)."""
    return np.concatenate((np.zeros(1, dtype=q.dtype), np.cumsum(q)))


def levels(prices: I64, qty: IntArray) -> tuple[I64, IntArray]:
    """Aggregate to distinct prices (ascending) with the summed quantity at each."""
    if prices.size == 0:
        return prices[:0], qty[:0]
    order = np.argsort(prices, kind="stable")
    ps = prices[order]
    starts = np.flatnonzero(np.concatenate(([True], ps[1:] != ps[:-1])))
    return ps[starts], np.add.reduceat(qty[order], starts)


def merge_levels(parts: list[tuple[I64, IntArray]], dtype: Any) -> tuple[I64, IntArray]:
    if not parts:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=dtype)
    p = np.concatenate([a for a, _ in parts])
    q = np.concatenate([b for _, b in parts]).astype(dtype, copy=False)
    return levels(p, q)


def demand_supply(
    bl: I64, bq: IntArray, sl: I64, sq: IntArray, at: I64
) -> tuple[IntArray, IntArray]:
    """Cumulative demand (buys with limit >= p) and supply (sells with limit <= p) at ``at``."""
    bp = prefix(bq)
    sp = prefix(sq)
    d = bp[-1] - bp[np.searchsorted(bl, at, side="left")]
    s = sp[np.searchsorted(sl, at, side="right")]
    return d, s


def segments(
    bl: I64,
    bq: IntArray,
    sl: I64,
    sq: IntArray,
    *,
    floor: int,
    ceiling: int | None,
    tick: int,
    extra_demand: int = 0,
    extra_supply: int = 0,
) -> tuple[I64, I64, IntArray, IntArray]:
    """Candidate price segments (lo, hi, demand, supply): each distinct limit in [floor,
    ceiling], the floor, the ceiling, and each open gap between them holding a tick price."""
    pts = [bl, sl, np.array([floor], dtype=np.int64)]
    if ceiling is not None:
        pts.append(np.array([ceiling], dtype=np.int64))
    p = np.unique(np.concatenate(pts))
    keep = p >= floor
    if ceiling is not None:
        keep &= p <= ceiling
    p = p[keep]
    d, s = demand_supply(bl, bq, sl, sq, p)
    if extra_demand:
        d = d + extra_demand
    if extra_supply:
        s = s + extra_supply
    # Gaps between adjacent candidate points that contain at least one tick price: demand
    # there equals demand at the upper point, supply equals supply at the lower point.
    g = np.flatnonzero(np.diff(p) >= 2 * tick)
    seg_lo = np.concatenate((p, p[g] + tick))
    seg_hi = np.concatenate((p, p[g + 1] - tick))
    seg_d = np.concatenate((d, d[g + 1]))
    seg_s = np.concatenate((s, s[g]))
    return seg_lo, seg_hi, seg_d, seg_s


def determine_price(
    bl: I64,
    bq: IntArray,
    sl: I64,
    sq: IntArray,
    *,
    floor: int,
    ceiling: int | None,
    tick: int,
    reference: int | None,
    extra_demand: int = 0,
    extra_supply: int = 0,
) -> tuple[int | None, int]:
    """Return (price, volume) of the auction, or (None, 0) if nothing can execute.

    ``bl``/``sl`` are ascending distinct buy/sell limit prices with quantities ``bq``/``sq``.
    ``extra_demand``/``extra_supply`` are price-taking quantities (fixed exports/imports of a
    zone group in zonal clearing).
    """
    seg_lo, seg_hi, seg_d, seg_s = segments(
        bl, bq, sl, sq, floor=floor, ceiling=ceiling, tick=tick,
        extra_demand=extra_demand, extra_supply=extra_supply,
    )  # fmt: skip
    vol = np.minimum(seg_d, seg_s)
    vmax = int(vol.max())
    if vmax <= 0:
        return None, 0
    diff = seg_d - seg_s
    absd = np.abs(diff)
    cand = vol == vmax  # step 1: maximum executable volume
    m = int(absd[cand].min())
    rem = cand & (absd == m)  # step 2: minimum surplus
    lo = int(seg_lo[rem].min())
    hi = int(seg_hi[rem].max())
    pos = rem & (diff > 0)
    neg = rem & (diff < 0)
    if m > 0 and not neg.any():  # step 3: buy surplus at every remaining price
        return hi, vmax
    if m > 0 and not pos.any():  # step 3: sell surplus at every remaining price
        return lo, vmax
    if m > 0:  # surplus on both sides: highest buy-surplus .. lowest sell-surplus price
        lo = int(seg_hi[pos].max())
        hi = int(seg_lo[neg].min())
    if reference is not None:  # step 4: reference price clamped into the range
        return min(max(reference, lo), hi), vmax
    # final rule: midpoint of the range, rounded down to the tick grid
    return lo + ((hi - lo) // (2 * tick)) * tick, vmax


def _order(rows: I64, key: I64 | None, seq: I64, tiekey: TieKey) -> I64:
    """Permutation sorting ``rows`` by ``key`` (if given), then seq, then order id."""
    s = seq[rows]
    if key is None:
        dup = np.unique(s).size != s.size
    else:
        dup = rows.size > 1 and np.unique(np.stack((key, s), axis=1), axis=0).shape[0] != s.size
    cols: list[I64] = []
    if dup:
        cols.append(tiekey(rows))
    cols.append(s)
    if key is not None:
        cols.append(key)
    perm: I64 = np.lexsort(cols)
    return perm


def allocate_side(
    q: IntArray,
    pr: I64,
    seq: I64,
    rows: I64,
    *,
    buy: bool,
    price: int,
    budget: int,
    tiekey: TieKey,
) -> IntArray:
    """Fill ``budget`` units among orders ``rows`` of one side at ``price`` by price priority,
    then time priority (seq), then order id. Returns fills aligned with ``rows``."""
    out = np.zeros(rows.size, dtype=q.dtype)
    if budget <= 0 or rows.size == 0:
        return out
    p = pr[rows]
    qr = q[rows]
    strict = p > price if buy else p < price
    total_strict = int(qr[strict].sum())
    if total_strict <= budget:
        out[strict] = qr[strict]
        left = budget - total_strict
        marg = np.flatnonzero(p == price)
        if left > 0 and marg.size:
            ordered = marg[_order(rows[marg], None, seq, tiekey)]
            out[ordered] = _greedy(qr[ordered], left)
        return out
    # Only at the ceiling (buys) or floor (sells), or with a fixed import/export: orders
    # better than the price compete for the budget by price priority.
    elig = np.flatnonzero(p >= price if buy else p <= price)
    key = -p[elig] if buy else p[elig]
    ordered = elig[_order(rows[elig], key, seq, tiekey)]
    out[ordered] = _greedy(qr[ordered], budget)
    return out


def _greedy(qs: IntArray, budget: int) -> IntArray:
    cum = np.cumsum(qs)
    out: IntArray = np.minimum(qs, np.maximum(budget - (cum - qs), 0))
    return out


def id_tiekey(ids: list[str] | None) -> TieKey:
    """Ranks of order ids (string order) for the given rows; positions if ids are absent."""

    def key(rows: I64) -> I64:
        if ids is None:
            return rows.astype(np.int64)
        names = [ids[i] for i in rows.tolist()]
        order = sorted(range(len(names)), key=names.__getitem__)
        rank = np.empty(len(names), dtype=np.int64)
        rank[np.array(order, dtype=np.int64)] = np.arange(len(names), dtype=np.int64)
        return rank

    return key


def auction_rows(
    q: IntArray,
    pr: I64,
    seq: I64,
    is_buy: NDArray[np.bool_],
    rows: I64,
    tiekey: TieKey,
    *,
    floor: int,
    ceiling: int | None,
    tick: int,
    reference: int | None,
) -> tuple[int | None, int, IntArray]:
    """Single-zone auction over ``rows``: (price, volume, fills aligned with rows)."""
    out = np.zeros(rows.size, dtype=q.dtype)
    sel = is_buy[rows]
    rb = rows[sel]
    rs = rows[~sel]
    bl, bq = levels(pr[rb], q[rb])
    sl, sq = levels(pr[rs], q[rs])
    price, vol = determine_price(
        bl, bq, sl, sq, floor=floor, ceiling=ceiling, tick=tick, reference=reference
    )
    if price is None:
        return None, 0, out
    d, s = demand_supply(bl, bq, sl, sq, np.array([price], dtype=np.int64))
    vol = min(int(d[0]), int(s[0]))
    out[sel] = allocate_side(q, pr, seq, rb, buy=True, price=price, budget=vol, tiekey=tiekey)
    out[~sel] = allocate_side(q, pr, seq, rs, buy=False, price=price, budget=vol, tiekey=tiekey)
    return price, vol, out
