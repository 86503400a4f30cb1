"""Cancels over HTTP, the exchange beside the stack's floor, in one run (issue 18, ``DELETE``).

Run with the project's virtual environment, from the project's checkout:

    .venv/bin/python bench/trading/cancel_floor.py --orders 200 --rounds 3

The shape of ``../shared/bench/intake_floor.py``, for a cancel: both servers under gunicorn,
2 workers x 4 threads, PostgreSQL on 127.0.0.1, databases of their own; the floor is
``floor_cancel_app.py`` beside this file (the shared floor app and its cancel route). Each
round, for each server: 12 client processes (one per league) x 2 keep-alive connections post
``--orders`` non-crossing orders per connection, not timed; then, once every client is ready,
cancel them all, timed. Prints cancels/s (the cancels over the time from the start signal to
the last reply) and latency percentiles per round, and the ratio floor / exchange.
"""

from __future__ import annotations

import argparse
import http.client
import json
import multiprocessing as mp
import os
import secrets
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
FLOOR = Path.cwd().parent / "shared" / "bench"
BIN = Path(sys.executable).parent
sys.path[:0] = [str(ROOT), str(FLOOR)]

from intake_floor import free_port, wait  # noqa: E402


def _connection_work(
    port: int,
    path: str,
    headers: dict[str, str],
    body: dict[str, Any],
    orders: int,
    go: Any,
    ready: Any,
    out: list[tuple[float, int]],
) -> None:
    """Post ``orders`` orders on one connection, say so, wait for ``go``, then cancel them."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    ids = []
    for i in range(orders):
        b = dict(
            body,
            client_order_id=f"c{os.getpid()}-{threading.get_ident()}-{i}-{secrets.token_hex(3)}",
        )
        conn.request("POST", path, json.dumps(b), headers)
        reply = conn.getresponse()
        data = reply.read()
        if reply.status == 201:
            ids.append(json.loads(data)["id"])
    ready.release()
    go.wait()
    conn.close()  # idle while the others posted: the server may have closed it (keep-alive timeout)
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    for order_id in ids:
        t0 = time.perf_counter()
        conn.request("DELETE", f"{path}/{order_id}", headers=headers)
        reply = conn.getresponse()
        reply.read()
        out.append((time.perf_counter() - t0, reply.status))


def client(
    port: int,
    path: str,
    token: str,
    body: dict[str, Any],
    orders: int,
    threads: int,
    ready: Any,
    go: Any,
    q: Any,
) -> None:
    """One league's process: ``threads`` connections, their cancels' (seconds, status) to ``q``."""
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    outs: list[list[tuple[float, int]]] = [[] for _ in range(threads)]
    ts = [
        threading.Thread(
            target=_connection_work, args=(port, path, headers, body, orders, go, ready, outs[n])
        )
        for n in range(threads)
    ]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    q.put([x for out in outs for x in out])


def drive(
    port: int,
    path: str,
    tokens: list[str],
    bodies: list[dict[str, Any]],
    orders: int,
    threads: int = 2,
) -> dict[str, float]:
    """Cancels per second and their latency, every client cancelling its own orders at once."""
    q, go, ready = mp.Queue(), mp.Event(), mp.Semaphore(0)
    ps = [
        mp.Process(target=client, args=(port, path, t, b, orders, threads, ready, go, q))
        for t, b in zip(tokens, bodies, strict=True)
    ]
    for p in ps:
        p.start()
    for _ in range(len(ps) * threads):
        ready.acquire()
    t0 = time.monotonic()
    go.set()
    res = []
    for _ in ps:
        res.extend(q.get())
    elapsed = time.monotonic() - t0
    for p in ps:
        p.join()
    ok = sorted(t * 1000 for t, s in res if s == 200)
    qs = statistics.quantiles(ok, n=100) if len(ok) > 1 else [0.0] * 99
    return {
        "cancels_per_s": round(len(ok) / elapsed, 1),
        "p50_ms": round(qs[49], 1),
        "p99_ms": round(qs[98], 1),
        "cancels": len(ok),
        "errors": sum(1 for _, s in res if s != 200),
    }


def _start_servers(
    work: Path,
) -> tuple[list[subprocess.Popen[bytes]], int, int, list[str], list[str]]:
    """The exchange and the floor, seeded, each on a port and a database of its own."""
    from bench.common import fresh_database, seed, serve_exchange

    url = fresh_database("postgres", work, "cancel_exchange")
    creds = work / "creds.json"
    seed(url, creds)
    users = [u for u in json.loads(creds.read_text())["users"].values() if u["role"] == "league"][
        :12
    ]
    p1, p2 = free_port(), free_port()
    ours = serve_exchange(
        url, p1, work / "ours.log", SECRET_KEY="bench", EXCHANGE_LOG_LEVEL="WARNING"
    )
    floor_env = {
        **os.environ,
        "BASELINE_URL": fresh_database("postgres", work, "cancel_floor"),
        "FLOOR_DIR": str(FLOOR),
    }
    floor_tokens = [secrets.token_hex(16) for _ in users]
    leagues = [u["league"] for u in users]
    subprocess.run(
        [
            sys.executable,
            "-c",
            f"import floor_cancel_app as f; f.setup({leagues!r}, {floor_tokens!r})",
        ],
        cwd=HERE,
        env=floor_env,
        check=True,
    )
    floor = subprocess.Popen(
        [
            str(BIN / "gunicorn"),
            "-w",
            "2",
            "--threads",
            "4",
            "-b",
            f"127.0.0.1:{p2}",
            "floor_cancel_app:app",
        ],
        cwd=HERE,
        env=floor_env,
        stdout=subprocess.DEVNULL,
        stderr=(work / "floor.log").open("wb"),
    )
    return [ours, floor], p1, p2, [u["token"] for u in users], floor_tokens


def _non_crossing(market_id: int, quantity: int, count: int) -> list[dict[str, Any]]:
    """One order body per league, buys low and sells high (``intake_floor.py``'s prices)."""
    return [
        {
            "market_id": market_id,
            "side": "sell" if n % 2 else "buy",
            "quantity": quantity,
            "limit_price": 12_000 if n % 2 else 2_000,
        }
        for n in range(count)
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "--orders", type=int, default=200, help="orders posted, then cancelled, per connection"
    )
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    servers, p1, p2, tokens, floor_tokens = _start_servers(Path(tempfile.mkdtemp(prefix="cancel-")))
    try:
        market = next(
            m for m in json.loads(wait(p1, "/api/v1/markets")) if m["code"].startswith("CEA")
        )
        ours_bodies = _non_crossing(market["id"], market["lot"], len(tokens))
        floor_bodies = _non_crossing(1, 1, len(tokens))
        wait(p2, "/")
        rows = []
        for r in range(args.rounds):
            o = drive(p1, "/api/v1/orders", tokens, ours_bodies, args.orders)
            f = drive(p2, "/orders", floor_tokens, floor_bodies, args.orders)
            rows.append((o, f))
            print(f"round {r + 1}: exchange {o}  floor {f}", flush=True)
        ro = statistics.median(o["cancels_per_s"] for o, _ in rows)
        rf = statistics.median(f["cancels_per_s"] for _, f in rows)
        p99 = statistics.median(o["p99_ms"] for o, _ in rows)
        p99f = statistics.median(f["p99_ms"] for _, f in rows)
        print(
            f"cancel: exchange {ro} cancels/s p99 {p99} ms; "
            f"floor {rf} cancels/s p99 {p99f} ms; "
            f"floor/exchange = {rf / max(ro, 0.1):.2f}x; "
            f"p99/floor p99 = {p99 / max(p99f, 0.1):.2f}x"
        )
    finally:
        for p in servers:
            p.send_signal(signal.SIGTERM)
            try:
                p.wait(timeout=30)
            except subprocess.TimeoutExpired:
                p.kill()


if __name__ == "__main__":
    main()
