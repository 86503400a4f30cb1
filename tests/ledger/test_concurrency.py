"""Two spenders race for the same balance: exactly one wins, the other gets a clear error."""

from __future__ import annotations

import multiprocessing
import os
import threading

import pytest
from flask import Flask
from sqlalchemy.orm import Session

import ledger
from exchange.extensions import db
from tests.ledger.helpers import assert_clean, spend, spend_in_process

WATER = ledger.market_asset(1)
PG_URL = os.environ.get("TEST_DATABASE_URL", "")


def fund(session: Session) -> None:
    ledger.issue(session, league="ordos", asset=WATER, amount=1000, reference="a", actor="r")
    session.commit()


@pytest.mark.postgres
@pytest.mark.skipif(not PG_URL, reason="needs PostgreSQL (TEST_DATABASE_URL)")
def test_two_processes_spend_the_same_balance(session: Session, database_url: str) -> None:
    fund(session)
    context = multiprocessing.get_context("spawn")
    barrier = context.Barrier(2)
    results = context.Queue()
    workers = [
        context.Process(target=spend_in_process, args=(database_url, 800, barrier, results))
        for _ in range(2)
    ]
    for worker in workers:
        worker.start()
    outcomes = sorted(results.get(timeout=60) for _ in workers)
    for worker in workers:
        worker.join(timeout=30)
        assert worker.exitcode == 0
    results.close()
    results.join_thread()
    assert outcomes == ["insufficient:200", "ok"]
    session.rollback()
    assert ledger.balance_of(session, ledger.league_account("ordos", WATER)) == 200
    assert_clean(session)


def test_two_threads_spend_the_same_balance(app: Flask, session: Session) -> None:
    fund(session)
    with app.app_context():
        factory = db.session_factory
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def run() -> None:
        own = factory()
        try:
            barrier.wait()
            outcomes.append(spend(own, 800, linger=0.2))
        finally:
            own.close()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(outcomes) == ["insufficient:200", "ok"]
    session.rollback()
    assert ledger.balance_of(session, ledger.league_account("ordos", WATER)) == 200
    assert_clean(session)
