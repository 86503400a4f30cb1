"""The CPU of one clearing run on a resting book, in this process (PostgreSQL).

    .venv/bin/python bench/trading/run_cpu.py --orders 2600 --runs 25

A fresh database ``exchange_run_cpu`` with the demo registry, allocations and cash, and
``--orders`` orders in the carbon market that do not cross (``clearing.build_book`` with
``crossing=False``): every run loads, locks, matches and records the whole book and settles
nothing, as most runs of ``bench/load`` do (its books grow to ~2,600 live orders a market).
Then ``--runs`` runs, one after another, each timed in CPU (``time.process_time``: this
process only, not PostgreSQL's) and wall time. The first five are left out (plans, caches).
The machine's speed wanders: compare the minimum and the lower quartile, and alternate
the code being compared in one session.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench" / "trading"))

from clearing import build_book  # noqa: E402

from bench.common import fresh_database  # noqa: E402
from exchange import create_app  # noqa: E402
from exchange.extensions import db  # noqa: E402
from exchange.mechanisms.call_auction.run import run_clearing  # noqa: E402
from exchange.models import RunTrigger  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--orders", type=int, default=2600)
    parser.add_argument("--runs", type=int, default=25)
    args = parser.parse_args()
    url = fresh_database("postgres", Path(tempfile.mkdtemp()), "exchange_run_cpu")
    market = build_book(url, args.orders, crossing=False)
    app = create_app({"DATABASE_URL": url})
    cpu, wall = [], []
    with app.app_context():
        at = datetime(2027, 1, 4, 2, tzinfo=UTC)
        for i in range(args.runs):
            c0, w0 = time.process_time(), time.perf_counter()
            run_clearing(
                db.session_factory,
                market,
                at + timedelta(minutes=i),
                trigger=RunTrigger.MANUAL,
                actor="bench",
            )
            cpu.append(1000 * (time.process_time() - c0))
            wall.append(1000 * (time.perf_counter() - w0))
    cpu, wall = cpu[5:], wall[5:]
    print(
        f"run of {args.orders} resting orders, {len(cpu)} runs: CPU min {min(cpu):.1f} ms, "
        f"p25 {statistics.quantiles(cpu, n=4)[0]:.1f} ms, median {statistics.median(cpu):.1f} ms;"
        f" wall median {statistics.median(wall):.1f} ms"
    )


if __name__ == "__main__":
    main()
