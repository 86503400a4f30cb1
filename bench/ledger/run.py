"""Ledger benchmark: journals per second, bulk settlement, verification of 1M postings.

    .venv/bin/python bench/ledger/run.py                 # SQLite (a temporary file)
    .venv/bin/python bench/ledger/run.py --postgres URL  # PostgreSQL (the database is reset!)
    .venv/bin/python bench/ledger/run.py --quick         # smaller sizes, for a smoke run

Each measurement starts from a freshly migrated database and times the Python
API (``ledger.*``) including the commit. Results go to stdout as a Markdown table.
"""

from __future__ import annotations

import argparse
import multiprocessing
import platform
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from sqlalchemy import Engine, text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402
from sqlalchemy.orm import Session  # noqa: E402

import ledger  # noqa: E402
from exchange.db import make_engine, make_session_factory  # noqa: E402
from exchange.migrate import upgrade_engine  # noqa: E402

LEAGUES = [
    "hohhot", "baotou", "ordos", "ulanqab", "hulunbuir", "hinggan",
    "tongliao", "chifeng", "xilingol", "bayannur", "wuhai", "alxa",
]  # fmt: skip
WATER = ledger.market_asset(1)
# The ledger's own cost: no pool pre-ping (a round trip per checkout in the app's engine).
ENGINE_OPTIONS = {"pool_pre_ping": False}


def fresh_database(url: str | None) -> tuple[str, Engine]:
    """A migrated, empty database: a temporary SQLite file or the reset PostgreSQL one."""
    if url is None:
        path = Path(tempfile.mkdtemp(prefix="ledger-bench-")) / "bench.sqlite3"
        url = f"sqlite:///{path}"
    else:
        engine = make_engine(url)
        with engine.begin() as conn:
            conn.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
        engine.dispose()
    engine = make_engine(url, **ENGINE_OPTIONS)
    upgrade_engine(engine)
    return url, engine


@contextmanager
def session_of(engine: Engine) -> Iterator[Session]:
    session = make_session_factory(engine)()
    try:
        yield session
    finally:
        session.close()


def fund(session: Session, amount: int = 10**12) -> None:
    ledger.issue_many(
        session, [(league, amount, "bench:alloc") for league in LEAGUES], asset=WATER, actor="b"
    )
    for league in LEAGUES:
        ledger.deposit_cash(session, league=league, amount=amount, reference="bench", actor="b")
    session.commit()


def timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    start = time.perf_counter()
    result = fn()
    return time.perf_counter() - start, result


# --------------------------------------------------------------------------- measurements


def single_holds(engine: Engine, count: int) -> float:
    """Holds per second, one transaction (and commit) per hold, one process."""
    with session_of(engine) as session:
        fund(session)

        def run() -> None:
            for i in range(count):
                ledger.place_hold(
                    session,
                    league=LEAGUES[i % 12],
                    asset=WATER,
                    amount=10,
                    reference=f"order:{i}",
                    actor="bench",
                )
                session.commit()

        seconds, _ = timed(run)
    return count / seconds


def _hold_worker(url: str, index: int, count: int, barrier: Any, results: Any) -> None:
    engine = make_engine(url, **ENGINE_OPTIONS)
    try:
        with session_of(engine) as session:
            barrier.wait()
            start = time.perf_counter()
            for i in range(count):
                ledger.place_hold(
                    session,
                    league=LEAGUES[(index + 4 * i) % 12],
                    asset=WATER if i % 2 else ledger.CASH,
                    amount=10,
                    reference=f"order:{index}:{i}",
                    actor="bench",
                    chain=WATER,
                )
                session.commit()
            results.put(time.perf_counter() - start)
    finally:
        engine.dispose()


def parallel_holds(url: str, engine: Engine, workers: int, count: int) -> float:
    """Holds per second with ``workers`` processes on the same market's chain."""
    with session_of(engine) as session:
        fund(session)
    context = multiprocessing.get_context("spawn")
    barrier = context.Barrier(workers)
    results = context.Queue()
    procs = [
        context.Process(target=_hold_worker, args=(url, i, count, barrier, results))
        for i in range(workers)
    ]
    for proc in procs:
        proc.start()
    seconds = max(results.get(timeout=600) for _ in procs)
    for proc in procs:
        proc.join()
    return workers * count / seconds


def bulk_journals(engine: Engine, count: int) -> float:
    """Transfer journals per second through ``post_journals`` (one call, one commit)."""
    with session_of(engine) as session:
        fund(session)
        specs = [
            ledger.JournalSpec(
                ledger.JournalKind.TRANSFER,
                f"t:{i}",
                "bench",
                (
                    ledger.PostingSpec(ledger.league_account(LEAGUES[i % 12], WATER), -1),
                    ledger.PostingSpec(ledger.league_account(LEAGUES[(i + 1) % 12], WATER), 1),
                ),
            )
            for i in range(count)
        ]

        def run() -> None:
            ledger.post_journals(session, specs)
            session.commit()

        seconds, _ = timed(run)
    return count / seconds


