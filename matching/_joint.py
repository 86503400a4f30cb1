"""Joint clearing of single-zone markets with bundle orders (docs/matching.md, "Joint clearing").

1. **Selection.** A mixed-integer programme (HiGHS via ``scipy.optimize.milp``, gap 0)
   maximises total surplus: ordinary orders as (market, side, clipped price) levels in lots,
   each bundle as an integer number of steps ``x`` with a binary ``y`` (``min_steps * y <= x <=
   steps * y``; all or nothing: ``x = steps * y``), one balance row per market.
2. **Prices.** Given the accepted bundles, every market is cleared by the single-market rule
   on its own orders with the bundles' legs as price-taking bids (buy legs) and offers (sell
   legs), served first. A market without accepted legs is cleared by :func:`clear` itself.
3. **No paradoxically accepted bundle.** An accepted buy bundle must pay at most its limit at
   those prices, a sell bundle receive at least its limit. If one does not, the accepted set is
   excluded by a no-good cut and the programme solved again (the next best set). After
   ``exact_rounds`` such rounds, every paradoxically accepted bundle is instead removed for
   good (EUPHEMIA-style) until none is left. Within the exact rounds the result is the best set
   of bundles with no paradoxical acceptance (for all-or-nothing bundles).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from fractions import Fraction

import numpy as np
from numpy.typing import NDArray
from scipy.optimize import Bounds, LinearConstraint, milp
from scipy.sparse import coo_matrix

from ._auction import (
    I64,
    IntArray,
    allocate_side,
    demand_supply,
    determine_price,
    id_tiekey,
    levels,
)
from ._bundle import ALL_OR_NOTHING, Bundle, BundleResult, JointResult
from ._clear import Book, _exact_dtype, clear, validate
from ._types import ClearingResult, Fill, InvalidBook, Order, Rules, Side

F64 = NDArray[np.float64]
#: Largest bundle leg, in lots, and largest total of a market's orders, in lots: the solver
#: works in floats (matrix entries up to 1e15, exact integers up to 2**53).
MAX_LEG_LOTS = 2**49
MAX_MARKET_LOTS = 2**53
#: No-good rounds before paradoxical bundles are removed one round at a time.
EXACT_ROUNDS = 16


class _Unabsorbed(Exception):
    """A market cannot absorb the accepted legs (only through float tolerance in the MILP)."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


class _Market:
    """One market of the joint book: orders, rules, columnar book and its clipped levels."""

    def __init__(self, code: str, orders: list[Order], rules: Rules) -> None:
        if rules.zonal:
            raise InvalidBook(f"market {code!r}: joint clearing takes single-zone markets "
                              "(no links or zones)", field="rules.links")  # fmt: skip
        try:
            book = validate(orders, rules)
        except InvalidBook as exc:
            raise InvalidBook(f"market {code!r}: {exc.message}", order_id=exc.order_id,
                              field=exc.field) from None  # fmt: skip
        self.code, self.orders, self.rules, self.book = code, orders, rules, book
        self.q: IntArray = _exact_dtype(np.asarray(book.quantity))
        self.lots = sum(int(v) for v in book.quantity.tolist()) // rules.lot
        self.ids = set(book.ids or ())
        pr, buy = book.price, book.is_buy
        fl, ce = rules.price_floor, rules.price_ceiling
        kb = buy & (pr >= fl)
        ks = ~buy & (pr <= ce) if ce is not None else ~buy
        cb = pr[kb] if ce is None else np.minimum(pr[kb], ce)
        self.buy_levels = levels(cb, self.q[kb])
        self.sell_levels = levels(np.maximum(pr[ks], fl), self.q[ks])


