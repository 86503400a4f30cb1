"""The ``exchange`` console script."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select

from exchange.cli import main
from exchange.db import make_engine
from exchange.models import League, Market


@pytest.fixture
def fresh_sqlite(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    url = f"sqlite:///{tmp_path / 'cli.sqlite3'}"
    monkeypatch.setenv("DATABASE_URL", url)
    monkeypatch.setenv("EXCHANGE_DEMO_CREDENTIALS", str(tmp_path / "demo-credentials.json"))
    return url


@pytest.mark.slow  # seeds the whole demo (or fuzzes many inputs)
def test_init_db_then_seed_demo_is_idempotent(fresh_sqlite: str) -> None:
    runner = CliRunner()
    result = runner.invoke(main, ["init-db"])
    assert result.exit_code == 0, result.output
    assert "database at head" in result.output
    first = runner.invoke(main, ["seed-demo"])
    assert first.exit_code == 0, first.output
    assert "seeded" in first.output
    second = runner.invoke(main, ["seed-demo"])
    assert second.exit_code == 0
    assert "present" in second.output
    engine = make_engine(fresh_sqlite)
    try:
        with engine.connect() as conn:
            leagues = select(func.count()).select_from(League).where(League.kind == "league")
            assert conn.scalar(leagues) == 12
            # the region's reserve (CEA-2026's stability rules, issue 21)
            reserves = select(func.count()).select_from(League).where(League.kind == "reserve")
            assert conn.scalar(reserves) == 1
            # the synthetic enterprises of issue 20, opened and marked synthetic
            enterprises = (
                select(func.count())
                .select_from(League)
                .where(League.kind == "enterprise", League.status == "open", League.synthetic)
            )
            assert conn.scalar(enterprises) == 5
            # the registry's 8, the 引绰济辽 diversion market (demo transfers, issue 13) and
            # the compliance demo's CEA-2025, the
            # continuous demo market CEA-2026-L (issue 16)
            assert conn.scalar(select(func.count()).select_from(Market)) == 11
    finally:
        engine.dispose()


def test_help_lists_commands() -> None:
    result = CliRunner().invoke(main, ["--help"])
    assert result.exit_code == 0
    for command in ("init-db", "demo", "serve", "scheduler"):
        assert command in result.output


def test_sqlite_runs_in_wal_mode_with_foreign_keys(fresh_sqlite: str) -> None:
    engine = make_engine(fresh_sqlite)
    try:
        with engine.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
            assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
    finally:
        engine.dispose()