def settlement(engine: Engine, fills: int) -> dict[str, float]:
    """Settle a run of ``fills`` order fills (half sells, half buys) in one transaction."""
    half = fills // 2
    with session_of(engine) as session:
        fund(session)
        place_seconds, holds = timed(
            lambda: (
                ledger.place_holds(
                    session,
                    [
                        ledger.HoldRequest(LEAGUES[i % 6], WATER, 10, f"order:s{i}")
                        for i in range(half)
                    ]
                    + [
                        ledger.HoldRequest(
                            LEAGUES[6 + i % 6], ledger.CASH, 10 * 60, f"order:b{i}", chain=WATER
                        )
                        for i in range(half)
                    ],
                    actor="bench",
                ),
                session.commit(),
            )[0]
        )
        batch = [
            settlement.Fill(hold, 10, 45, f"order:s{i}", release_rest=True)
            for i, hold in enumerate(holds[:half])
        ] + [
            # two zones: half of the buyers pay the dearer zone's price (congestion rent)
            settlement.Fill(hold, 10, 45 + (i % 2) * 5, f"order:b{i}", limit=60, release_rest=True)
            for i, hold in enumerate(holds[half:])
        ]

        def run() -> settlement.Settlement:
            result = settlement.settle_fills(
                session, asset=WATER, fills=batch, reference="run:1", actor="clearing"
            )
            session.commit()
            return result

        seconds, result = timed(run)
        assert result.congestion_rent == (half // 2) * 50
    return {"place_holds": place_seconds, "settle": seconds}


def verify_million(engine: Engine, postings: int) -> dict[str, float]:
    """Build a ledger of ``postings`` postings (4 per journal), then time verify."""
    with session_of(engine) as session:
        fund(session)
        built = 0
        i = 0
        start = time.perf_counter()
        while built < postings:
            specs = []
            for _ in range(min(50_000, (postings - built) // 4 + 1)):
                a, b, c = LEAGUES[i % 12], LEAGUES[(i + 5) % 12], LEAGUES[(i + 7) % 12]
                specs.append(
                    ledger.JournalSpec(
                        ledger.JournalKind.TRANSFER,
                        f"t:{i}",
                        "bench",
                        (
                            ledger.PostingSpec(ledger.league_account(a, WATER), -2),
                            ledger.PostingSpec(ledger.league_account(b, WATER), 2),
                            ledger.PostingSpec(ledger.league_account(b, ledger.CASH), -90),
                            ledger.PostingSpec(ledger.league_account(c, ledger.CASH), 90),
                        ),
                    )
                )
                i += 1
            ledger.post_journals(session, specs)
            session.commit()
            built += 4 * len(specs)
        build = time.perf_counter() - start
    with session_of(engine.execution_options(sqlite_begin="DEFERRED")) as session:
        if engine.dialect.name == "postgresql":
            session.execute(text("ANALYZE"))
            session.commit()
        seconds, report = timed(lambda: ledger.verify(session))
        assert report.ok, report.violations[:5]
    return {"build": build, "verify": seconds, "postings": report.postings}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--postgres", metavar="URL", help="PostgreSQL URL (reset!)")
    parser.add_argument("--quick", action="store_true", help="smaller sizes")
    args = parser.parse_args()
    scale = 10 if args.quick else 1
    database = "PostgreSQL" if args.postgres else "SQLite"
    rows: list[tuple[str, str]] = []

    def run(name: str, fn: Callable[[str, Engine], Any]) -> Any:
        url, engine = fresh_database(args.postgres)
        try:
            return fn(url, engine)
        finally:
            engine.dispose()

    holds = 3000 // scale
    rate = run("single", lambda _u, e: single_holds(e, holds))
    rows.append((f"hold journals/s, 1 process, commit each ({holds})", f"{rate:,.0f}"))
    rate = run("parallel", lambda u, e: parallel_holds(u, e, 4, holds // 2))
    rows.append(
        (
            f"hold journals/s, 4 processes, one market, 12 leagues ({4 * (holds // 2)})",
            f"{rate:,.0f}",
        )
    )
    bulk = 100_000 // scale
    rate = run("bulk", lambda _u, e: bulk_journals(e, bulk))
    rows.append((f"transfer journals/s, post_journals bulk ({bulk:,})", f"{rate:,.0f}"))
    for fills in (10_000 // scale, 100_000 // scale):
        result = run("settle", lambda _u, e, n=fills: settlement(e, n))
        rows.append((f"place_holds bulk, {fills:,} holds (s)", f"{result['place_holds']:.2f}"))
        rows.append((f"settle_fills, {fills:,} fills incl. commit (s)", f"{result['settle']:.2f}"))
    size = 1_000_000 // scale
    result = run("verify", lambda _u, e: verify_million(e, size))
    rows.append((f"build {result['postings']:,} postings (s)", f"{result['build']:.2f}"))
    rows.append((f"verify {result['postings']:,} postings (s)", f"{result['verify']:.2f}"))

    print(f"## {database}\n")
    print(
        f"{platform.platform()}, Python {platform.python_version()}, "
        f"{multiprocessing.cpu_count()} cores"
    )
    if args.postgres:
        print(f"database: {make_url(args.postgres).render_as_string(hide_password=True)}")
    print("\n| measurement | result |\n|---|---|")
    for name, value in rows:
        print(f"| {name} | {value} |")


if __name__ == "__main__":
    main()
