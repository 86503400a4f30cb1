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


@pytest.mark.postgres
@pytest.mark.skipif(not PG_URL, reason="needs PostgreSQL (TEST_DATABASE_URL)")
def test_a_hold_that_must_create_an_account_holds_no_account_while_it_waits(
    app: Flask, session: Session
) -> None:
    """Another transaction (a clearing run, say) has created the league's escrow account and
    not committed: the hold waits for it, holding none of the league's accounts, so that the
    other can still lock them (it used to hold the main account: a deadlock)."""
    from sqlalchemy import text

    fund(session)
    with app.app_context():
        factory = db.session_factory
    creator, holder = factory(), factory()
    outcome: list[str] = []

    def hold() -> None:
        try:
            ledger.place_hold(
                holder, league="ordos", asset=WATER, amount=100, reference="h", actor="t"
            )
            holder.commit()
            outcome.append("held")
        except Exception as exc:  # the assertion below shows it
            outcome.append(repr(exc))

    try:
        ledger.ensure_accounts(creator, [ledger.escrow_account("ordos", WATER)])  # uncommitted
        worker = threading.Thread(target=hold)
        worker.start()
        worker.join(timeout=1.5)
        assert worker.is_alive(), outcome  # it waits for the creator's account
        main = ledger.league_account("ordos", WATER)
        locked = creator.execute(
            text(
                "SELECT id FROM ledger_accounts WHERE kind = :k AND owner = :o AND asset = :a"
                " FOR UPDATE NOWAIT"
            ),
            {"k": main.kind, "o": main.owner, "a": main.asset},
        ).all()
        assert len(locked) == 1  # free: the waiting hold holds no account
        creator.commit()
        worker.join(timeout=30)
        assert outcome == ["held"]
    finally:
        creator.close()
        holder.close()
    session.rollback()
    assert ledger.balance_of(session, ledger.league_account("ordos", WATER)) == 900
    assert_clean(session)
