"""Load test: the demo on PostgreSQL under gunicorn, 12 leagues trading while runs clear.

    .venv/bin/python bench/load/run.py                   # 3 rounds of 20 s on PostgreSQL
    .venv/bin/python bench/load/run.py --rounds 1 --seconds 20 --db sqlite

1. A fresh database (``exchange_load`` on the local PostgreSQL, or a SQLite file) with
   the demo registry, allocations, cash, users and tokens (``seed_demo``; the three
   weeks of demo history are left out so that every run in the database is this load's).
2. ``exchange serve --no-access-log`` (gunicorn, 2 workers x 4 threads).
3. 12 league client processes (``--client-threads`` keep-alive connections each)
   post crossing buy and sell orders in two markets each, cancel about one in five,
   repeat one in twenty client_order_ids (idempotency), and retry a lost answer
   with the same key; meanwhile the regulator triggers a clearing run of every
   traded market every ``--interval`` seconds through the API.
   That for ``--seconds``, then the floor app (``../shared/bench/floor_app.py``, gunicorn
   2 x 4, a database of its own) for as long under the same client shape while the
   exchange idles; ``--rounds`` times in turn (3 by default), as ``intake_floor.py`` does,
   so that the two p99s of a round are taken minutes apart at most on a machine whose
   speed wanders. The exchange keeps its state from round to round (its books grow).
   A first round of ``--warmup`` seconds (5) of each is audited but left out of the
   figures: its requests open the connections and fill the caches.
4. Afterwards, in this process: ``tests.hardening.load_audit`` (nothing lost or duplicated,
   fills and holds add up, escrow = open holds, ``ledger.verify`` clean, every run
   replays) and the figures: orders/s, p50/p90/p99 latency over all rounds, errors,
   machine load, and per round the exchange's and the floor's POST p99 and their ratio
   (``rounds``; ``p99_over_floor_median``: the median of the rounds' ratios).
   Exit status 1 if the audit finds anything. ``--json FILE`` keeps the report.
"""

from __future__ import annotations

import argparse
import http.client
import json
import multiprocessing as mp
import os
import platform
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from bench.common import fresh_database, seed, serve_exchange  # noqa: E402
from tests.hardening.workload import (  # noqa: E402
    ClearLog,
    LeagueLog,
    MarketTerms,
    Send,
    clearing_loop,
    league_client,
    summarise,
)

BIN = Path(sys.executable).parent


def http_send(port: int) -> Send:
    """A ``Send`` over one keep-alive connection (reopened after an error)."""
    state: dict[str, http.client.HTTPConnection] = {}

    def send(method: str, path: str, headers: dict[str, str], body: Any) -> tuple[int, Any]:
        conn = state.get("conn") or http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        state["conn"] = conn
        data = None if body is None else json.dumps(body)
        hdrs = {**headers, "Content-Type": "application/json"} if data is not None else headers
        try:
            conn.request(method, path, data, hdrs)
            response = conn.getresponse()
            raw = response.read()
        except (OSError, http.client.HTTPException) as exc:
            conn.close()
            state.pop("conn", None)
            raise OSError(str(exc)) from exc
        try:
            return response.status, json.loads(raw) if raw else None
        except ValueError:
            return response.status, None

    return send


def league_process(
    port: int,
    league: str,
    token: str,
    markets: list[MarketTerms],
    seconds: float,
    threads: int,
    seed_base: int,
    tag: str,
    out: Any,
) -> None:
    logs: list[LeagueLog] = []
    lock = threading.Lock()

    def one(n: int) -> None:
        log = league_client(
            http_send(port),
            league,
            token,
            markets,
            seconds=seconds,
            seed=seed_base * 100 + n,
            tag=f"{tag}t{n}",
        )
        with lock:
            logs.append(log)

    pool = [threading.Thread(target=one, args=(n,)) for n in range(threads)]
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    out.put(logs)


def exchange_round(
    port: int,
    leagues: dict[str, dict[str, Any]],
    per_league: dict[str, list[MarketTerms]],
    traded: list[int],
    regulator: str,
    args: argparse.Namespace,
    seconds: float,
    number: int,
) -> tuple[list[LeagueLog], ClearLog, float]:
    """One round of the load on the exchange: the league clients for ``seconds``, the
    clearing loop beside them. Client order ids carry the round (``r<n>``), so that no round
    repeats another's by accident."""
    out: Any = mp.Queue()
    procs = [
        mp.Process(
            target=league_process,
            args=(
                port,
                name,
                user["token"],
                per_league[name],
                seconds,
                args.client_threads,
                number * 1000 + n,
                f"r{number}",
                out,
            ),
        )
        for n, (name, user) in enumerate(sorted(leagues.items()))
    ]
    started = time.monotonic()
    for p in procs:
        p.start()
    clear_log = clearing_loop(
        http_send(port), regulator, traded, seconds=seconds, interval=args.interval
    )
    logs: list[LeagueLog] = []
    for _ in procs:
        logs.extend(out.get())
    for p in procs:
        p.join()
    return logs, clear_log, time.monotonic() - started


