"""Compensation services with a real session: deposits, settlement, claims, exactly once."""

from __future__ import annotations

import threading

import pytest
from flask import Flask
from sqlalchemy import func, select, text
from sqlalchemy.exc import DBAPIError

import ledger
from exchange.compensation import settlement
from exchange.compensation.commands import Settle
from exchange.compensation.report import build_report
from exchange.errors import Conflict, InsufficientFunds, InvalidInput
from exchange.extensions import db
from exchange.models import CompensationClaim, CompensationReading, CompensationSettlement
from tests.exchange.compensation_helpers import (
    BASELINE,
    BETTER,
    DOWN,
    UP,
    WORSE,
    YUAN,
    reading,
    register,
)
from tests.exchange.trading_helpers import fund, verify_ok


def cash(app: Flask, league: str) -> int:
    with app.app_context():
        s = db.session_factory()
        try:
            return ledger.balance_of(s, ledger.league_account(league, ledger.CASH))
        finally:
            s.close()


def deposit_balance(app: Flask, agreement_id: int, league: str) -> int:
    with app.app_context():
        s = db.session_factory()
        try:
            return ledger.balance_of(s, ledger.compensation_deposit_account(agreement_id, league))
        finally:
            s.close()


def settle(app: Flask, agreement_id: int, period: str) -> settlement.SettleOutcome:
    with app.app_context():
        return settlement.run_settlement(
            db.session_factory, Settle(agreement_id=agreement_id, period=period, actor="test")
        )


def test_better_water_downstream_pays_upstream_from_cash(demo_registry: Flask) -> None:
    fund(demo_registry, cash={DOWN: 100_000_000 * YUAN})
    aid = register(demo_registry)
    reading(demo_registry, aid, "2024", 2, BETTER)
    outcome = settle(demo_registry, aid, "2024")
    s = outcome.settlement
    assert outcome.created
    assert (s.class_term, s.index_term, s.total) == (6_000_000_000, 1_100_000_000, 7_100_000_000)
    assert (s.payer, s.payee, s.from_deposit, s.from_cash, s.claimed) == (
        DOWN,
        UP,
        0,
        7_100_000_000,
        0,
    )
    assert cash(demo_registry, UP) == 7_100_000_000
    assert cash(demo_registry, DOWN) == 10_000_000_000 - 7_100_000_000
    assert s.breakdown["readings"] and s.breakdown["index_exact"] == "8/15"
    verify_ok(demo_registry)


def test_worse_water_upstream_pays_from_deposit_first(demo_registry: Flask) -> None:
    fund(demo_registry, cash={UP: 100_000_000 * YUAN, DOWN: 50_000_000 * YUAN})
    aid = register(demo_registry, deposit=50_000_000 * YUAN)
    assert deposit_balance(demo_registry, aid, UP) == 50_000_000 * YUAN
    assert cash(demo_registry, DOWN) == 0
    reading(demo_registry, aid, "2024", 4, WORSE)  # -76 million yuan
    s = settle(demo_registry, aid, "2024").settlement
    assert (s.payer, s.payee) == (UP, DOWN)
    assert (s.from_deposit, s.from_cash, s.claimed) == (5_000_000_000, 2_600_000_000, 0)
    assert deposit_balance(demo_registry, aid, UP) == 0
    assert deposit_balance(demo_registry, aid, DOWN) == 50_000_000 * YUAN
    assert cash(demo_registry, DOWN) == 7_600_000_000
    assert cash(demo_registry, UP) == 10_000_000_000 - 5_000_000_000 - 2_600_000_000
    verify_ok(demo_registry)


def test_payer_without_cash_leaves_a_claim_never_a_negative_balance(demo_registry: Flask) -> None:
    fund(demo_registry, cash={DOWN: 1_000_000 * YUAN})
    aid = register(demo_registry)
    reading(demo_registry, aid, "2024", 2, BETTER)  # 71 million yuan owed
    s = settle(demo_registry, aid, "2024").settlement
    assert (s.from_deposit, s.from_cash, s.claimed) == (0, 100_000_000, 7_000_000_000)
    assert cash(demo_registry, DOWN) == 0
    assert cash(demo_registry, UP) == 100_000_000
    with demo_registry.app_context():
        ses = db.session_factory()
        try:
            claim = ses.scalars(select(CompensationClaim)).one()
            assert (claim.debtor, claim.creditor, claim.amount, claim.paid) == (
                DOWN,
                UP,
                7_000_000_000,
                0,
            )
            assert claim.settlement_id == s.id
        finally:
            ses.close()
    verify_ok(demo_registry)


