"""Zonal clearing of an island whose links carry conveyance losses (docs/matching.md,
"Conveyance losses").

1. Orders are aggregated into (zone, side, clipped price) levels. A mixed-integer programme
   (HiGHS via ``scipy.optimize.milp``, optimality gap 0) maximises total surplus over integer
   lots: per link ``sent`` and ``received`` with ``received = floor(sent * (1000 - loss) /
   1000)`` (two linear inequalities), per zone ``bought - sold + sent out - received in = 0``.
   A tiny cost per lot sent (too small to change the surplus) prefers fewer transport.
2. Only the link flows are kept; ``received`` is recomputed exactly in integers. Each zone is
   then a single-zone auction with its arrivals as a price-taking offer and its departures as
   a price-taking bid: the single-zone rule gives its price and the usual priority its fills.
3. Along each link with a flow, within the prices that keep each zone's volume, the sending
   zone's price is lowered (sinks first), then the receiving zone's price raised (sources
   first), until ``price_to * received >= price_from * sent``: buyers pay for what arrives,
   sellers are paid for what they sent, and the exchange does not pay the difference.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy.optimize import Bounds, LinearConstraint, milp
from scipy.sparse import coo_matrix

from ._auction import (
    I64,
    IntArray,
    TieKey,
    allocate_side,
    demand_supply,
    determine_price,
    levels,
    segments,
)

INF = float("inf")


def received_lots(sent: int, loss: int) -> int:
    """Lots that arrive of ``sent`` lots over a link with ``loss`` per mille (rounded down)."""
    return (sent * (1000 - loss)) // 1000


def _clipped_levels(
    q: IntArray, pr: I64, rows: I64, buy: bool, floor: int, ceiling: int | None
) -> tuple[I64, IntArray]:
    p = pr[rows]
    if buy:
        keep = p >= floor
        c = p[keep] if ceiling is None else np.minimum(p[keep], ceiling)
    else:
        keep = p <= ceiling if ceiling is not None else np.ones(p.size, dtype=bool)
        c = np.maximum(p[keep], floor)
    return levels(c, q[rows[keep]])


def _solve_flows(
    zb: list[tuple[I64, IntArray]],
    zs: list[tuple[I64, IntArray]],
    ends: list[tuple[int, int]],
    cap_lots: list[int | None],
    loss: list[int],
    lot: int,
    tick: int,
) -> list[int]:
    """Sent lots per link of the surplus-maximising integer programme."""
    nz, nl = len(zb), len(ends)
    bp = np.concatenate([p for p, _ in zb])
    sp = np.concatenate([p for p, _ in zs])
    bq = np.concatenate([x // lot for _, x in zb]).astype(np.float64)
    sq = np.concatenate([x // lot for _, x in zs]).astype(np.float64)
    bzone = np.concatenate([np.full(p.size, i) for i, (p, _) in enumerate(zb)])
    szone = np.concatenate([np.full(p.size, i) for i, (p, _) in enumerate(zs)])
    nb, ns = bp.size, sp.size
    eps = 0.5 / (1.0 + nl * (float(sq.sum()) + 1.0))
    c = np.concatenate((-bp / tick, sp / tick, np.full(nl, eps), np.zeros(nl)))
    fcol = nb + ns + np.arange(nl)
    rcol = nb + ns + nl + np.arange(nl)
    a = np.array([e[0] for e in ends], dtype=np.int64)
    b = np.array([e[1] for e in ends], dtype=np.int64)
    rows = np.concatenate((bzone, szone, a, b, nz + np.arange(nl), nz + np.arange(nl)))
    cols = np.concatenate((np.arange(nb), nb + np.arange(ns), fcol, rcol, fcol, rcol))
    keep = 1000.0 - np.array(loss, dtype=np.float64)
    vals = np.concatenate((np.ones(nb), -np.ones(ns), np.ones(nl), -np.ones(nl), keep,
                           np.full(nl, -1000.0)))  # fmt: skip
    mat = coo_matrix((vals, (rows, cols)), shape=(nz + nl, nb + ns + 2 * nl)).tocsr()
    lo_c = np.concatenate((np.zeros(nz), np.zeros(nl)))
    hi_c = np.concatenate((np.zeros(nz), np.full(nl, 999.0)))
    caps = np.array([INF if x is None else float(x) for x in cap_lots])
    ub = np.concatenate((bq, sq, caps, caps))
    res = milp(
        c, integrality=np.ones(c.size), bounds=Bounds(np.zeros(c.size), ub),
        constraints=LinearConstraint(mat, lo_c, hi_c),
        options={"mip_rel_gap": 0.0, "presolve": False},
    )  # fmt: skip
    if res.status != 0 or res.x is None:  # pragma: no cover - x = 0 is always feasible
        raise RuntimeError(f"lossy zonal MILP failed: {res.message}")
    return [int(v) for v in np.rint(res.x[nb + ns : nb + ns + nl])]


def _max_volume_range(
    lv: tuple[I64, IntArray, I64, IntArray], exp_: int, imp_: int, *,
    floor: int, ceiling: int | None, tick: int,
) -> tuple[int, int]:  # fmt: skip
    """Lowest and highest tick price at which a zone with fixed export/import trades its
    largest volume (the prices that keep its allocation)."""
    bl, bq, sl, sq = lv
    lo, hi, d, s = segments(bl, bq, sl, sq, floor=floor, ceiling=ceiling, tick=tick,
                            extra_demand=exp_, extra_supply=imp_)  # fmt: skip
    vol = np.minimum(d, s)
    best = vol == vol.max()
    return int(lo[best].min()), int(hi[best].max())


def clear_lossy_island(
    q: IntArray,
    pr: I64,
    seq: I64,
    is_buy: Any,
    members: list[int],
    zrows: list[I64],
    links: list[tuple[int, int, int | None]],
    losses: list[int],
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
    received: list[int],
) -> None:
    """Clear one island with lossy links in place (prices, fills, sent and received units)."""
    loc = {z: i for i, z in enumerate(members)}
    zb = [_clipped_levels(q, pr, zrows[z][is_buy[zrows[z]]], True, floor, ceiling)
          for z in members]  # fmt: skip
    zs = [_clipped_levels(q, pr, zrows[z][~is_buy[zrows[z]]], False, floor, ceiling)
          for z in members]  # fmt: skip
    ends = [(loc[links[k][0]], loc[links[k][1]]) for k in ilinks]
    cap_lots = [None if links[k][2] is None else links[k][2] // lot for k in ilinks]  # type: ignore[operator]
    loss = [losses[k] for k in ilinks]
    sent = _solve_flows(zb, zs, ends, cap_lots, loss, lot, tick)
    arrived = [received_lots(f, lo) for f, lo in zip(sent, loss, strict=True)]
    imp = [0] * len(members)
    exp = [0] * len(members)
    for j, (a, b) in enumerate(ends):
        exp[a] += sent[j] * lot
        imp[b] += arrived[j] * lot
    # zone books on raw limits (the single-zone rule), prices and their upper bounds
    raw = []
    price: list[int | None] = []
    rng: list[tuple[int, int]] = []
    rows = np.concatenate([zrows[z] for z in members])
    top = ceiling if ceiling is not None else max(int(pr[rows].max()) if rows.size else 0, floor)
    top -= (top - floor) % tick
    for i, z in enumerate(members):
        r = zrows[z]
        rb, rs = r[is_buy[r]], r[~is_buy[r]]
        bl, bq = levels(pr[rb], q[rb])
        sl, sq = levels(pr[rs], q[rs])
        raw.append((bl, bq, sl, sq))
        p, _ = determine_price(
            bl, bq, sl, sq, floor=floor, ceiling=ceiling, tick=tick, reference=reference,
            extra_demand=exp[i], extra_supply=imp[i],
        )  # fmt: skip
        price.append(p)
        rng.append(_max_volume_range(raw[i], exp[i], imp[i], floor=floor, ceiling=top,
                                     tick=tick) if p is not None else (0, 0))  # fmt: skip
    _settle_link_prices(price, rng, ends, sent, arrived, tick)
    for i, z in enumerate(members):
        p = price[i]
        zprice[z] = p
        if p is None:
            if imp[i] or exp[i]:  # pragma: no cover - the MILP balanced every zone
                raise RuntimeError("lossy zonal clearing: a zone cannot absorb its flows")
            continue
        bl, bq, sl, sq = raw[i]
        d, s = demand_supply(bl, bq, sl, sq, np.array([p], dtype=np.int64))
        vol = min(int(d[0]) + exp[i], int(s[0]) + imp[i])
        r = zrows[z]
        rb, rs = r[is_buy[r]], r[~is_buy[r]]
        filled[rb] = allocate_side(q, pr, seq, rb, buy=True, price=p, budget=vol - exp[i],
                                   tiekey=tiekey)  # fmt: skip
        filled[rs] = allocate_side(q, pr, seq, rs, buy=False, price=p, budget=vol - imp[i],
                                   tiekey=tiekey)  # fmt: skip
    for j, k in enumerate(ilinks):
        flow[k] = sent[j] * lot
        received[k] = arrived[j] * lot


def _flow_order(n: int, ends: list[tuple[int, int]], sent: list[int]) -> list[int]:
    """Zones in topological order of the used links (a cycle is entered at its smallest zone)."""
    indeg = [0] * n
    for j, (_, b) in enumerate(ends):
        if sent[j] > 0:
            indeg[b] += 1
    out: list[int] = []
    done = [False] * n
    ready = sorted(i for i in range(n) if indeg[i] == 0)
    while len(out) < n:
        if not ready:
            ready = [min(i for i in range(n) if not done[i])]
        i = ready.pop(0)
        if done[i]:
            continue
        done[i] = True
        out.append(i)
        for j, (a, b) in enumerate(ends):
            if a == i and sent[j] > 0:
                indeg[b] -= 1
                if indeg[b] == 0 and not done[b]:
                    ready.append(b)
                    ready.sort()
    return out


def _settle_link_prices(
    price: list[int | None],
    rng: list[tuple[int, int]],
    ends: list[tuple[int, int]],
    sent: list[int],
    arrived: list[int],
    tick: int,
) -> None:
    """Make ``price_to * received >= price_from * sent`` on every used link where the zones'
    ranges allow: first lower senders (sinks first), then raise receivers (sources first)."""
    order = _flow_order(len(price), ends, sent)
    used = [j for j in range(len(ends)) if sent[j] > 0 and arrived[j] > 0]
    for i in reversed(order):  # down-pass: a sender's price at most p_to * received / sent
        for j in used:
            a, b = ends[j]
            pa, pb = price[a], price[b]
            if a == i and pa is not None and pb is not None and pb * arrived[j] < pa * sent[j]:
                cap = (pb * arrived[j] // sent[j]) // tick * tick
                price[a] = min(pa, max(cap, rng[a][0]))
    for i in order:  # up-pass: a receiver's price at least p_from * sent / received
        for j in used:
            a, b = ends[j]
            pa, pb = price[a], price[b]
            if a == i and pa is not None and pb is not None and pb * arrived[j] < pa * sent[j]:
                need = -((-pa * sent[j]) // arrived[j])
                need = -((-need) // tick) * tick
                price[b] = max(pb, min(need, rng[b][1]))
