"""Naive reference implementations used by the matching tests (no numpy in the rules).

``ref_clear`` tries every tick price in the allowed range and applies the Xetra T7 11.1.1
steps literally, then allocates by price, time (seq) and order-id priority.
``lp_surplus`` solves the zonal problem as an order-level LP (no aggregation; continuous flows,
so with losses it bounds the integer optimum from above).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.optimize import linprog

from matching import Order, Rules, Side


@dataclass
class RefResult:
    price: int | None
    volume: int
    fills: dict[str, int]


def curve(orders: list[Order], p: int) -> tuple[int, int]:
    d = sum(o.quantity for o in orders if o.side is Side.BUY and o.price >= p)
    s = sum(o.quantity for o in orders if o.side is Side.SELL and o.price <= p)
    return d, s


def ref_price(orders: list[Order], rules: Rules) -> tuple[int | None, int]:
    t = rules.tick
    lo = rules.price_floor
    top = max([o.price for o in orders] + [lo])
    hi = rules.price_ceiling if rules.price_ceiling is not None else top
    cands = list(range(lo, hi + 1, t))
    table = [(p, *curve(orders, p)) for p in cands]
    vmax = max((min(d, s) for _, d, s in table), default=0)
    if vmax == 0:
        return None, 0
    step1 = [(p, d, s) for p, d, s in table if min(d, s) == vmax]
    m = min(abs(d - s) for _, d, s in step1)
    step2 = [(p, d, s) for p, d, s in step1 if abs(d - s) == m]
    if m > 0 and all(d > s for _, d, s in step2):
        return max(p for p, _, _ in step2), vmax
    if m > 0 and all(s > d for _, d, s in step2):
        return min(p for p, _, _ in step2), vmax
    if m == 0:
        a = min(p for p, _, _ in step2)
        b = max(p for p, _, _ in step2)
    else:
        a = max(p for p, d, s in step2 if d > s)
        b = min(p for p, d, s in step2 if s > d)
    if rules.reference_price is not None:
        return min(max(rules.reference_price, a), b), vmax
    return a + ((b - a) // (2 * t)) * t, vmax


def ref_allocate(orders: list[Order], price: int, volume: int) -> dict[str, int]:
    fills: dict[str, int] = {}
    buys = sorted(
        (o for o in orders if o.side is Side.BUY and o.price >= price),
        key=lambda o: (-o.price, o.seq, o.id),
    )
    sells = sorted(
        (o for o in orders if o.side is Side.SELL and o.price <= price),
        key=lambda o: (o.price, o.seq, o.id),
    )
    for side in (buys, sells):
        left = volume
        for o in side:
            take = min(left, o.quantity)
            if take:
                fills[o.id] = take
            left -= take
    return fills


def ref_clear(orders: list[Order], rules: Rules) -> RefResult:
    price, vol = ref_price(orders, rules)
    if price is None:
        return RefResult(None, 0, {})
    return RefResult(price, vol, ref_allocate(orders, price, vol))


def clipped_limit(o: Order, rules: Rules) -> int:
    if o.side is Side.BUY:
        return o.price if rules.price_ceiling is None else min(o.price, rules.price_ceiling)
    return max(o.price, rules.price_floor)


def lp_surplus(orders: list[Order], rules: Rules, zones: list[str]) -> float:
    """Optimal total surplus of the zonal problem, order by order (independent formulation)."""
    zi = {z: i for i, z in enumerate(zones)}
    tradable = [
        o
        for o in orders
        if (o.side is Side.BUY and o.price >= rules.price_floor)
        or (o.side is Side.SELL and (rules.price_ceiling is None or o.price <= rules.price_ceiling))
    ]
    n, m = len(tradable), len(rules.links)
    if n == 0:
        return 0.0
    c = np.zeros(n + m)
    a = np.zeros((len(zones), n + m))
    ub: list[float | None] = []
    for j, o in enumerate(tradable):
        sign = 1.0 if o.side is Side.BUY else -1.0
        c[j] = -sign * clipped_limit(o, rules)
        a[zi[o.zone or ""], j] = sign  # bought - sold ...
        ub.append(float(o.quantity))
    for k, lk in enumerate(rules.links):
        a[zi[lk.from_zone], n + k] = 1.0  # ... + exported - imported = 0
        a[zi[lk.to_zone], n + k] = -(1000 - lk.loss) / 1000  # what arrives
        ub.append(None if lk.capacity is None else float(lk.capacity))
    res = linprog(c, A_eq=a, b_eq=np.zeros(len(zones)), bounds=[(0, u) for u in ub],
                  method="highs")  # fmt: skip
    assert res.status == 0, res.message
    return float(-res.fun)
