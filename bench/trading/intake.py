"""Order intake through HTTP under gunicorn, with concurrent clients on loopback.

    .venv/bin/python bench/trading/intake.py --db sqlite --seconds 20
    .venv/bin/python bench/trading/intake.py --db postgres --seconds 20

Builds a fresh demo database (registry, allocations, cash, users and tokens; the
three weeks of history are skipped), serves it with ``exchange serve`` (gunicorn,
no access log), and lets client processes (one per league, each with a few
threads on keep-alive connections) post orders that do not cross, cancelling
one in ten. Prints orders accepted per second, latency percentiles and errors.
The clients run on the same two cores as the server.
"""

from __future__ import annotations

import argparse
import http.client
import json
import multiprocessing as mp
import os
import shutil
import signal
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from bench.common import fresh_database, seed, serve_exchange  # noqa: E402


def client(
    port: int,
    token: str,
    market: int,
    side: str,
    price: int,
    lot: int,
    seconds: float,
    threads: int,
    out: Any,
    batch: int = 1,
) -> None:
    """One league's client process: ``threads`` keep-alive connections posting orders.

    With ``batch`` > 1, each request is ``POST /api/v1/orders/batch`` with that many.
    """
    results: list[tuple[float, int]] = []
    lock = threading.Lock()
    stop = time.monotonic() + seconds
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}

    accepted = [0]

    def loop(n: int) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        mine: list[tuple[float, int]] = []
        counted = [0]
        i = 0
        while batch > 1 and time.monotonic() < stop:
            i += 1
            orders = [
                {
                    "market_id": market,
                    "side": side,
                    "quantity": lot,
                    "limit_price": price,
                    "client_order_id": f"b{os.getpid()}-{n}-{i}-{k}",
                }
                for k in range(batch)
            ]
            t0 = time.perf_counter()
            conn.request("POST", "/api/v1/orders/batch", json.dumps({"orders": orders}), headers)
            resp = conn.getresponse()
            data = resp.read()
            created = json.loads(data).get("created", 0) if resp.status == 201 else 0
            mine.append((time.perf_counter() - t0, resp.status))
            counted[0] += created
        while batch == 1 and time.monotonic() < stop:
            i += 1
            body = json.dumps(
                {
                    "market_id": market,
                    "side": side,
                    "quantity": lot,
                    "limit_price": price,
                    "client_order_id": f"b{os.getpid()}-{n}-{i}",
                }
            )
            t0 = time.perf_counter()
            conn.request("POST", "/api/v1/orders", body, headers)
            resp = conn.getresponse()
            data = resp.read()
            mine.append((time.perf_counter() - t0, resp.status))
            counted[0] += resp.status == 201
            if resp.status == 201 and i % 10 == 0:
                order_id = json.loads(data)["id"]
                t0 = time.perf_counter()
                conn.request("DELETE", f"/api/v1/orders/{order_id}", headers=headers)
                resp = conn.getresponse()
                resp.read()
                mine.append((time.perf_counter() - t0, -resp.status))
        conn.close()
        with lock:
            results.extend(mine)
            accepted[0] += counted[0]

    pool = [threading.Thread(target=loop, args=(n,)) for n in range(threads)]
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    out.put((results, accepted[0]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--db", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--client-threads", type=int, default=2)
    parser.add_argument("--leagues", type=int, default=12)
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--batch", type=int, default=1, help="orders per request (batch API)")
    args = parser.parse_args()

    workdir = Path(tempfile.mkdtemp(prefix="exchange-bench-"))
    url = fresh_database(args.db, workdir, "exchange_bench")
    credentials = workdir / "credentials.json"
    seed(url, credentials)
    users = json.loads(credentials.read_text())["users"]
    leagues = [u for u in users.values() if u["role"] == "league"][: args.leagues]

    # The server logs a JSON line per request: to a file, never to an unread pipe.
    server = serve_exchange(
        url,
        args.port,
        workdir / "server.log",
        workers=args.workers,
        threads=args.threads,
        SECRET_KEY="bench",
    )
    try:
        for _ in range(100):
            try:
                conn = http.client.HTTPConnection("127.0.0.1", args.port, timeout=2)
                conn.request("GET", "/api/v1/markets")
                markets = json.loads(conn.getresponse().read())
                conn.close()
                break
            except OSError:
                time.sleep(0.2)
        else:
            raise SystemExit("server did not start; see " + str(workdir / "server.log"))
        carbon = next(m for m in markets if m["code"] == "CEA-2026")
        out: Any = mp.Queue()
        procs = []
        for n, user in enumerate(leagues):
            # sellers above buyers: nothing crosses, every order rests in the book; buyers
            # bid the floor so that their cash lasts the whole run
            side, price = ("sell", 12_000) if n % 2 else ("buy", 2_000)
            procs.append(
                mp.Process(
                    target=client,
                    args=(
                        args.port,
                        user["token"],
                        carbon["id"],
                        side,
                        price,
                        carbon["lot"],
                        args.seconds,
                        args.client_threads,
                        out,
                        args.batch,
                    ),
                )
            )
        started = time.monotonic()
        for p in procs:
            p.start()
        results: list[tuple[float, int]] = []
        orders_accepted = 0
        for _ in procs:
            got, count = out.get()
            results.extend(got)
            orders_accepted += count
        for p in procs:
            p.join()
        elapsed = time.monotonic() - started
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=30)
        shutil.rmtree(workdir, ignore_errors=True)

    posts = [(t, s) for t, s in results if s > 0]
    cancels = [(t, -s) for t, s in results if s < 0]
    errors = [s for _t, s in results if abs(s) >= 400]
    lat = sorted(t * 1000 for t, _s in posts)
    q = statistics.quantiles(lat, n=100) if len(lat) > 1 else [0.0] * 99
    report = {
        "db": args.db,
        "gunicorn": f"{args.workers} workers x {args.threads} threads",
        "clients": f"{len(leagues)} processes x {args.client_threads} threads",
        "seconds": round(elapsed, 1),
        "batch": args.batch,
        "orders_accepted": orders_accepted,
        "orders_per_second": round(orders_accepted / elapsed, 1),
        "cancels": len(cancels),
        "requests_per_second": round(len(results) / elapsed, 1),
        "post_latency_ms": {
            "p50": round(q[49], 1),
            "p90": round(q[89], 1),
            "p99": round(q[98], 1),
            "max": round(lat[-1], 1) if lat else 0,
        },
        "errors": len(errors),
        "error_statuses": sorted(set(errors)),
    }
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
