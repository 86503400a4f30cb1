"""The scheduler's compensation job and the ``exchange compensation`` commands."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from apscheduler.schedulers.background import BackgroundScheduler
from click.testing import CliRunner
from flask import Flask
from sqlalchemy import func, select

from exchange.cli import main
from exchange.compensation.jobs import install_compensation_job, settle_due
from exchange.composition import JOB_INSTALLERS
from exchange.extensions import db
from exchange.models import CompensationSettlement
from tests.exchange.compensation_helpers import BASELINE, BETTER, DOWN, YUAN, reading, register
from tests.exchange.trading_helpers import fund, verify_ok


def count(app: Flask) -> int:
    with app.app_context():
        s = db.session_factory()
        try:
            return s.scalar(select(func.count()).select_from(CompensationSettlement)) or 0
        finally:
            s.close()


def test_job_settles_closed_periods_with_complete_readings_once(demo_registry: Flask) -> None:
    fund(demo_registry, cash={DOWN: 1_000_000_000 * YUAN})
    monthly = register(demo_registry, assessment="monthly")
    for m in range(1, 13):
        reading(demo_registry, monthly, f"2024-{m:02d}", 2, BETTER)
    annual = register(demo_registry)  # 2024: eleven months only; 2025: its own reading
    for m in range(1, 12):
        reading(demo_registry, annual, f"2024-{m:02d}", 3, BASELINE)
    reading(demo_registry, annual, "2025", 3, BASELINE)
    with demo_registry.app_context():
        outcomes = settle_due(db.session_factory, now=datetime(2026, 1, 2, tzinfo=UTC))
        assert {(o.settlement.agreement_id, o.settlement.period) for o in outcomes} == {
            *((monthly, f"2024-{m:02d}") for m in range(1, 13)),
            (annual, "2025"),
        }
        assert all(o.created and o.settlement.trigger == "schedule" for o in outcomes)
        assert settle_due(db.session_factory, now=datetime(2026, 1, 2, tzinfo=UTC)) == []
    assert count(demo_registry) == 13
    verify_ok(demo_registry)


def test_job_waits_for_the_period_to_close(demo_registry: Flask) -> None:
    aid = register(demo_registry, assessment="monthly")
    reading(demo_registry, aid, "2024-12", 3, BASELINE)
    with demo_registry.app_context():
        # 2024-12 closes at midnight Beijing time, 2024-12-31 16:00 UTC
        assert settle_due(db.session_factory, now=datetime(2024, 12, 31, 15, 59, tzinfo=UTC)) == []
        assert len(settle_due(db.session_factory, now=datetime(2024, 12, 31, 16, tzinfo=UTC))) == 1


def test_the_job_is_installed() -> None:
    assert install_compensation_job in JOB_INSTALLERS
    scheduler = BackgroundScheduler()
    install_compensation_job(Flask(__name__), scheduler)
    assert scheduler.get_job("compensation-settle") is not None


@pytest.fixture
def cli_env(demo_registry: Flask, database_url: str, monkeypatch: pytest.MonkeyPatch) -> Flask:
    monkeypatch.setenv("DATABASE_URL", database_url)
    return demo_registry


def test_cli_settles_once(cli_env: Flask) -> None:
    fund(cli_env, cash={DOWN: 100_000_000 * YUAN})
    aid = register(cli_env)
    reading(cli_env, aid, "2024", 2, BETTER)
    runner = CliRunner()
    first = runner.invoke(main, ["compensation", "settle", str(aid), "2024"])
    assert first.exit_code == 0, first.output
    assert "(settled): total 7100000000 fen, ordos -> bayannur" in first.output
    again = runner.invoke(main, ["compensation", "settle", str(aid), "2024"])
    assert again.exit_code == 0 and "already settled" in again.output
    assert count(cli_env) == 1
    bad = runner.invoke(main, ["compensation", "settle", str(aid), "2024-13"])
    assert bad.exit_code != 0 and "month" in bad.output
    due = runner.invoke(main, ["compensation", "settle-due"])
    assert due.exit_code == 0 and "0 period(s) settled" in due.output


def test_cli_collects_claims(cli_env: Flask) -> None:
    aid = register(cli_env)
    reading(cli_env, aid, "2024", 2, BETTER)
    runner = CliRunner()
    settled = runner.invoke(main, ["compensation", "settle", str(aid), "2024"])
    assert "claim 7100000000" in settled.output
    assert "0 payment(s)" in runner.invoke(main, ["compensation", "collect-claims"]).output
    fund(cli_env, cash={DOWN: 100_000_000 * YUAN})
    paid = runner.invoke(main, ["compensation", "collect-claims"])
    assert paid.exit_code == 0 and "paid 7100000000 fen" in paid.output
    verify_ok(cli_env)
