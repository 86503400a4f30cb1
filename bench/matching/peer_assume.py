"""Peer adapter: ASSUME (PyPI ``assume-framework``) zonal clearing on a book in CLI JSON format.

Run with ASSUME's own venv: ``bench/.venvs/assume/bin/python peer_assume.py BOOK.json``.
Calls ``assume.markets.clearing_algorithms.complex_clearing.market_clearing_opt`` (pyomo model,
HiGHS via appsi) with one simple bid per order, one node per zone and one line per pair of
zones (ASSUME lines are symmetric: |flow| <= s_nom; the benchmark books use equal capacities
in both directions). Prints JSON: wall time, traded volume, welfare, zone prices (duals).
"""

from __future__ import annotations

import json
import logging
import sys
import time
import warnings

warnings.filterwarnings("ignore")
logging.disable(logging.WARNING)

import pandas as pd  # noqa: E402
import pyomo.environ as pyo  # noqa: E402
from assume.common.utils import create_incidence_matrix  # noqa: E402
from assume.markets.clearing_algorithms.complex_clearing import market_clearing_opt  # noqa: E402


def main(path: str) -> None:
    with open(path, encoding="utf-8") as fh:
        doc = json.load(fh)
    t0 = time.perf_counter()
    caps: dict[tuple[str, str], int] = {}
    for lk in doc["rules"]["links"]:
        key = (min(lk["from"], lk["to"]), max(lk["from"], lk["to"]))
        c = lk["capacity"]
        caps[key] = c if key not in caps else min(caps[key], c)
    zones = sorted({o["zone"] for o in doc["orders"]} | {z for k in caps for z in k})
    lines = pd.DataFrame(
        [{"name": f"{a}-{b}", "bus0": a, "bus1": b, "s_nom": float(c)}
         for (a, b), c in sorted(caps.items())]
    ).set_index("name")  # fmt: skip
    buses = pd.DataFrame(index=zones)
    incidence = create_incidence_matrix(lines, buses)
    orders = []
    for o in doc["orders"]:
        sign = -1.0 if o["side"] == "buy" else 1.0
        orders.append({
            "bid_id": o["id"], "bid_type": "SB", "node": o["zone"], "start_time": 0,
            "end_time": 1, "only_hours": None, "volume": sign * o["quantity"],
            "price": float(o["price"]), "min_acceptance_ratio": None,
        })  # fmt: skip
    t1 = time.perf_counter()
    instance, results = market_clearing_opt(
        orders, [(0, 1, None)], "default", False, incidence_matrix=incidence, lines=lines
    )
    t2 = time.perf_counter()
    volume = 0.0
    welfare = 0.0
    for o in orders:
        x = pyo.value(instance.xs[o["bid_id"]])
        if o["volume"] < 0:
            volume += -o["volume"] * x
        welfare -= o["price"] * o["volume"] * x
    prices = {z: instance.dual[instance.energy_balance[z, 0]] for z in zones}
    print(json.dumps({
        "peer": "assume", "prepare_s": t1 - t0, "clear_s": t2 - t1,
        "status": str(results.solver.termination_condition), "volume": volume,
        "welfare": welfare, "zone_prices": prices,
    }))  # fmt: skip


if __name__ == "__main__":
    main(sys.argv[1])
