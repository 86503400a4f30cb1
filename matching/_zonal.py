"""Zonal clearing with directed transfer limits (see docs/matching.md, "Zonal clearing").

1. Zones joined by links of non-zero capacity form islands; an island of one zone is cleared
   by the single-zone auction, unchanged.
2. Otherwise orders are aggregated into (zone, side, price) levels and the surplus-maximising
   flow problem is solved as an LP with HiGHS (dual simplex, presolve off). Its network matrix
   is totally unimodular, so the optimal vertex is integral (in lots).
3. The set of equilibrium zone prices (the optimal duals) is read off the LP solution by
   complementary slackness as bounds per zone and order constraints p_a <= p_b along links.
   Zones forced to one price (strongly connected) form groups; bounds are propagated.
4. Each group's price: the single-zone rule on the group's own book, with its fixed net import
   as a price-taking order, restricted to the group's equilibrium interval; then raised, in
   topological order, to the price of any group that must not be dearer.
5. Fills: the single-zone allocation of each group at its price (price, time, id priority), the
   group's internal flows routed by an exact integer max-flow; if that cannot be routed within
   the internal capacities, the LP's own allocation is used.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy.optimize import linprog
from scipy.sparse import coo_matrix

from ._auction import (
    I64,
    IntArray,
    TieKey,
    allocate_side,
    auction_rows,
    demand_supply,
    determine_price,
    levels,
    merge_levels,
)
from ._graph import max_flow, scc, toposort
from ._lossy import clear_lossy_island

INF = float("inf")
NDArrayBool = Any


@dataclass
class ZonalOutcome:
    zone_price: list[int | None]
    filled: IntArray
    flow: list[int]  # per link, units sent
    received: list[int]  # per link, units arriving (= sent on a link without loss)


@dataclass
class _Side:
    zone: I64  # local zone index per level
    price: I64
    qty: IntArray  # units


def clear_zonal(
    q: IntArray,
    pr: I64,
    seq: I64,
    is_buy: NDArrayBool,
    zone: I64,
    nzones: int,
    links: list[tuple[int, int, int | None]],
    *,
    lot: int,
    tick: int,
    floor: int,
    ceiling: int | None,
    reference: int | None,
    tiekey: TieKey,
    losses: list[int] | None = None,
) -> ZonalOutcome:
    """Clear a zonal book; ``losses`` (per mille) are aligned with ``links``."""
    loss = losses if losses is not None else [0] * len(links)
    filled = np.zeros(q.size, dtype=q.dtype)
    zprice: list[int | None] = [None] * nzones
    # capacities floored to whole lots
    caps: list[int | None] = [None if c is None else (c // lot) * lot for _, _, c in links]
    flow = [0] * len(links)
    received = [0] * len(links)

    order = np.argsort(zone, kind="stable")
    bounds = np.searchsorted(zone[order], np.arange(nzones + 1))
    zrows = [order[bounds[z] : bounds[z + 1]] for z in range(nzones)]

    parent = list(range(nzones))

    def find(a: int) -> int:
        while parent[a] != a:
            parent[a] = parent[parent[a]]
            a = parent[a]
        return a

    for k, (a, b, _) in enumerate(links):
        if caps[k] != 0:
            ra, rb = find(a), find(b)
            if ra != rb:
                parent[max(ra, rb)] = min(ra, rb)
    islands: dict[int, list[int]] = {}
    for z in range(nzones):
        islands.setdefault(find(z), []).append(z)

    for members in islands.values():
        if len(members) == 1:
            z = members[0]
            p, _, f = auction_rows(
                q, pr, seq, is_buy, zrows[z], tiekey,
                floor=floor, ceiling=ceiling, tick=tick, reference=reference,
            )  # fmt: skip
            zprice[z] = p
            filled[zrows[z]] = f
            continue
        mset = set(members)
        ilinks = [k for k, (a, b, _) in enumerate(links) if a in mset and caps[k] != 0]
        if any(loss[k] for k in ilinks):
            clear_lossy_island(
                q, pr, seq, is_buy, members, zrows, links, loss, ilinks,
                lot=lot, tick=tick, floor=floor, ceiling=ceiling, reference=reference,
                tiekey=tiekey, zprice=zprice, filled=filled, flow=flow, received=received,
            )  # fmt: skip
            continue
        _clear_island(
            q, pr, seq, is_buy, zone, members, zrows, links, caps, ilinks,
            lot=lot, tick=tick, floor=floor, ceiling=ceiling, reference=reference,
            tiekey=tiekey, zprice=zprice, filled=filled, flow=flow,
        )  # fmt: skip
    for k in range(len(links)):
        if not loss[k]:
            received[k] = flow[k]
    return ZonalOutcome(zprice, filled, flow, received)


def _clear_island(
    q: IntArray,
    pr: I64,
    seq: I64,
    is_buy: NDArrayBool,
    zone: I64,
    members: list[int],
    zrows: list[I64],
    links: list[tuple[int, int, int | None]],
    caps: list[int | None],
    ilinks: list[int],
    *,
    lot: int,
    tick: int,
    floor: int,
    ceiling: int | None,
    reference: int | None,
    tiekey: TieKey,
    zprice: list[int | None],
    filled: IntArray,
    flow: list[int],
) -> None:
    nloc = len(members)
    loc = {z: i for i, z in enumerate(members)}
    g2l = np.full(max(members) + 1, -1, dtype=np.int64)
    g2l[np.array(members, dtype=np.int64)] = np.arange(nloc, dtype=np.int64)
    # --- (zone, side, clipped price) levels ----------------------------------------------
    bparts: list[tuple[I64, IntArray]] = []
    sparts: list[tuple[I64, IntArray]] = []
    bz: list[I64] = []
    sz: list[I64] = []
    for i, z in enumerate(members):
        r = zrows[z]
        rb = r[is_buy[r]]
        rs = r[~is_buy[r]]
        pb = pr[rb]
        ps = pr[rs]
        keep_b = pb >= floor
        keep_s = ps <= ceiling if ceiling is not None else np.ones(ps.size, dtype=bool)
        cb = pb[keep_b] if ceiling is None else np.minimum(pb[keep_b], ceiling)
        cs = np.maximum(ps[keep_s], floor)
        lb = levels(cb, q[rb[keep_b]])
        ls = levels(cs, q[rs[keep_s]])
        bparts.append(lb)
        sparts.append(ls)
        bz.append(np.full(lb[0].size, i, dtype=np.int64))
        sz.append(np.full(ls[0].size, i, dtype=np.int64))
    buys = _Side(np.concatenate(bz), np.concatenate([p for p, _ in bparts]),
                 np.concatenate([x for _, x in bparts]).astype(q.dtype))  # fmt: skip
    sells = _Side(np.concatenate(sz), np.concatenate([p for p, _ in sparts]),
                  np.concatenate([x for _, x in sparts]).astype(q.dtype))  # fmt: skip
    nb, ns, nl = buys.price.size, sells.price.size, len(ilinks)

    # --- the LP (lots, prices relative to a shift, in ticks) ---------------------------------
    allp = np.concatenate((buys.price, sells.price))
    shift = int(np.median(allp)) if allp.size else 0
    c = np.concatenate((
        -(buys.price - shift).astype(np.float64) / tick,
        (sells.price - shift).astype(np.float64) / tick,
        np.zeros(nl),
    ))  # fmt: skip
    lz = np.array([loc[links[k][0]] for k in ilinks], dtype=np.int64)
    lt = np.array([loc[links[k][1]] for k in ilinks], dtype=np.int64)
    rows = np.concatenate((buys.zone, sells.zone, lz, lt))
    cols = np.concatenate((np.arange(nb), nb + np.arange(ns), nb + ns + np.arange(nl),
                           nb + ns + np.arange(nl)))  # fmt: skip
    vals = np.concatenate((np.ones(nb), -np.ones(ns), np.ones(nl), -np.ones(nl)))
    a_eq = coo_matrix((vals, (rows, cols)), shape=(nloc, nb + ns + nl)).tocsr()
    qb_lots = (buys.qty // lot).astype(np.float64)
    qs_lots = (sells.qty // lot).astype(np.float64)
    cap_lots = np.array(
        [INF if caps[k] is None else float(caps[k] // lot) for k in ilinks],  # type: ignore[operator]
        dtype=np.float64,
    )
    ub = np.concatenate((qb_lots, qs_lots, cap_lots))
    bnds = np.stack((np.zeros(ub.size), ub), axis=1)
    res = linprog(c, A_eq=a_eq, b_eq=np.zeros(nloc), bounds=bnds, method="highs-ds",
                  options={"presolve": False})  # fmt: skip
    if res.status != 0 or res.x is None:  # pragma: no cover - the LP is always feasible
        raise RuntimeError(f"zonal LP failed: {res.message}")
    x = np.rint(res.x)
    xb, xs, xf = x[:nb], x[nb : nb + ns], x[nb + ns :]

    # --- equilibrium price bounds by complementary slackness --------------------------------
    lo = np.full(nloc, float(floor))
    hi = np.full(nloc, INF if ceiling is None else float(ceiling))
    bpf = buys.price.astype(np.float64)
    spf = sells.price.astype(np.float64)
    np.minimum.at(hi, buys.zone[xb > 0], bpf[xb > 0])
    np.maximum.at(lo, buys.zone[xb < qb_lots], bpf[xb < qb_lots])
    np.maximum.at(lo, sells.zone[xs > 0], spf[xs > 0])
    np.minimum.at(hi, sells.zone[xs < qs_lots], spf[xs < qs_lots])
    edges: set[tuple[int, int]] = set()  # (u, v): p_u <= p_v
    for j, k in enumerate(ilinks):
        a, b = loc[links[k][0]], loc[links[k][1]]
        if xf[j] < cap_lots[j]:
            edges.add((b, a))
        if xf[j] > 0:
            edges.add((a, b))
    comp = scc(nloc, edges)
    ng = max(comp) + 1
    gmembers: list[list[int]] = [[] for _ in range(ng)]
    for i, g in enumerate(comp):
        gmembers[g].append(i)
    gedges = sorted({(comp[u], comp[v]) for u, v in edges if comp[u] != comp[v]})
    preds: list[list[int]] = [[] for _ in range(ng)]
    succs: list[list[int]] = [[] for _ in range(ng)]
    for u, v in gedges:
        preds[v].append(u)
        succs[u].append(v)
    topo = toposort(ng, preds, succs)
    glo = [max(lo[i] for i in gmembers[g]) for g in range(ng)]
    ghi = [min(hi[i] for i in gmembers[g]) for g in range(ng)]
    for g in topo:
        for h in preds[g]:
            glo[g] = max(glo[g], glo[h])
    for g in reversed(topo):
        for h in succs[g]:
            ghi[g] = min(ghi[g], ghi[h])
    for g in range(ng):
        if glo[g] > ghi[g]:  # pragma: no cover - would mean a wrong LP solution
            raise RuntimeError("zonal clearing: inconsistent equilibrium price bounds")

    # --- flows between groups are at a bound: 0 or the capacity --------------------------------
    imp = [0] * ng  # net import of each group, units
    ext_in = [0] * nloc  # net inflow of each zone over inter-group links, units
    for j, k in enumerate(ilinks):
        a, b = loc[links[k][0]], loc[links[k][1]]
        if comp[a] == comp[b]:
            continue
        cap = caps[k]
        f = 0 if xf[j] == 0 else cap
        if f is None or (f != 0 and xf[j] != cap_lots[j]):  # pragma: no cover
            raise RuntimeError("zonal clearing: link between price groups not at a bound")
        flow[k] = f
        imp[comp[b]] += f
        imp[comp[a]] -= f
        ext_in[b] += f
        ext_in[a] -= f

    # --- group prices and allocation ---------------------------------------------------------
    maxp = int(allp.max()) if allp.size else floor
    gprice: list[int | None] = [None] * ng
    virtual: list[int] = [0] * ng
    for g in topo:
        mem = gmembers[g]
        bl, bq = merge_levels([bparts[i] for i in mem], q.dtype)
        sl, sq = merge_levels([sparts[i] for i in mem], q.dtype)
        g_lo = int(glo[g])
        g_hi = int(ghi[g]) if ghi[g] != INF else max(maxp, g_lo)
        exp_ = max(-imp[g], 0)
        imp_ = max(imp[g], 0)
        p_star, _ = determine_price(
            bl, bq, sl, sq, floor=g_lo, ceiling=g_hi, tick=tick, reference=reference,
            extra_demand=exp_, extra_supply=imp_,
        )  # fmt: skip
        floor_from_preds = max((virtual[h] for h in preds[g]), default=g_lo)
        grows = np.concatenate([zrows[members[i]] for i in mem])
        gb = grows[is_buy[grows]]
        gs = grows[~is_buy[grows]]
        if p_star is None:
            virtual[g] = max(g_lo, floor_from_preds)
            # nothing trades here, but flows between other groups may pass through
            transit = _transit(g, mem, comp, g2l, zone, gb, gs, ext_in, links, caps,
                               ilinks, loc, lot, xf)  # fmt: skip
            for k, f in transit.items():
                flow[k] = f
            continue
        p = max(p_star, floor_from_preds)
        virtual[g] = p
        gprice[g] = p
        d, s = demand_supply(bl, bq, sl, sq, np.array([p], dtype=np.int64))
        vol = min(int(d[0]) + exp_, int(s[0]) + imp_)
        fb = allocate_side(q, pr, seq, gb, buy=True, price=p, budget=vol - exp_, tiekey=tiekey)
        fs = allocate_side(q, pr, seq, gs, buy=False, price=p, budget=vol - imp_, tiekey=tiekey)
        routed = _route(g, mem, comp, g2l, zone, gb, fb, gs, fs, ext_in,
                        links, caps, ilinks, loc, lot)  # fmt: skip
        if routed is None:
            # fall back to the LP's own allocation (same surplus, possibly less volume)
            fb, fs, routed = _lp_allocation(
                g, mem, comp, g2l, zone, gb, gs, q, pr, seq, p, lot, tiekey,
                buys, sells, xb, xs, xf, ilinks, links, loc,
            )  # fmt: skip
        filled[gb] = fb
        filled[gs] = fs
        for k, f in routed.items():
            flow[k] = f
    for i, z in enumerate(members):
        zprice[z] = gprice[comp[i]]


def _transit(
    g: int,
    mem: list[int],
    comp: list[int],
    g2l: I64,
    zone: I64,
    gb: I64,
    gs: I64,
    ext_in: list[int],
    links: list[tuple[int, int, int | None]],
    caps: list[int | None],
    ilinks: list[int],
    loc: dict[int, int],
    lot: int,
    xf: Any,
) -> dict[int, int]:
    """Internal flows of a group where nothing trades: what enters from other groups is
    routed on to where it leaves (max-flow); failing that, the LP's own flows."""
    none_b = np.zeros(gb.size, dtype=np.int64)
    none_s = np.zeros(gs.size, dtype=np.int64)
    routed = _route(g, mem, comp, g2l, zone, gb, none_b, gs, none_s, ext_in,
                    links, caps, ilinks, loc, lot)  # fmt: skip
    if routed is not None:
        return routed
    return {  # pragma: no cover - the LP's flows conserve every zone of the group
        k: int(xf[j]) * lot
        for j, k in enumerate(ilinks)
        if comp[loc[links[k][0]]] == g and comp[loc[links[k][1]]] == g
    }


