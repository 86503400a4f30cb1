"""A hold whose locks the caller sends with its own statement (``ledger.hold_lock``,
``ledger.driver.fetch_together``): one round trip, the same hold, nothing of another's."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

import ledger
from ledger.driver import fetch_together
from ledger.models import Hold
from tests.ledger.helpers import assert_clean

WATER = ledger.market_asset(1)


def _fund(session: Session) -> None:
    ledger.issue(session, league="ordos", asset=WATER, amount=1000, reference="a", actor="r")
    ledger.place_hold(  # the league's escrow account and its order chain exist from here
        session, league="ordos", asset=WATER, amount=1, reference="first", actor="r"
    )
    session.commit()


def _postgres(session: Session) -> bool:
    return session.get_bind().dialect.name == "postgresql"


def _hold_of_ordos(
    session: Session, amount: int, reference: str, lock: ledger.HoldLock, rows: Sequence[Any]
) -> int:
    return ledger.place_hold(
        session,
        league="ordos",
        asset=WATER,
        amount=amount,
        reference=reference,
        actor="r",
        prelocked=(lock, rows),
    )


def test_a_hold_placed_with_its_locks_sent_by_the_caller_is_the_same_hold(
    session: Session,
) -> None:
    _fund(session)
    lock = ledger.hold_lock(session, league="ordos", asset=WATER)
    if not _postgres(session):
        assert lock is None  # SQLite: place_hold locks by itself
        return
    assert lock is not None
    mine, rows = fetch_together(session, [("SELECT 41 + 1", {}), (lock.sql, lock.params)])
    assert mine == [(42,)]
    hold_id = _hold_of_ordos(session, 300, "order:7", lock, rows)
    session.commit()
    hold = session.get(Hold, hold_id)
    assert hold is not None and (hold.amount, hold.remaining, hold.reference) == (
        300,
        300,
        "order:7",
    )
    assert ledger.balance_of(session, ledger.league_account("ordos", WATER)) == 699
    assert ledger.balance_of(session, ledger.escrow_account("ordos", WATER)) == 301
    assert_clean(session)


def test_the_locks_of_another_hold_are_refused_and_nothing_is_written(session: Session) -> None:
    _fund(session)
    ledger.issue(session, league="baotou", asset=WATER, amount=50, reference="b", actor="r")
    session.commit()
    theirs = ledger.hold_lock(session, league="baotou", asset=WATER)
    if theirs is None:  # SQLite has none to give; the check comes before any statement
        theirs = ledger.HoldLock("baotou", WATER, ledger.order_chain(WATER, "baotou"), "", {})
        rows: list[tuple[object, ...]] = []
    else:
        (rows,) = fetch_together(session, [(theirs.sql, theirs.params)])
    with pytest.raises(ValueError, match="another hold"):
        _hold_of_ordos(session, 10, "order:8", theirs, rows)
    session.rollback()
    assert session.scalar(select(Hold.id).where(Hold.reference == "order:8")) is None
    assert ledger.balance_of(session, ledger.league_account("ordos", WATER)) == 999


def test_statements_sent_together_fail_together_and_leave_the_session_usable(
    session: Session,
) -> None:
    if not _postgres(session):
        pytest.skip("fetch_together is PostgreSQL's (one pipeline)")
    _fund(session)
    session.execute(text("CREATE TEMP TABLE together_probe (n INT)"))
    with pytest.raises(DBAPIError):
        fetch_together(
            session,
            [
                ("INSERT INTO together_probe VALUES (1)", {}),
                ("SELECT 1 / 0", {}),
                ("INSERT INTO together_probe VALUES (2)", {}),
            ],
        )
    session.rollback()  # the transaction is aborted: the first insert goes with it
    assert session.scalar(text("SELECT 1")) == 1
    assert ledger.balance_of(session, ledger.league_account("ordos", WATER)) == 999
