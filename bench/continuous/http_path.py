"""Continuous trading through HTTP under gunicorn: crossing orders matched at entry.

    .venv/bin/python bench/continuous/http_path.py --db sqlite --seconds 20
    .venv/bin/python bench/continuous/http_path.py --db postgres --seconds 20

Builds a fresh demo database (registry, allocations, cash, users and tokens), serves it
with ``exchange serve`` (gunicorn), and lets one client process per league (a few
threads each, keep-alive) post limit orders in the demo's continuous carbon market
(``CEA-2026-L``, open around the clock): sellers and buyers quote around the reference
price so that about half the orders cross and trade at entry (matched, settled DvP and
recorded in the order's transaction); one order in ten is cancelled. Prints orders per
second, trades made, latency percentiles and the statuses of refusals; then replays the
day's recorded order flow and checks it gives the same trades. The clients run on the
same cores as the server.
"""

from __future__ import annotations

import argparse
import http.client
import json
import multiprocessing as mp
import os
import random
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from bench.common import fresh_database, seed  # noqa: E402

BIN = Path(sys.executable).parent
MARKET = "CEA-2026-L"


def client(port: int, token: str, market: dict[str, Any], side: str, seconds: float,
           threads: int, out: Any) -> None:  # fmt: skip
    """One league's client process: ``threads`` keep-alive connections posting orders."""
    results: list[tuple[float, int, int]] = []  # (seconds, status, fills)
    lock = threading.Lock()
    stop = time.monotonic() + seconds
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    ref = market["reference_price"]

    def loop(n: int) -> None:
        rng = random.Random(os.getpid() * 100 + n)
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        mine: list[tuple[float, int, int]] = []
        i = 0
        while time.monotonic() < stop:
            i += 1
            offset = rng.randint(-100, 60) if side == "buy" else rng.randint(-60, 100)
            body = json.dumps({
                "market_id": market["id"], "side": side,
                "quantity": market["lot"] * rng.randint(1, 5), "limit_price": ref + offset,
                "client_order_id": f"h{os.getpid()}-{n}-{i}",
            })  # fmt: skip
            t0 = time.perf_counter()
            conn.request("POST", "/api/v1/orders", body, headers)
            resp = conn.getresponse()
            data = json.loads(resp.read())
            fills = len(data.get("fills", [])) if resp.status == 201 else 0
            mine.append((time.perf_counter() - t0, resp.status, fills))
            if (
                resp.status == 201
                and i % 10 == 0
                and data["status"] in ("open", "partially_filled")
            ):
                conn.request("DELETE", f"/api/v1/orders/{data['id']}", headers=headers)
                resp = conn.getresponse()
                resp.read()
                mine.append((0.0, -resp.status, 0))
        conn.close()
        with lock:
            results.extend(mine)

    pool = [threading.Thread(target=loop, args=(n,)) for n in range(threads)]
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    out.put(results)


def _wait(port: int, workdir: Path) -> list[dict[str, Any]]:
    for _ in range(150):
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            conn.request("GET", "/api/v1/markets")
            markets: list[dict[str, Any]] = json.loads(conn.getresponse().read())
            conn.close()
            return markets
        except OSError:
            time.sleep(0.2)
    raise SystemExit("server did not start; see " + str(workdir / "server.log"))


def _replay(url: str) -> str:
    code = (
        "from datetime import UTC, datetime\n"
        "from sqlalchemy import select\n"
        "from exchange import create_app\n"
        "from exchange.extensions import db\n"
        "from exchange.models import Market\n"
        "from exchange.mechanisms.continuous import sessions\n"
        "from exchange.mechanisms.continuous.replay import replay_session\n"
        f"app = create_app({{'DATABASE_URL': {url!r}}})\n"
        "with app.app_context():\n"
        "    s = db.session_factory()\n"
        f"    mid = s.scalar(select(Market.id).where(Market.code == {MARKET!r}))\n"
        "    r = replay_session(s, mid, sessions.trading_day(datetime.now(UTC)))\n"
        "    print(f'{r.events} events, {len(r.recorded)} trades, replay ok: {r.ok}')\n"
    )
    env = {**os.environ, "EXCHANGE_LOG_LEVEL": "WARNING"}
    done = subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT, env=env,
                          capture_output=True, text=True)  # fmt: skip
    return done.stdout.strip()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--db", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--client-threads", type=int, default=2)
    parser.add_argument("--leagues", type=int, default=12)
    parser.add_argument("--port", type=int, default=0, help="default: a free port")
    args = parser.parse_args()

    if not args.port:
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            args.port = probe.getsockname()[1]
    workdir = Path(tempfile.mkdtemp(prefix="exchange-bench-cont-"))
    url = fresh_database(args.db, workdir, "exchange_bench_cont")
    credentials = workdir / "credentials.json"
    seed(url, credentials)
    users = json.loads(credentials.read_text())["users"]
    leagues = [u for u in users.values() if u["role"] == "league"][: args.leagues]
    env = {**os.environ, "DATABASE_URL": url, "SECRET_KEY": "bench"}
    server_log = (workdir / "server.log").open("wb")
    server = subprocess.Popen(
        [str(BIN / "exchange"), "serve", "--port", str(args.port), "--workers",
         str(args.workers), "--threads", str(args.threads), "--no-access-log"],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=server_log,
    )  # fmt: skip
    try:
        markets = _wait(args.port, workdir)
        market = next(m for m in markets if m["code"] == MARKET)
        out: Any = mp.Queue()
        procs = [
            mp.Process(target=client, args=(args.port, user["token"], market,
                       "sell" if n % 2 else "buy", args.seconds, args.client_threads, out))
            for n, user in enumerate(leagues)
        ]  # fmt: skip
        started = time.monotonic()
        for p in procs:
            p.start()
        results: list[tuple[float, int, int]] = []
        for _ in procs:
            results.extend(out.get())
        for p in procs:
            p.join()
        elapsed = time.monotonic() - started
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=30)
        server_log.close()
    replayed = _replay(url)
    shutil.rmtree(workdir, ignore_errors=True)
    posts = [(t, s, f) for t, s, f in results if s > 0]
    accepted = [p for p in posts if p[1] == 201]
    lat = sorted(t * 1000 for t, _s, _f in posts)
    q = statistics.quantiles(lat, n=100) if len(lat) > 1 else [0.0] * 99
    report = {
        "db": args.db,
        "gunicorn": f"{args.workers} workers x {args.threads} threads",
        "clients": f"{len(leagues)} processes x {args.client_threads} threads",
        "seconds": round(elapsed, 1),
        "orders_accepted": len(accepted),
        "orders_per_second": round(len(accepted) / elapsed, 1),
        "orders_that_traded_at_entry": sum(1 for p in accepted if p[2]),
        "fills_of_aggressors": sum(p[2] for p in accepted),
        "cancels": sum(1 for _t, s, _f in results if s < 0),
        "post_latency_ms": {"p50": round(q[49], 1), "p90": round(q[89], 1),
                            "p99": round(q[98], 1), "max": round(lat[-1], 1) if lat else 0},
        "statuses": dict(Counter(abs(s) for _t, s, _f in results)),
        "replay": replayed,
    }  # fmt: skip
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
