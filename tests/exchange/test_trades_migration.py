"""Migration 0006: fills become trades with the same ids, and every run still replays."""

from __future__ import annotations

from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import select, text

import ledger
from exchange.extensions import db
from exchange.migrate import alembic_config
from exchange.models import ClearingRun, Trade
from exchange.services.demo import seed_demo
from exchange.services.demo_trading import seed_history
from exchange.services.replay import replay_run
from exchange.uow import new_unit_of_work, unit_of_work

pytestmark = pytest.mark.slow


def _migrate(app: Flask, revision: str, down: bool = False) -> None:
    from alembic import command

    engine = db.engine
    config = alembic_config(engine.url.render_as_string(hide_password=False))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        (command.downgrade if down else command.upgrade)(config, revision)


def test_fills_round_trip_to_trades_and_every_run_replays(app: Flask, tmp_path: Path) -> None:
    with app.app_context():
        with new_unit_of_work(db.session_factory) as session, unit_of_work(session):
            seed_demo(session, str(tmp_path / "credentials.json"))
        seed_history(db.session_factory, days=2)
        with new_unit_of_work(db.session_factory) as session:
            before = session.execute(
                select(Trade.id, Trade.order_id, Trade.run_id, Trade.quantity, Trade.price)
            ).all()
            trades = session.execute(select(Trade.id, Trade.buyer, Trade.seller)).all()
        assert before, "the demo history has trades"
        assert {b for _i, b, s in trades} | {s for _i, b, s in trades} >= {ledger.EXCHANGE}

        _migrate(app, "0006_security", down=True)
        try:
            with db.engine.connect() as conn:
                fills = conn.execute(
                    text("SELECT id, order_id, run_id, quantity, price FROM fills ORDER BY id")
                ).all()
            assert [tuple(r) for r in fills] == sorted(tuple(r) for r in before)
        finally:
            _migrate(app, "head")

        with new_unit_of_work(db.session_factory) as session:
            after = session.execute(
                select(Trade.id, Trade.order_id, Trade.run_id, Trade.quantity, Trade.price)
            ).all()
            assert sorted(after) == sorted(before)
            assert sorted(session.execute(select(Trade.id, Trade.buyer, Trade.seller))) == sorted(
                trades
            )
            runs = session.scalars(select(ClearingRun.id).order_by(ClearingRun.id)).all()
            assert runs
            for run_id in runs:
                report = replay_run(session, run_id)
                assert report.ok, (run_id, report.differences)
            assert ledger.verify(session).ok
