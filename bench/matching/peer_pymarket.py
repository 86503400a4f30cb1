"""Peer adapter: pymarket (PyPI 0.7.6) on a single-zone book in the CLI JSON format.

Run with pymarket's own venv: ``bench/.venvs/pymarket/bin/python peer_pymarket.py BOOK.json``.
pymarket 0.7.6 ships no mechanism called "uniform": its uniform price is the intersection of
the stepwise demand and supply curves (``intersect_stepwise``, midpoint k=0.5 when the curves
overlap on an interval), which its Huang mechanism then uses. We time both and print JSON.
"""

from __future__ import annotations

import json
import sys
import time
import warnings

warnings.filterwarnings("ignore")

import pymarket as pm  # noqa: E402
from pymarket.bids.demand_curves import (  # noqa: E402
    demand_curve_from_bids,
    intersect_stepwise,
    supply_curve_from_bids,
)


def main(path: str) -> None:
    with open(path, encoding="utf-8") as fh:
        doc = json.load(fh)
    t0 = time.perf_counter()
    mar = pm.Market()
    for i, o in enumerate(doc["orders"]):
        mar.accept_bid(o["quantity"], o["price"], i, o["side"] == "buy", o["seq"], True)
    df = mar.bm.get_df()
    t1 = time.perf_counter()
    dc, _ = demand_curve_from_bids(df)
    sc, _ = supply_curve_from_bids(df)
    q, _, _, price = intersect_stepwise(dc, sc)
    t2 = time.perf_counter()
    _, extra = mar.run("huang")
    t3 = time.perf_counter()
    print(json.dumps({
        "peer": "pymarket",
        "load_s": t1 - t0,
        "uniform_price_s": t2 - t1,
        "uniform_price": None if price is None else float(price),
        "uniform_quantity": None if q is None else float(q),
        "huang_s": t3 - t2,
        "huang_extra": {k: (None if v is None else float(v)) for k, v in extra.items()},
    }))  # fmt: skip


if __name__ == "__main__":
    main(sys.argv[1])