def _check_bundles(bundles: list[Bundle], markets: dict[str, _Market]) -> None:
    seen: set[str] = set()
    for b in bundles:
        if not isinstance(b, Bundle):
            raise InvalidBook(f"expected Bundle values, got {type(b).__name__}")
        if b.id in seen:
            raise InvalidBook(f"duplicate bundle id {b.id!r}", order_id=b.id, field="id")
        seen.add(b.id)
        for leg in b.legs:
            m = markets.get(leg.market)
            if m is None:
                raise InvalidBook(f"bundle {b.id!r}: unknown market {leg.market!r}",
                                  order_id=b.id, field="legs.market")  # fmt: skip
            if leg.quantity % m.rules.lot:
                raise InvalidBook(
                    f"bundle {b.id!r}: quantity {leg.quantity} in {leg.market!r} is not a "
                    f"multiple of the lot ({m.rules.lot})", order_id=b.id, field="legs.quantity",
                )  # fmt: skip
            if leg.quantity // m.rules.lot > MAX_LEG_LOTS:
                raise InvalidBook(
                    f"bundle {b.id!r}: quantity in {leg.market!r} exceeds {MAX_LEG_LOTS} lots",
                    order_id=b.id, field="legs.quantity",
                )  # fmt: skip
            if m.lots > MAX_MARKET_LOTS:
                raise InvalidBook(f"market {m.code!r}: orders total more than {MAX_MARKET_LOTS} "
                                  "lots, too many for bundles", field="quantity")  # fmt: skip
            if b.id in m.ids:
                raise InvalidBook(f"bundle {b.id!r}: id is also an order id in market "
                                  f"{leg.market!r}", order_id=b.id, field="id")  # fmt: skip


def clear_joint(
    markets: Mapping[str, tuple[Iterable[Order], Rules]],
    bundles: Iterable[Bundle] = (),
    *,
    exact_rounds: int = EXACT_ROUNDS,
) -> JointResult:
    """Clear several single-zone markets of one window together with bundle orders."""
    mk: dict[str, _Market] = {}
    for code in sorted(markets):
        if not isinstance(code, str) or not code:
            raise InvalidBook(f"market code must be a non-empty string, got {code!r}",
                              field="markets")  # fmt: skip
        orders, rules = markets[code]
        mk[code] = _Market(code, list(orders), rules)
    blist = sorted(bundles, key=lambda b: b.id if isinstance(b, Bundle) else "")
    _check_bundles(blist, mk)
    lots = {c: m.rules.lot for c, m in mk.items()}
    steps = [b.steps(lots) for b in blist]
    model = _Model(mk, blist, steps) if blist else None
    cuts: list[frozenset[int]] = []
    removed: set[int] = set()
    rounds = 0
    while True:
        x = model.solve(cuts, removed) if model is not None else []
        try:
            results = _price_markets(mk, blist, steps, x)
        except _Unabsorbed as exc:  # float tolerance in the solver: drop that market's bundles
            removed.update(k for k, b in enumerate(blist)
                           if x[k] and any(leg.market == exc.code for leg in b.legs))  # fmt: skip
            continue
        prices = {c: r.price for c, r in results.items()}
        bad = [k for k, b in enumerate(blist) if x[k] and _paradoxical(b, prices)]
        if not bad:
            break
        rounds += 1
        if rounds <= exact_rounds:
            cuts.append(frozenset(k for k in range(len(blist)) if x[k]))
        else:
            removed.update(bad)
    out = tuple(BundleResult(b.id, x[k] > 0, x[k], steps[k][1], b.min_ratio != ALL_OR_NOTHING)
                for k, b in enumerate(blist))  # fmt: skip
    return JointResult(tuple(sorted(results.items())), out)


def _paradoxical(b: Bundle, prices: Mapping[str, int | None]) -> bool:
    """True if the accepted bundle pays more (buy) or receives less (sell) than its limit."""
    value = 0
    for leg in b.legs:
        p = prices[leg.market]
        if p is None:  # pragma: no cover - a market with an accepted leg always has a price
            raise RuntimeError("joint clearing: a market with an accepted leg has no price")
        value += p * leg.quantity
    return value > b.limit if b.side is Side.BUY else value < b.limit


