"""Benchmark of the pure continuous book (``matching.continuous.OrderBook``).

    .venv/bin/python bench/continuous/run.py [--sizes 10000 1000000] [--repeat 3]
                                             [--out bench/continuous/results.json]

A fixed-seed order flow (see ``flow``) of limit orders that rest, cancels of live orders and
crossing (marketable) limit orders is generated first, outside the timing, as ``LimitOrder`` /
``Cancel`` values. Then the same flow runs through

- ``OrderBook``: price levels in a dict, their prices in a sorted list, a deque per level,
  a dict by id for cancels; every result an immutable event value;
- ``SortedListBook`` below: the simple baseline, one sorted list of orders per side kept with
  ``bisect.insort``, cancels by bisect and ``del``, trades as plain tuples.

Both books apply the price band, price-time priority and self-trade prevention ("cancel
newest"); the script checks that they produce the same trades and the same resting orders.
Times are wall-clock (``time.perf_counter``), best of ``--repeat`` runs, in commands per
second (a command = one submit or one cancel), with the garbage collector on; results are
dropped once returned (as a shell does after settling them), and the generated flow is moved
out of the collector's reach with ``gc.freeze()``, since a live exchange does not hold it.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import platform
import random
import subprocess
import sys
import time
from bisect import bisect_left, insort
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from matching import Side
from matching.continuous import (
    BookRules,
    Cancel,
    Cancelled,
    CancelReason,
    LimitOrder,
    OrderBook,
    SubmitResult,
    Trade,
    price_band,
)

MID = 10_000  # 100.00 yuan in fen
BAND = price_band(MID, 10)  # +-10 % of the previous close: [9000, 11000]
MIX = {"rest": 0.60, "cancel": 0.25, "cross": 0.15}
NEAR = 5_000  # near-touch orders above which a resting order is replaced by a cancel

Flow = list[LimitOrder | Cancel]


def flow(n: int, preload: int = 0, seed: int = 16) -> tuple[Flow, Flow, dict[str, int]]:
    """A warm-up of ``preload`` resting orders priced 100-1000 fen from the mid (a deep book
    of stale orders; untimed), then ``n`` commands: 60 % limit orders priced 1-50 fen away
    from a mid price that walks by one fen within 80 fen of 100.00 yuan (they rest; above
    ``NEAR`` near-touch orders they become cancels, so the book stays about that deep),
    25 % cancels of an order drawn uniformly from every live order (preloaded ones
    included), 15 % crossing limit orders priced 60 fen through the mid (they take the
    best orders up to their quantity and rest the rest); quantities 1-1000 t, 500 participants.
    Live orders are tracked with an OrderBook while generating."""
    rnd = random.Random(seed)
    book = OrderBook(BookRules(band=BAND))
    warm: Flow = []
    cmds: Flow = []
    live: list[str] = []
    mid = MID
    kinds = {"rest": 0, "cancel": 0, "cross": 0}
    deepest = 0
    for i in range(-preload, n):
        if i < 0:
            buy = rnd.random() < 0.5
            off = rnd.randint(100, 1000)
            o = LimitOrder(f"w{-i}", f"p{rnd.randrange(500)}", Side.BUY if buy else Side.SELL,
                           rnd.randint(1, 1000), mid - off if buy else mid + off, i)  # fmt: skip
            book.submit(o)
            live.append(o.id)
            warm.append(o)
            continue
        deepest = max(deepest, len(book))
        mid = min(max(mid + rnd.choice((-1, 0, 0, 1)), MID - 80), MID + 80)
        r = rnd.random()
        kind = "rest" if r < MIX["rest"] else "cancel" if r < 1 - MIX["cross"] else "cross"
        if kind == "rest" and len(book) >= NEAR + preload:
            kind = "cancel"
        while kind == "cancel" and live:
            j = rnd.randrange(len(live))
            live[j], live[-1] = live[-1], live[j]
            oid = live.pop()
            if book.get(oid) is not None:
                cmd: LimitOrder | Cancel = Cancel(oid)
                book.cancel(oid)
                break
        else:
            if kind == "cancel":
                kind = "rest"
            buy = rnd.random() < 0.5
            off = rnd.randint(1, 50) if kind == "rest" else -60
            price = mid - off if buy else mid + off
            who = f"p{rnd.randrange(500)}"
            cmd = LimitOrder(f"o{i}", who, Side.BUY if buy else Side.SELL,
                             rnd.randint(1, 1000), price, i)  # fmt: skip
            if book.submit(cmd).resting:
                live.append(cmd.id)
        kinds[kind] += 1
        cmds.append(cmd)
    kinds["resting_at_end"] = len(book)
    kinds["resting_max"] = deepest
    kinds["trades"] = book.trade_count
    return warm, cmds, kinds


class SortedListBook:
    """Baseline: per side one list of order keys sorted with ``bisect.insort``, best last
    (bids ``(price, -seq, id)``, asks ``(-price, -seq, id)``), and a dict id -> order. Same
    entry checks and the same event values as ``OrderBook``, so only the structure differs."""

    def __init__(self, rules: BookRules) -> None:
        self.rules = rules
        self.bids: list[tuple[int, int, str]] = []
        self.asks: list[tuple[int, int, str]] = []
        self.orders: dict[str, list[Any]] = {}  # id -> [quantity, order, key]
        self.ids: set[str] = set()
        self.last_seq = -(2**63)
        self.count = 0

    def submit(self, o: LimitOrder) -> SubmitResult:
        r, band = self.rules, self.rules.band
        if o.quantity % r.lot or o.price % r.tick or o.seq <= self.last_seq or o.id in self.ids:
            raise ValueError("refused")
        if band is not None and not band.low <= o.price <= band.high:
            raise ValueError("outside band")
        self.ids.add(o.id)
        self.last_seq = o.seq
        is_buy = o.side is Side.BUY
        opp = self.asks if is_buy else self.bids
        qty, price, trades = o.quantity, o.price, []
        while qty and opp:
            key = opp[-1]
            p = -key[0] if is_buy else key[0]
            if (p > price) if is_buy else (p < price):
                break
            m = self.orders[key[2]]
            maker = m[1]
            if maker.participant == o.participant:  # self-trade prevention: cancel newest
                c = Cancelled(o.id, o.participant, o.side, o.price, qty,
                              CancelReason.SELF_TRADE, maker.id)  # fmt: skip
                return SubmitResult(o, tuple(trades), 0, c)
            fill = min(qty, m[0])
            self.count += 1
            if is_buy:
                t = Trade(self.count, o.seq, o.id, maker.id, o.participant, maker.participant,
                          p, fill, o.side)  # fmt: skip
            else:
                t = Trade(self.count, o.seq, maker.id, o.id, maker.participant, o.participant,
                          p, fill, o.side)  # fmt: skip
            trades.append(t)
            m[0] -= fill
            qty -= fill
            if not m[0]:
                opp.pop()
                del self.orders[key[2]]
        if qty:
            k = (price, -o.seq, o.id) if is_buy else (-price, -o.seq, o.id)
            insort(self.bids if is_buy else self.asks, k)
            self.orders[o.id] = [qty, o, k]
        return SubmitResult(o, tuple(trades), qty, None)

    def cancel(self, oid: str) -> Cancelled:
        qty, o, key = self.orders.pop(oid)
        side = self.bids if o.side is Side.BUY else self.asks
        del side[bisect_left(side, key)]
        return Cancelled(o.id, o.participant, o.side, o.price, qty, CancelReason.REQUESTED)


def run(book: OrderBook | SortedListBook, warm: Flow, cmds: Flow) -> float:
    """Seconds to run ``cmds`` through ``book`` after ``warm`` (untimed); each result is
    dropped, as a shell does after settling it."""
    submit, cancel = book.submit, book.cancel
    for o in warm:
        submit(o)  # type: ignore[arg-type]
    t = time.perf_counter()
    for c in cmds:
        if type(c) is LimitOrder:
            submit(c)
        else:
            cancel(c.id)
    return time.perf_counter() - t


def same_results(rules: BookRules, warm: Flow, cmds: Flow) -> bool:
    """Both books give equal results for every command and end with the same orders."""
    a, b = OrderBook(rules), SortedListBook(rules)
    for c in warm + cmds:
        if type(c) is LimitOrder:
            if a.submit(c) != b.submit(c):
                return False
        elif a.cancel(c.id) != b.cancel(c.id):
            return False
    return len(a) == len(b.orders)


def machine() -> dict[str, Any]:
    model = "?"
    with open("/proc/cpuinfo", encoding="utf-8") as fh:
        for line in fh:
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    nproc = subprocess.run(["nproc"], capture_output=True, text=True, check=False).stdout
    return {"nproc": int(nproc.strip() or 0), "cpu": model, "python": platform.python_version(),
            "implementation": platform.python_implementation()}  # fmt: skip


def bench(n: int, preload: int, repeat: int) -> dict[str, Any]:
    warm, cmds, mix = flow(n, preload)
    gc.collect()
    gc.freeze()  # the generated flow is not part of the work: keep it out of the collections
    rules = BookRules(band=BAND)
    best: dict[str, float] = {"ours": float("inf"), "baseline": float("inf")}
    load = os.getloadavg()
    for _ in range(repeat):
        for name, cls in (("ours", OrderBook), ("baseline", SortedListBook)):
            best[name] = min(best[name], run(cls(rules), warm, cmds))
    load_after = os.getloadavg()
    same = same_results(rules, warm, cmds)
    gc.unfreeze()
    return {"commands": n, "preload": preload, "mix": mix,
            "load_before": load, "load_after": load_after,
            "ours_s": best["ours"], "ours_per_s": n / best["ours"],
            "baseline_s": best["baseline"], "baseline_per_s": n / best["baseline"],
            "ratio": best["baseline"] / best["ours"], "same_results": same}  # fmt: skip


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[10_000, 1_000_000])
    ap.add_argument(
        "--preload",
        type=int,
        nargs="+",
        default=[0, 200_000],
        help="stale resting orders in the book before the timed flow",
    )
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--out", type=Path, default=Path(__file__).with_name("results.json"))
    args = ap.parse_args()
    info = {"machine": machine(), "runs": []}
    print(json.dumps(info["machine"]))
    for pre, n in ((p, n) for p in args.preload for n in args.sizes):
        row = bench(n, pre, args.repeat if n <= 100_000 else max(1, args.repeat - 1))
        info["runs"].append(row)  # type: ignore[attr-defined]
        print(f"{n:>9,} commands, {pre:,} preloaded: ours {row['ours_per_s']:>10,.0f}/s "
              f"({row['ours_s']:.3f} s)  "
              f"baseline {row['baseline_per_s']:>10,.0f}/s ({row['baseline_s']:.3f} s)  "
              f"x{row['ratio']:.2f}  same results: {row['same_results']}  mix {row['mix']}  "
              f"load {row['load_before']}")  # fmt: skip
    args.out.write_text(json.dumps(info, indent=1) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
