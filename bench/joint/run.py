"""Benchmark of joint clearing with bundle orders (issue 21).

    .venv/bin/python bench/joint/run.py [--orders 10000] [--bundles 0,100,1000] [--out FILE]

Twelve single-zone markets (the leagues' water, discharge, energy-use and carbon rights are
synthetic here: market i has its own price level) with ``--orders`` orders each, and 0, 100
and 1,000 bundle orders across 2-4 of them (fixed seed). For each bundle count: the time of
``matching.clear_joint`` (validation and every MILP round included; best of ``--repeat``) and
its total surplus, against clearing each market alone with ``matching.clear`` (bundles
dropped). Writes the numbers to ``results.json`` next to this file.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import scipy

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parents[1]))

import matching._joint as joint_module  # noqa: E402
from matching import (  # noqa: E402
    Bundle,
    BundleLeg,
    Order,
    Rules,
    Side,
    clear,
    clear_joint,
    joint_result_hash,
    joint_surplus,
)

N_MARKETS = 12
LOT = 10


def markets(n: int, seed: int = 21) -> dict[str, tuple[list[Order], Rules]]:
    rng = np.random.default_rng(seed)
    out = {}
    for m in range(N_MARKETS):
        level = 9_000 + 200 * m  # fen per unit
        is_buy = rng.random(n) < 0.5
        centre = level + np.where(is_buy, 50, -50)
        price = np.clip(np.rint(rng.normal(centre, 300)), 1, None).astype(np.int64)
        qty = rng.integers(1, 1_000, n) * LOT
        seq = rng.permutation(n)
        orders = [Order(f"m{m}o{i}", "buy" if is_buy[i] else "sell", int(qty[i]), int(price[i]),
                        int(seq[i])) for i in range(n)]  # fmt: skip
        out[f"M{m:02d}"] = (orders, Rules(lot=LOT, tick=1, reference_price=level))
    return out


def bundles(k: int, prices: dict[str, int], seed: int = 22, scale: int = 1) -> list[Bundle]:
    """k bundles: 70 % buy, 2-4 legs of 100-20,000 units (times ``scale``), limit = value at
    the markets' stand-alone prices times 0.97-1.05 for buys, 0.95-1.03 for sells (so that
    some are in, some out, some marginal)."""
    rng = np.random.default_rng(seed)
    codes = sorted(prices)
    out = []
    for j in range(k):
        nleg = int(rng.integers(2, 5))
        chosen = sorted(rng.choice(len(codes), nleg, replace=False).tolist())
        legs = [BundleLeg(codes[c], int(rng.integers(10, 2_000)) * LOT * scale) for c in chosen]
        value = sum(prices[leg.market] * leg.quantity for leg in legs)
        side = Side.BUY if rng.random() < 0.7 else Side.SELL
        factor = rng.uniform(0.97, 1.05) if side is Side.BUY else rng.uniform(0.95, 1.03)
        out.append(Bundle(f"B{j:04d}", side, legs, int(value * factor), j))
    return out


def timed(fn: Any, repeat: int) -> tuple[float, Any]:
    best, out = float("inf"), None
    for _ in range(repeat):
        t = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t)
    return best, out


def machine() -> dict[str, Any]:
    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {"nproc": os.cpu_count(), "cpu": cpu, "python": platform.python_version(),
            "numpy": np.__version__, "scipy": scipy.__version__}  # fmt: skip


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--orders", type=int, default=10_000)
    ap.add_argument("--bundles", default="0,100,1000,1000x10",
                    help="bundle counts; NxS: N bundles with legs S times larger")
    ap.add_argument("--repeat", type=int, default=2)
    ap.add_argument("--out", default=str(HERE / "results.json"))
    args = ap.parse_args()
    mk = markets(args.orders)
    t_alone, alone = timed(lambda: {c: clear(o, r) for c, (o, r) in mk.items()}, args.repeat)
    prices = {c: r.price for c, r in alone.items()}
    solves = [0]
    orig = joint_module._Model.solve

    def counting(self: Any, cuts: Any, removed: Any) -> list[int]:
        solves[0] += 1
        return orig(self, cuts, removed)

    joint_module._Model.solve = counting  # type: ignore[method-assign]
    rows = []
    print(f"machine: {machine()}")
    print(f"{N_MARKETS} markets x {args.orders} orders; each alone: {t_alone * 1000:.0f} ms")
    for spec in args.bundles.split(","):
        k, _, sc = spec.partition("x")
        bl = bundles(int(k), prices, scale=int(sc or 1))
        solves[0] = 0
        t, res = timed(lambda bl=bl: clear_joint(mk, bl), args.repeat)
        rounds = solves[0] // args.repeat
        s_joint = joint_surplus(mk, bl, res)
        s_alone = joint_surplus(mk, [], _alone_result(alone))
        acc = sum(1 for b in res.bundles if b.accepted)
        row = {"bundles": spec, "seconds": round(t, 3), "milp_solves": rounds, "accepted": acc,
               "surplus_joint": int(s_joint), "surplus_alone": int(s_alone),
               "gain": int(s_joint - s_alone), "gain_pct": round(100 * float(s_joint - s_alone)
                                                                 / float(s_alone), 4),
               "result_hash": joint_result_hash(res)}  # fmt: skip
        rows.append(row)
        print(json.dumps(row))
    doc = {"machine": machine(), "orders_per_market": args.orders, "markets": N_MARKETS,
           "alone_seconds": round(t_alone, 3), "rows": rows}  # fmt: skip
    Path(args.out).write_text(json.dumps(doc, indent=1) + "\n", encoding="utf-8")


def _alone_result(alone: dict[str, Any]) -> Any:
    from matching import JointResult

    return JointResult(tuple(sorted(alone.items())), ())


if __name__ == "__main__":
    main()