class _Model:
    """The selection MILP in canonical order: markets by code, levels by price, bundles by id."""

    def __init__(self, mk: dict[str, _Market], blist: list[Bundle],
                 steps: list[tuple[int, int]]) -> None:  # fmt: skip
        codes = list(mk)
        row = {c: i for i, c in enumerate(codes)}
        cost: list[F64] = []
        ub: list[F64] = []
        rows: list[I64] = []
        vals: list[F64] = []
        ncol = 0
        for c in codes:
            m = mk[c]
            lot = m.rules.lot
            for (p, q), sign in ((m.buy_levels, 1.0), (m.sell_levels, -1.0)):
                cost.append(-sign * p.astype(np.float64) * lot)
                ub.append((q // lot).astype(np.float64))
                rows.append(np.full(p.size, row[c], dtype=np.int64))
                vals.append(np.full(p.size, sign))
                ncol += p.size
        self.nlev = ncol
        self.nb = nb = len(blist)
        cols: list[I64] = [np.arange(ncol, dtype=np.int64)]
        brow: list[int] = []
        bcol: list[int] = []
        bval: list[float] = []
        bcost = np.zeros(2 * nb)
        for k, b in enumerate(blist):
            sign = 1.0 if b.side is Side.BUY else -1.0
            g = steps[k][1]
            bcost[k] = -sign * b.limit / g
            for leg in b.legs:
                brow.append(row[leg.market])
                bcol.append(ncol + k)
                bval.append(sign * ((leg.quantity // mk[leg.market].rules.lot) // g))
        rows.append(np.array(brow, dtype=np.int64))
        cols.append(np.array(bcol, dtype=np.int64))
        vals.append(np.array(bval, dtype=np.float64))
        self.c = np.concatenate([*cost, bcost])
        self.ub = np.concatenate([*ub, np.array([float(g) for _, g in steps]), np.ones(nb)])
        n = self.c.size
        # market balances, then per bundle: x - min*y >= 0 and x - steps*y <= 0
        r = np.concatenate(rows)
        cc = np.concatenate(cols)
        vv = np.concatenate(vals)
        nm = len(codes)
        kk = np.arange(nb)
        link_r = np.concatenate((nm + kk, nm + kk, nm + nb + kk, nm + nb + kk))
        link_c = np.concatenate((ncol + kk, ncol + nb + kk, ncol + kk, ncol + nb + kk))
        link_v = np.concatenate((np.ones(nb), -np.array([float(s) for s, _ in steps]),
                                 np.ones(nb), -np.array([float(g) for _, g in steps])))  # fmt: skip
        at = (np.concatenate((r, link_r)), np.concatenate((cc, link_c)))
        self.a = coo_matrix((np.concatenate((vv, link_v)), at), shape=(nm + 2 * nb, n)).tocsr()
        self.lo = np.concatenate((np.zeros(nm), np.zeros(nb), np.full(nb, -np.inf)))
        self.hi = np.concatenate((np.zeros(nm), np.full(nb, np.inf), np.zeros(nb)))
        self.integrality = np.concatenate((np.zeros(ncol), np.ones(2 * nb)))

    def solve(self, cuts: list[frozenset[int]], removed: set[int]) -> list[int]:
        """Steps per bundle of an optimal selection avoiding ``cuts`` and ``removed``."""
        ub = self.ub.copy()
        for k in removed:
            ub[self.nlev + k] = 0.0
            ub[self.nlev + self.nb + k] = 0.0
        cons = [LinearConstraint(self.a, self.lo, self.hi)]
        if cuts:
            ycol = self.nlev + self.nb
            cut = np.zeros((len(cuts), self.c.size))
            for i, s in enumerate(cuts):
                cut[i, ycol : ycol + self.nb] = -1.0
                cut[i, [ycol + k for k in sorted(s)]] = 1.0
            cons.append(LinearConstraint(cut, -np.inf, np.array([len(s) - 1.0 for s in cuts])))
        res = milp(self.c, integrality=self.integrality, bounds=Bounds(np.zeros(ub.size), ub),
                   constraints=cons, options={"mip_rel_gap": 0.0, "presolve": False})  # fmt: skip
        if res.status != 0 or res.x is None:  # pragma: no cover - x = 0 is always feasible
            raise RuntimeError(f"joint clearing MILP failed: {res.message}")
        x = np.rint(res.x[self.nlev : self.nlev + self.nb]).astype(np.int64).tolist()
        y = np.rint(res.x[self.nlev + self.nb :]).astype(np.int64).tolist()
        return [int(a) if b else 0 for a, b in zip(x, y, strict=True)]


def _price_markets(
    mk: dict[str, _Market], blist: list[Bundle], steps: list[tuple[int, int]], x: list[int]
) -> dict[str, ClearingResult]:
    """Each market by the single-market rule with the accepted legs as price-taking orders."""
    legs: dict[str, list[tuple[str, Side, int]]] = {c: [] for c in mk}
    for k, b in enumerate(blist):
        if x[k]:
            for leg in b.legs:
                legs[leg.market].append((b.id, b.side, leg.quantity * x[k] // steps[k][1]))
    return {c: _price_market(m, legs[c]) if legs[c] else clear(m.orders, m.rules)
            for c, m in mk.items()}  # fmt: skip


def _price_market(m: _Market, legs: list[tuple[str, Side, int]]) -> ClearingResult:
    book: Book = m.book
    ext_d = sum(q for _, s, q in legs if s is Side.BUY)
    ext_s = sum(q for _, s, q in legs if s is Side.SELL)
    pr: I64 = np.asarray(book.price, dtype=np.int64)
    seq: I64 = np.asarray(book.seq, dtype=np.int64)
    buy = np.asarray(book.is_buy, dtype=np.bool_)
    rb = np.flatnonzero(buy)
    rs = np.flatnonzero(~buy)
    bl, bq = levels(pr[rb], m.q[rb])
    sl, sq = levels(pr[rs], m.q[rs])
    r = m.rules
    p, _ = determine_price(bl, bq, sl, sq, floor=r.price_floor, ceiling=r.price_ceiling,
                           tick=r.tick, reference=r.reference_price, extra_demand=ext_d,
                           extra_supply=ext_s)  # fmt: skip
    if p is None:  # pragma: no cover - the MILP balanced the market
        raise _Unabsorbed(m.code)
    d, s = demand_supply(bl, bq, sl, sq, np.array([p], dtype=np.int64))
    vol = min(int(d[0]) + ext_d, int(s[0]) + ext_s)
    tiekey = id_tiekey(list(book.ids or ()))
    fb = allocate_side(m.q, pr, seq, rb, buy=True, price=p, budget=vol - ext_d, tiekey=tiekey)
    fs = allocate_side(m.q, pr, seq, rs, buy=False, price=p, budget=vol - ext_s, tiekey=tiekey)
    if vol < max(ext_d, ext_s):  # pragma: no cover - the MILP balanced the market
        raise _Unabsorbed(m.code)
    if int(fb.sum()) + ext_d != int(fs.sum()) + ext_s:  # pragma: no cover - a bug
        raise RuntimeError(f"joint clearing: quantity not conserved in {m.code!r}")
    ids = list(book.ids or ())
    fills = [Fill(ids[i], int(f), p) for i, f in zip(rb.tolist(), fb.tolist(), strict=True) if f]
    fills += [Fill(ids[i], int(f), p) for i, f in zip(rs.tolist(), fs.tolist(), strict=True) if f]
    fills += [Fill(bid, q, p) for bid, _, q in legs]
    return ClearingResult(p, None, vol, tuple(sorted(fills, key=lambda f: f.id)))


def joint_surplus(
    markets: Mapping[str, tuple[Iterable[Order], Rules]],
    bundles: Iterable[Bundle],
    result: JointResult,
) -> Fraction:
    """Total surplus of a joint result: buyers' limits minus sellers' limits over every fill
    (limits beyond the floor/ceiling counted at the bound), bundles at their scaled limit."""
    total = Fraction(0)
    bres = {b.id: b for b in result.bundles}
    for b in bundles:
        br = bres[b.id]
        if br.accepted:
            total += Fraction((1 if b.side is Side.BUY else -1) * b.limit * br.steps, br.of)
    for code, (orders, rules) in markets.items():
        by_id = {o.id: o for o in orders}
        for f in result.market(code).fills:
            o = by_id.get(f.id)
            if o is None:
                continue
            if o.side is Side.BUY:
                lim = o.price if rules.price_ceiling is None else min(o.price, rules.price_ceiling)
                total += lim * f.quantity
            else:
                total -= max(o.price, rules.price_floor) * f.quantity
    return total
