"""The CPU of one order POST (and one cancel) in this process, with a profile (PostgreSQL).

    .venv/bin/python bench/trading/profile_order.py --orders 2000
    .venv/bin/python bench/trading/profile_order.py --orders 2000 --profile pyinstrument
    .venv/bin/python bench/trading/profile_order.py --orders 2000 --profile cprofile
    .venv/bin/python bench/trading/profile_order.py --profile cprofile --measure cancel

A fresh database ``exchange_profile_order`` with the demo registry, allocations, cash and
users (``bench.common.seed``); then, through Flask's test client in one thread, ``--orders``
non-crossing orders of one league in the carbon market (the body ``intake_floor.py`` posts),
then a cancel of each. The first fifth of each is warm-up and left out. Prints the CPU
(``time.process_time``: this process only, not PostgreSQL's) and wall time per request;
with ``--profile``, the profile of the measured POSTs (or cancels, ``--measure cancel``):
pyinstrument's tree, or cProfile's top functions by cumulative time. Then the floor app
(``../shared/bench/floor_app.py`` with the cancel of ``floor_cancel_app.py``, on a database
``exchange_profile_floor``) in the same harness, for the same count of POSTs and cancels.
With ``PROFILE_DUMP=<file>``, cProfile's statistics are also written there (for ``pstats``).
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from bench.common import fresh_database, seed  # noqa: E402
from exchange import create_app  # noqa: E402

FLOOR = ROOT.parent / "shared" / "bench"
DATABASE, FLOOR_DATABASE = "exchange_profile_order", "exchange_profile_floor"


def _server_cpu(database: str) -> float:
    """Seconds of CPU that PostgreSQL's processes serving ``database`` have used so far.

    Read from ``/proc`` (the server runs on this machine): backends and autovacuum workers
    name their database in their process title."""
    ticks = 0
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            title = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ")
            if f" {database} ".encode() in title:
                stat = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
                ticks += int(stat[11]) + int(stat[12])
        except OSError:
            continue
    return ticks / os.sysconf("SC_CLK_TCK")


def _timed(call: Any, n: int, database: str) -> tuple[float, float, float]:
    """CPU, wall and PostgreSQL's CPU, milliseconds per ``call(i)`` for ``i`` in ``range(n)``."""
    s0, c0, w0 = _server_cpu(database), time.process_time(), time.perf_counter()
    for i in range(n):
        call(i)
    cpu, wall = time.process_time() - c0, time.perf_counter() - w0
    return 1000 * cpu / n, 1000 * wall / n, 1000 * (_server_cpu(database) - s0) / n


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--orders", type=int, default=2000)
    parser.add_argument("--profile", choices=("pyinstrument", "cprofile"), default=None)
    parser.add_argument(
        "--measure", choices=("post", "cancel"), default="post", help="what to profile"
    )
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp())
    url = fresh_database("postgres", work, DATABASE)
    seed(url, work / "creds.json")
    users = json.loads((work / "creds.json").read_text())["users"].values()
    token = next(u["token"] for u in users if u["role"] == "league")
    os.environ["EXCHANGE_LOG_LEVEL"] = "WARNING"
    app = create_app({"DATABASE_URL": url, "SECRET_KEY": "bench"})
    client = app.test_client()
    auth = {"Authorization": f"Bearer {token}"}
    market = next(m for m in client.get("/api/v1/markets").json if m["code"].startswith("CEA"))
    body = {"market_id": market["id"], "side": "buy", "quantity": market["lot"]}
    ids: list[int] = []

    def post(i: int) -> None:
        reply = client.post(
            "/api/v1/orders",
            json={**body, "limit_price": 2_000, "client_order_id": f"p-{i}"},
            headers=auth,
        )
        assert reply.status_code == 201, reply.json
        ids.append(reply.json["id"])

    def cancel(i: int) -> None:
        reply = client.delete(f"/api/v1/orders/{ids[i]}", headers=auth)
        assert reply.status_code == 200, reply.json

    warm = args.orders // 5
    _timed(post, warm, DATABASE)
    with _profiled(args.profile if args.measure == "post" else None):
        cpu, wall, server = _timed(lambda i: post(warm + i), args.orders - warm, DATABASE)
    _timed(cancel, warm, DATABASE)
    with _profiled(args.profile if args.measure == "cancel" else None):
        ccpu, cwall, cserver = _timed(lambda i: cancel(warm + i), args.orders - warm, DATABASE)
    print(f"ms per request, {args.orders - warm} each: CPU of this process, wall, PostgreSQL's CPU")
    print(f"order POST: CPU {cpu:.2f}, wall {wall:.2f}, PostgreSQL {server:.2f}")
    print(f"cancel:     CPU {ccpu:.2f}, wall {cwall:.2f}, PostgreSQL {cserver:.2f}")
    if (FLOOR / "floor_app.py").exists():
        (fcpu, fwall, fserver), (gcpu, gwall, gserver) = _floor(work, args.orders)
        print(f"floor POST: CPU {fcpu:.2f}, wall {fwall:.2f}, PostgreSQL {fserver:.2f}")
        print(f"floor cancel: CPU {gcpu:.2f}, wall {gwall:.2f}, PostgreSQL {gserver:.2f}")


@contextmanager
def _profiled(kind: str | None) -> Iterator[None]:
    """Profile the block's CPU with ``kind`` (pyinstrument or cProfile) and print it."""
    if kind == "pyinstrument":
        from pyinstrument import Profiler

        profiler = Profiler(interval=0.0002)
        profiler.start()
        yield
        profiler.stop()
        print(profiler.output_text(unicode=False, color=False, show_all=False))
    elif kind == "cprofile":
        import cProfile
        import pstats

        timed = cProfile.Profile(time.process_time)  # CPU, not wall time
        timed.enable()
        yield
        timed.disable()
        for sort in ("cumulative", "tottime"):
            pstats.Stats(timed).sort_stats(sort).print_stats(45)
        if os.environ.get("PROFILE_DUMP"):
            timed.dump_stats(os.environ["PROFILE_DUMP"])
    else:
        yield


def _floor(work: Path, count: int) -> tuple[tuple[float, float, float], tuple[float, float, float]]:
    """CPU, wall and PostgreSQL's CPU per POST, then per cancel, of the floor app, as ours."""
    os.environ["BASELINE_URL"] = fresh_database("postgres", work, FLOOR_DATABASE)
    os.environ["FLOOR_DIR"] = str(FLOOR)
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    import floor_cancel_app  # type: ignore[import-not-found]

    token = secrets.token_hex(16)
    floor_cancel_app.setup(["league"], [token])
    client = floor_cancel_app.app.test_client()
    auth = {"Authorization": f"Bearer {token}"}
    body = {"market_id": 1, "side": "buy", "quantity": 1, "limit_price": 2_000}

    ids: list[int] = []

    def post(i: int) -> None:
        reply = client.post("/orders", json={**body, "client_order_id": f"p-{i}"}, headers=auth)
        assert reply.status_code == 201, reply.json
        ids.append(reply.json["id"])

    def cancel(i: int) -> None:
        reply = client.delete(f"/orders/{ids[i]}", headers=auth)
        assert reply.status_code == 200, reply.json

    warm = count // 5
    _timed(post, warm, FLOOR_DATABASE)
    posts = _timed(lambda i: post(warm + i), count - warm, FLOOR_DATABASE)
    _timed(cancel, warm, FLOOR_DATABASE)
    return posts, _timed(lambda i: cancel(warm + i), count - warm, FLOOR_DATABASE)


if __name__ == "__main__":
    main()
