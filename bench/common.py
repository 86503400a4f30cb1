"""Shared setup of the benchmarks: a fresh database and the seeded demo in it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PG_ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"


def fresh_database(kind: str, workdir: Path, name: str) -> str:
    """An empty database called ``name``: a SQLite file in ``workdir``, or on PostgreSQL.

    The PostgreSQL database is dropped first if it exists.
    """
    if kind == "sqlite":
        return f"sqlite:///{workdir / f'{name}.sqlite3'}"
    import psycopg

    with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    return f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}"


def seed(url: str, credentials: Path) -> None:
    """Migrate ``url`` and seed the demo (registry, ledger, users) without its history."""
    code = (
        "from exchange import create_app\n"
        "from exchange.extensions import db\n"
        "from exchange.migrate import upgrade_engine\n"
        "from exchange.services.demo import seed_demo\n"
        f"app = create_app({{'DATABASE_URL': {url!r}}})\n"
        "with app.app_context():\n"
        "    upgrade_engine(db.engine)\n"
        "    from exchange.uow import new_unit_of_work\n"
        "    with new_unit_of_work(db.session_factory) as s:\n"
        f"        seed_demo(s, {str(credentials)!r})\n"
    )
    env = {**os.environ, "EXCHANGE_LOG_LEVEL": "WARNING"}
    subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT, env=env)


def serve_exchange(
    url: str, port: int, log: Path, *, workers: int = 2, threads: int = 4, **env: str
) -> subprocess.Popen[bytes]:
    """``exchange serve`` on ``url`` and ``port`` (no access log), its stderr to ``log``;
    ``env``: more environment variables for it."""
    command = [str(Path(sys.executable).parent / "exchange"), "serve", "--port", str(port)]
    command += ["--workers", str(workers), "--threads", str(threads), "--no-access-log"]
    with log.open("wb") as err:  # the server keeps its own copy of the file
        return subprocess.Popen(
            command,
            cwd=ROOT,
            env={**os.environ, "DATABASE_URL": url, **env},
            stdout=subprocess.DEVNULL,
            stderr=err,
        )