FLOOR = ROOT.parent / "shared" / "bench"
"""The stack's floor app and its driver (``floor_app.py``, ``intake_floor.py``), if present."""
FLOOR_APP = "floor_app:app"


class Floor:
    """The floor app served on a database of its own, driven round by round under the
    load's client shape (``leagues`` processes x ``threads`` keep-alive connections, each
    process one league, posting orders), as ``intake_floor.py`` drives it."""

    def __init__(self, workdir: Path, leagues: int, threads: int) -> None:
        sys.path.insert(0, str(FLOOR))
        import intake_floor  # type: ignore[import-not-found]

        self.driver = intake_floor
        self.threads = threads
        url = fresh_database("postgres", workdir, "exchange_load_floor")
        env = {**os.environ, "BASELINE_URL": url}
        names = [f"L{n:02d}" for n in range(leagues)]
        self.tokens = [f"floor-token-{n:02d}" for n in range(leagues)]
        subprocess.run(
            [sys.executable, "-c", f"import floor_app as b; b.setup({names!r}, {self.tokens!r})"],
            cwd=FLOOR,
            env=env,
            check=True,
        )
        self.bodies = [
            {"market_id": 1, "side": "sell" if n % 2 else "buy", "quantity": 1,
             "limit_price": 12_000 if n % 2 else 2_000}
            for n in range(leagues)
        ]  # fmt: skip
        self.port = intake_floor.free_port()
        bind = f"127.0.0.1:{self.port}"
        self.server = subprocess.Popen(
            [str(BIN / "gunicorn"), "-w", "2", "--threads", "4", "-b", bind, FLOOR_APP],
            cwd=FLOOR,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        intake_floor.wait(self.port, "/")

    def round(self, seconds: float) -> dict[str, Any]:
        """Orders/s, p50 and p99 (ms) and errors of one round of ``seconds``."""
        figures: dict[str, Any] = self.driver.drive(
            self.port, "/orders", self.tokens, self.bodies, seconds, self.threads
        )
        return figures

    def stop(self) -> None:
        self.server.send_signal(signal.SIGTERM)
        self.server.wait(timeout=30)


def merged(clears: list[ClearLog]) -> ClearLog:
    """The clearing loops' logs of every round as one."""
    whole = ClearLog()
    for log in clears:
        whole.runs.update(log.runs)
        whole.calls.extend(log.calls)
    return whole


def round_figures(
    logs: list[LeagueLog], clear: ClearLog, elapsed: float, floor: dict[str, Any] | None
) -> dict[str, Any]:
    """One round's order POST figures beside the floor's of the same round."""
    ours = summarise(logs, clear, elapsed)
    row: dict[str, Any] = {
        "orders_per_second": ours["orders_per_second"],
        "post_p50_ms": ours["post_latency_ms"]["p50"],
        "post_p99_ms": ours["post_latency_ms"]["p99"],
        "clearing_runs": ours["clearing_runs"],
    }
    if floor is not None:
        row |= {
            "floor_orders_per_second": floor["orders_per_s"],
            "floor_p50_ms": floor["p50_ms"],
            "floor_p99_ms": floor["p99_ms"],
            "floor_errors": floor["errors"],
            "p99_over_floor": round(row["post_p99_ms"] / floor["p99_ms"], 2)
            if floor["p99_ms"]
            else None,
        }
    return row


def load_average() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--db", choices=["sqlite", "postgres"], default="postgres")
    parser.add_argument(
        "--seconds", type=float, default=20, help="seconds of load per round (each side)"
    )
    parser.add_argument("--rounds", type=int, default=3, help="rounds, exchange then floor")
    parser.add_argument(
        "--warmup",
        type=float,
        default=5,
        help="seconds of a first round of each, audited but left out of the figures",
    )
    parser.add_argument("--interval", type=float, default=3.0, help="seconds between runs")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--client-threads", type=int, default=2)
    parser.add_argument("--markets-per-league", type=int, default=2)
    parser.add_argument("--port", type=int, default=8766)
    parser.add_argument("--json", type=Path, help="write the report here too")
    parser.add_argument(
        "--no-floor",
        action="store_true",
        help="skip the floor app (by default its rounds alternate with the exchange's)",
    )
    args = parser.parse_args()

    workdir = Path(tempfile.mkdtemp(prefix="exchange-load-"))
    url = fresh_database(args.db, workdir, "exchange_load")
    credentials = workdir / "credentials.json"
    seed(url, credentials)
    users = json.loads(credentials.read_text())["users"]
    leagues = {name: u for name, u in users.items() if u["role"] == "league"}
    regulator = users["regulator"]["token"]

    server = serve_exchange(
        url,
        args.port,
        workdir / "server.log",
        workers=args.workers,
        threads=args.threads,
        SECRET_KEY="load",
        EXCHANGE_REQUEST_LOG="0",
        EXCHANGE_LOG_LEVEL="WARNING",
    )
    load_before = load_average()
    floor: Floor | None = None
    rounds: list[dict[str, Any]] = []
    logs: list[LeagueLog] = []  # every round's, for the audit
    clears: list[ClearLog] = []
    timed_logs: list[LeagueLog] = []  # the figures' (not the warm-up's)
    timed_clears: list[ClearLog] = []
    warmup: dict[str, Any] | None = None
    elapsed = 0.0
    try:
        send = http_send(args.port)
        for _ in range(150):
            try:
                status, markets = send("GET", "/api/v1/markets", {}, None)
                if status == 200:
                    break
            except OSError:
                pass
            time.sleep(0.2)
        else:
            raise SystemExit("server did not start: " + (workdir / "server.log").read_text())
        single = [m for m in markets if not m["zonal"] and m["status"] == "open"]
        per_league = {
            name: [
                MarketTerms.of(m)
                for m in single
                if name in {e["league"] for e in m["eligible_leagues"]}
            ][: args.markets_per_league]
            for name in leagues
        }
        traded = sorted({m.id for ms in per_league.values() for m in ms})
        if args.db == "postgres" and not args.no_floor and (FLOOR / "floor_app.py").exists():
            floor = Floor(workdir, len(leagues), args.client_threads)
        plan = [args.warmup] if args.warmup > 0 else []
        plan += [args.seconds] * args.rounds
        for number, seconds in enumerate(plan):
            round_logs, clear, took = exchange_round(
                args.port, leagues, per_league, traded, regulator, args, seconds, number
            )
            logs += round_logs
            clears.append(clear)
            floor_round = None if floor is None else floor.round(seconds)
            row = round_figures(round_logs, clear, took, floor_round)
            if number == 0 and args.warmup > 0:
                warmup = row  # new connections, cold caches, statements not yet prepared
                continue
            timed_logs += round_logs
            timed_clears.append(clear)
            elapsed += took
            rounds.append(row)
        load_after = load_average()
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=60)
        if floor is not None:
            floor.stop()

    clear_log = merged(clears)
    figures = summarise(timed_logs, merged(timed_clears), elapsed)
    ratios = sorted(r["p99_over_floor"] for r in rounds if r.get("p99_over_floor"))
    from exchange import create_app
    from exchange.extensions import db
    from tests.hardening.load_audit import audit

    os.environ["EXCHANGE_LOG_LEVEL"] = "WARNING"
    app = create_app({"DATABASE_URL": url})
    audit_started = time.monotonic()
    with app.app_context():
        session = db.session_factory()
        try:
            problems, state = audit(session, logs, clear_log)
        finally:
            session.close()
    app.extensions["exchange.db"]["engine"].dispose()
    report = {
        "db": args.db,
        "gunicorn": f"{args.workers} workers x {args.threads} threads",
        "clients": f"{len(leagues)} league processes x {args.client_threads} connections",
        "markets_traded": len(traded),
        "clearing_interval_s": args.interval,
        "rounds_of_s": f"{args.rounds} x {args.seconds:g}, after a warm-up of {args.warmup:g}",
        **figures,
        "rounds": rounds,
        "warmup": warmup,
        # the median of the rounds' ratios: each round's two p99s are taken side by side
        "p99_over_floor_median": statistics.median(ratios) if ratios else None,
        "floor_post_latency_ms": None
        if floor is None
        else {
            "p50_median_of_rounds": statistics.median(r["floor_p50_ms"] for r in rounds),
            "p99_median_of_rounds": statistics.median(r["floor_p99_ms"] for r in rounds),
            "orders_per_second_median_of_rounds": statistics.median(
                r["floor_orders_per_second"] for r in rounds
            ),
            "errors": sum(r["floor_errors"] for r in rounds),
        },
        "audit": {**state, "seconds": round(time.monotonic() - audit_started, 1)},
        "problems": problems[:50],
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "load_average_before": load_before,
            "load_average_after": load_after,
        },
    }
    text = json.dumps(report, indent=2, default=str)
    print(text)
    if args.json:
        args.json.write_text(text + "\n")
    shutil.rmtree(workdir, ignore_errors=True)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
