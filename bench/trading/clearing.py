"""A full clearing run of 10k and 100k orders: load, match, settle, commit.

    .venv/bin/python bench/trading/clearing.py                       # SQLite
    .venv/bin/python bench/trading/clearing.py --postgres            # PostgreSQL too

For each size: a freshly migrated database with the demo registry, allocations
and cash; N crossing orders in the carbon market (12 leagues, random sides,
sizes and limits) entered in bulk with their holds (not measured); then one
``run_clearing`` call, timed end to end (it reports its own load / match /
settle split; the rest is storing the snapshot, run record and commit).
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import bindparam, insert, select, update

import ledger
from exchange import create_app
from exchange.extensions import db
from exchange.mechanisms.call_auction.run import run_clearing
from exchange.migrate import upgrade_engine
from exchange.models import ClearingRun, Market, Order, RunTrigger
from exchange.services.demo import seed_registry
from exchange.services.demo_ledger import seed_demo_ledger
from exchange.uow import unit_of_work

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
from bench.common import fresh_database

LEAGUES = [
    "hohhot",
    "baotou",
    "ordos",
    "ulanqab",
    "hulunbuir",
    "hinggan",
    "tongliao",
    "chifeng",
    "xilingol",
    "bayannur",
    "wuhai",
    "alxa",
]


def build_book(url: str, n: int, seed: int = 1, *, crossing: bool = True) -> int:
    """Seed ``url`` and enter ``n`` random orders in the carbon market; returns its id.

    ``crossing=False``: buy limits 80.00-94.00 yuan, sell limits 94.01-110.00, so nothing
    trades and the whole book rests (a run that only loads, matches and records)."""
    buys, sells = (
        ((9_000, 10_500), (8_800, 10_300)) if crossing else ((8_000, 9_400), (9_401, 11_000))
    )
    app = create_app({"DATABASE_URL": url})
    rng = random.Random(seed)
    with app.app_context():
        upgrade_engine(db.engine)
        s = db.session_factory()
        try:
            seed_registry(s)
            seed_demo_ledger(s)
            market = s.scalar(select(Market).where(Market.code == "CEA-2026"))
            assert market is not None
            mid, lot = market.id, market.lot
            with unit_of_work(s):
                for league in LEAGUES:
                    ledger.deposit_cash(
                        s, league=league, amount=10**13, reference="bench", actor="bench"
                    )
            now = datetime.now(UTC)
            rows = []
            for i in range(n):
                side = rng.choice(["buy", "sell"])
                price = rng.randint(*buys) if side == "buy" else rng.randint(*sells)
                rows.append(
                    {
                        "market_id": mid,
                        "league_code": rng.choice(LEAGUES),
                        "zone": "",  # single-zone market
                        "side": side,
                        "quantity": rng.randint(1, 50) * lot,
                        "limit_price": price,
                        "filled_quantity": 0,
                        "filled_amount": 0,
                        "status": "open",
                        "validity": "gtc",
                        "client_order_id": f"bench-{i}",
                        "created_by": "bench",
                        "created_at": now,
                        "updated_at": now,
                    }
                )
            with unit_of_work(s):
                ids = list(
                    s.scalars(insert(Order).returning(Order.id, sort_by_parameter_order=True), rows)
                )
                requests = [
                    ledger.HoldRequest(
                        league=r["league_code"],
                        asset=ledger.market_asset(mid) if r["side"] == "sell" else ledger.CASH,
                        amount=r["quantity"]
                        if r["side"] == "sell"
                        else r["quantity"] * r["limit_price"],
                        reference=f"order:{oid}",
                        chain=ledger.market_asset(mid),
                    )
                    for oid, r in zip(ids, rows, strict=True)
                ]
                holds = ledger.place_holds(s, requests, actor="bench")
                s.connection().execute(
                    update(Order.__table__)
                    .where(Order.__table__.c.id == bindparam("b_id"))
                    .values(hold_id=bindparam("b_hold")),
                    [{"b_id": o, "b_hold": h} for o, h in zip(ids, holds, strict=True)],
                )
        finally:
            s.close()
    app.extensions["exchange.db"]["engine"].dispose()
    return mid


def measure(url: str, mid: int) -> dict[str, object]:
    app = create_app({"DATABASE_URL": url})
    with app.app_context():
        started = time.perf_counter()
        outcome = run_clearing(
            db.session_factory,
            mid,
            datetime(2027, 1, 4, 2, tzinfo=UTC),
            trigger=RunTrigger.MANUAL,
            actor="bench",
        )
        total = time.perf_counter() - started
        s = db.session_factory()
        try:
            run = s.get(ClearingRun, outcome.run_id)
            assert run is not None and run.status == "completed", run and run.failure_reason
            journals, _ = ledger.list_journals(s, reference=f"run:{run.id}/", limit=1)
            result = {
                "orders": run.order_count,
                "volume": run.volume,
                "price": run.price,
                "settlement_journals": journals,
                "total_s": round(total, 2),
                "timings_ms": run.timings_ms,
            }
        finally:
            s.close()
    app.extensions["exchange.db"]["engine"].dispose()
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--postgres", action="store_true")
    parser.add_argument("--sizes", default="10000,100000")
    args = parser.parse_args()
    kinds = ["sqlite"] + (["postgres"] if args.postgres else [])
    workdir = Path(tempfile.mkdtemp(prefix="exchange-clear-"))
    out = []
    for kind in kinds:
        for n in (int(x) for x in args.sizes.split(",")):
            url = fresh_database(kind, workdir, f"exchange_clear_{n}")
            t = time.perf_counter()
            mid = build_book(url, n)
            setup = time.perf_counter() - t
            result = {"db": kind, "setup_s": round(setup, 1), **measure(url, mid)}
            print(json.dumps(result), flush=True)
            out.append(result)


if __name__ == "__main__":
    main()