def test_payer_with_nothing_posts_no_journal(demo_registry: Flask) -> None:
    aid = register(demo_registry)
    reading(demo_registry, aid, "2024", 2, BETTER)
    s = settle(demo_registry, aid, "2024").settlement
    assert s.journal_id is None and s.claimed == 7_100_000_000
    verify_ok(demo_registry)


def test_equal_class_settles_at_zero(demo_registry: Flask) -> None:
    aid = register(demo_registry)
    reading(demo_registry, aid, "2024", 3, BASELINE)
    s = settle(demo_registry, aid, "2024").settlement
    assert (s.total, s.payer, s.journal_id, s.claimed) == (0, None, None, 0)


def test_deposit_needs_the_cash_and_leaves_nothing(demo_registry: Flask) -> None:
    fund(demo_registry, cash={UP: 10})
    with pytest.raises(InsufficientFunds) as err:
        register(demo_registry, deposit=100)
    assert err.value.field == "deposit"
    assert cash(demo_registry, UP) == 10
    verify_ok(demo_registry)


def test_second_settlement_returns_the_first(demo_registry: Flask) -> None:
    fund(demo_registry, cash={DOWN: 100_000_000 * YUAN})
    aid = register(demo_registry)
    reading(demo_registry, aid, "2024", 2, BETTER)
    first = settle(demo_registry, aid, "2024")
    again = settle(demo_registry, aid, "2024")
    assert first.created and not again.created
    assert again.settlement.id == first.settlement.id
    assert cash(demo_registry, UP) == 7_100_000_000  # paid once


def test_racing_schedulers_settle_exactly_once(demo_registry: Flask) -> None:
    fund(demo_registry, cash={DOWN: 1_000_000_000 * YUAN})
    aid = register(demo_registry, assessment="monthly")
    for m in range(1, 13):
        reading(demo_registry, aid, f"2024-{m:02d}", 2, BETTER)
    outcomes: list[settlement.SettleOutcome] = []
    errors: list[BaseException] = []
    barrier = threading.Barrier(4)

    def scheduler() -> None:
        try:
            barrier.wait()
            for m in range(1, 13):
                outcomes.append(settle(demo_registry, aid, f"2024-{m:02d}"))
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=scheduler) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not errors, errors
    assert sum(o.created for o in outcomes) == 12
    assert len({o.settlement.id for o in outcomes}) == 12
    with demo_registry.app_context():
        s = db.session_factory()
        try:
            assert s.scalar(select(func.count()).select_from(CompensationSettlement)) == 12
            total, journals = ledger.list_journals(s, kind="compensation")
        finally:
            s.close()
    assert total == 12 and len(journals) == 12
    assert cash(demo_registry, UP) == 12 * 591_666_667
    verify_ok(demo_registry)


def test_annual_settles_on_the_average_of_twelve_months(demo_registry: Flask) -> None:
    aid = register(demo_registry)
    for m in range(1, 12):
        reading(demo_registry, aid, f"2024-{m:02d}", 2, BETTER)
    with pytest.raises(Conflict) as err:
        settle(demo_registry, aid, "2024")
    assert err.value.field == "period" and "2024-12" in err.value.message
    reading(demo_registry, aid, "2024-12", 3, BASELINE)
    s = settle(demo_registry, aid, "2024").settlement
    assert len(s.breakdown["readings"]) == 12
    assert s.measured_class == 2  # mean 2.083 -> II
    assert s.class_term == 6_000_000_000


def test_correction_supersedes_and_is_refused_once_settled(demo_registry: Flask) -> None:
    aid = register(demo_registry)
    first = reading(demo_registry, aid, "2024", 4, WORSE)
    second = reading(demo_registry, aid, "2024", 2, BETTER)
    with demo_registry.app_context():
        s = db.session_factory()
        try:
            assert s.get(CompensationReading, second).supersedes_id == first
        finally:
            s.close()
    outcome = settle(demo_registry, aid, "2024").settlement
    assert outcome.breakdown["readings"] == [second]
    with pytest.raises(Conflict):
        reading(demo_registry, aid, "2024", 3, BASELINE)