def _zone_totals(lzone: I64, mem: list[int], fills: IntArray) -> dict[int, int]:
    """Sum of fills per local zone, exact."""
    return {i: int(fills[lzone == i].sum()) for i in mem}


def _route(
    g: int,
    mem: list[int],
    comp: list[int],
    g2l: I64,
    zone: I64,
    gb: I64,
    fb: IntArray,
    gs: I64,
    fs: IntArray,
    ext_in: list[int],
    links: list[tuple[int, int, int | None]],
    caps: list[int | None],
    ilinks: list[int],
    loc: dict[int, int],
    lot: int,
) -> dict[int, int] | None:
    """Route the group's zone imbalances over its internal links (exact integer max-flow)."""
    bought = _zone_totals(g2l[zone[gb]], mem, fb)
    sold = _zone_totals(g2l[zone[gs]], mem, fs)
    need = {i: (bought[i] - sold[i] - ext_in[i]) // lot for i in mem}  # inflow needed, lots
    internal = [k for k in ilinks
                if comp[loc[links[k][0]]] == g and comp[loc[links[k][1]]] == g]  # fmt: skip
    total = sum(v for v in need.values() if v > 0)
    if total == 0:
        return dict.fromkeys(internal, 0)
    arcs: list[tuple[int, int, int]] = []
    src, snk = -1, -2
    for i in mem:
        if need[i] > 0:
            arcs.append((i, snk, need[i]))
        elif need[i] < 0:
            arcs.append((src, i, -need[i]))
    for k in internal:
        cap = caps[k]
        arcs.append((loc[links[k][0]], loc[links[k][1]], total if cap is None else cap // lot))
    value, fl = max_flow(arcs, src, snk)
    if value != total:
        return None
    out = {k: fl[len(arcs) - len(internal) + j] * lot for j, k in enumerate(internal)}
    # cancel opposite flows on two-way pairs
    idx = {(links[k][0], links[k][1]): k for k in internal}
    for k in internal:
        r = idx.get((links[k][1], links[k][0]))
        if r is not None and out[k] and out[r]:
            m = min(out[k], out[r])
            out[k] -= m
            out[r] -= m
    return out


def _lp_allocation(
    g: int,
    mem: list[int],
    comp: list[int],
    g2l: I64,
    zone: I64,
    gb: I64,
    gs: I64,
    q: IntArray,
    pr: I64,
    seq: I64,
    p: int,
    lot: int,
    tiekey: TieKey,
    buys: _Side,
    sells: _Side,
    xb: Any,
    xs: Any,
    xf: Any,
    ilinks: list[int],
    links: list[tuple[int, int, int | None]],
    loc: dict[int, int],
) -> tuple[IntArray, IntArray, dict[int, int]]:
    fb = np.zeros(gb.size, dtype=q.dtype)
    fs = np.zeros(gs.size, dtype=q.dtype)
    lb = g2l[zone[gb]]
    ls = g2l[zone[gs]]
    for i in mem:
        tb = sum(int(v) for v in xb[buys.zone == i]) * lot
        ts = sum(int(v) for v in xs[sells.zone == i]) * lot
        sel_b = np.flatnonzero(lb == i)
        sel_s = np.flatnonzero(ls == i)
        fb[sel_b] = allocate_side(q, pr, seq, gb[sel_b], buy=True, price=p, budget=tb,
                                  tiekey=tiekey)  # fmt: skip
        fs[sel_s] = allocate_side(q, pr, seq, gs[sel_s], buy=False, price=p, budget=ts,
                                  tiekey=tiekey)  # fmt: skip
    routed = {}
    for j, k in enumerate(ilinks):
        if comp[loc[links[k][0]]] == g and comp[loc[links[k][1]]] == g:
            routed[k] = int(xf[j]) * lot
    return fb, fs, routed