def test_open_or_wrong_periods_are_refused(demo_registry: Flask) -> None:
    aid = register(demo_registry, last_year=2030)
    with pytest.raises(InvalidInput) as err:
        reading(demo_registry, aid, "2030", 3, BASELINE)
    assert err.value.field == "period"
    with pytest.raises(InvalidInput):
        settle(demo_registry, aid, "2024-05")  # an annual agreement settles years
    with pytest.raises(InvalidInput):
        reading(demo_registry, aid, "2031", 3, BASELINE)  # outside the term
    with pytest.raises(InvalidInput) as err:
        reading(demo_registry, aid, "2024", 3, {"COD": 1, "NH3-N": 1})
    assert err.value.field == "indicators.TP"


def test_readings_and_settlements_are_append_only(demo_registry: Flask) -> None:
    aid = register(demo_registry)
    reading(demo_registry, aid, "2024", 3, BASELINE)
    settle(demo_registry, aid, "2024")
    with demo_registry.app_context():
        s = db.session_factory()
        try:
            for table in ("compensation_readings", "compensation_settlements"):
                with pytest.raises(DBAPIError):
                    s.execute(text(f"UPDATE {table} SET period = '2025'"))
                s.rollback()
                with pytest.raises(DBAPIError):
                    s.execute(text(f"DELETE FROM {table}"))
                s.rollback()
        finally:
            s.close()


def test_claim_is_collected_once_the_debtor_has_cash(demo_registry: Flask) -> None:
    from exchange.compensation.jobs import collect_due

    fund(demo_registry, cash={DOWN: 1_000_000 * YUAN})
    aid = register(demo_registry)
    reading(demo_registry, aid, "2024", 2, BETTER)  # 71 million owed, 1 million paid
    settle(demo_registry, aid, "2024")
    with demo_registry.app_context():
        assert collect_due(db.session_factory) == []  # nothing to pay with
        fund(demo_registry, cash={DOWN: 30_000_000 * YUAN})
        first = collect_due(db.session_factory)
        assert [c.amount for c in first] == [3_000_000_000]
        fund(demo_registry, cash={DOWN: 100_000_000 * YUAN})
        second = collect_due(db.session_factory)
        assert [c.amount for c in second] == [4_000_000_000]
        assert collect_due(db.session_factory) == []  # settled in full
        s = db.session_factory()
        try:
            claim = s.scalars(select(CompensationClaim)).one()
            assert claim.paid == claim.amount == 7_000_000_000
        finally:
            s.close()
    assert cash(demo_registry, UP) == 7_100_000_000
    assert cash(demo_registry, DOWN) == 60_000_000 * YUAN
    verify_ok(demo_registry)
    with demo_registry.app_context():
        s = db.session_factory()
        try:
            row = build_report(s, aid).rows[0]
        finally:
            s.close()
    assert (row.paid, row.unpaid, row.cumulative) == (7_100_000_000, 0, 7_100_000_000)


def test_deposits_return_once_the_term_is_settled(demo_registry: Flask) -> None:
    from exchange.compensation.jobs import release_due

    fund(demo_registry, cash={UP: 10_000_000 * YUAN, DOWN: 100_000_000 * YUAN})
    aid = register(demo_registry, deposit=10_000_000 * YUAN)
    reading(demo_registry, aid, "2024", 2, BETTER)  # downstream pays 71 million
    settle(demo_registry, aid, "2024")
    with demo_registry.app_context():
        assert release_due(db.session_factory) == {}  # 2025 is not settled yet
    reading(demo_registry, aid, "2025", 3, BASELINE)
    settle(demo_registry, aid, "2025")
    with demo_registry.app_context():
        assert release_due(db.session_factory) == {aid: {UP: 1_000_000_000}}
        assert release_due(db.session_factory) == {}  # once
    assert deposit_balance(demo_registry, aid, UP) == 0
    assert deposit_balance(demo_registry, aid, DOWN) == 0
    assert cash(demo_registry, UP) == 1_000_000_000 + 7_100_000_000
    assert cash(demo_registry, DOWN) == 10_000_000_000 - 7_100_000_000
    verify_ok(demo_registry)
