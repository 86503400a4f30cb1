"""Compliance cycles, service level: surrender, limits, objections, status, close, deduction."""

from __future__ import annotations

import threading
from datetime import date, timedelta

import pytest
from flask import Flask
from sqlalchemy import func, select, text

import ledger
from exchange.compliance import closing, figures, forecast, periods, status, surrenders
from exchange.compliance.calendar import add_working_days
from exchange.compliance.commands import (
    ClosePeriod,
    DecideObjection,
    FileObjection,
    SurrenderUnits,
)
from exchange.errors import Conflict, ExchangeError, InvalidInput
from exchange.extensions import db
from exchange.models import Penalty, StatusSnapshot
from exchange.services import ledger_ops, registry
from exchange.services.commands import Allocation, CreateMarket
from exchange.uow import new_unit_of_work
from tests.exchange.compliance_helpers import DEADLINE, ENTERED, enter, make_period
from tests.exchange.trading_helpers import balance, fund, market_id, verify_ok

LEAGUE = "ordos"


def _surrender(app: Flask, pid: int, quantity: int, offsets: int = 0, ref: str = "s1",
               today: date = ENTERED, league: str = LEAGUE) -> tuple[dict, bool]:  # fmt: skip
    with app.app_context(), new_unit_of_work(db.session_factory) as session:
        row, created = surrenders.surrender(
            session, SurrenderUnits(pid, league, quantity, offsets, ref, "test", today)
        )
        return surrenders.surrender_json(row), created


def _status(app: Flask, pid: int, today: date) -> dict[str, dict]:
    with app.app_context(), new_unit_of_work(db.session_factory) as session:
        result = status.period_status(session, pid, today)
    return {row["league"]: row for row in result["leagues"]}


def _close(app: Flask, pid: int, as_of: date = DEADLINE) -> dict:
    with app.app_context(), new_unit_of_work(db.session_factory) as session:
        return closing.close_period(session, ClosePeriod(pid, as_of, "test"))


@pytest.fixture
def cea(demo_registry: Flask) -> int:
    mid = market_id(demo_registry, "CEA-2026")
    fund(demo_registry, rights={(LEAGUE, mid): 10_000, ("baotou", mid): 10_000})
    return mid


def test_whole_cycle_with_status_transitions_and_penalty(demo_registry: Flask, cea: int) -> None:
    app = demo_registry
    pid = make_period(app)
    # before the reporting deadline, no figure: not applicable; after it: C
    assert _status(app, pid, date(2027, 3, 1))[LEAGUE]["status"] == "NOT_APPLICABLE"
    assert _status(app, pid, date(2027, 4, 1))[LEAGUE]["status"] == "C"
    enter(app, pid, LEAGUE, 5_000)
    enter(app, pid, "baotou", 3_000)
    enter(app, pid, "wuhai", None, excluded=True)
    rows = _status(app, pid, date(2027, 4, 2))
    assert rows[LEAGUE] == {
        "league": LEAGUE, "status": "B", "verified": 5_000, "surrendered": 0, "offsets": 0,
        "shortfall": 5_000,
    }  # fmt: skip
    assert rows["wuhai"]["status"] == "EXCLUDED"
    _surrender(app, pid, 3_000)
    assert _status(app, pid, date(2027, 4, 2))[LEAGUE]["shortfall"] == 2_000
    _surrender(app, pid, 2_000, ref="s2")
    assert _status(app, pid, date(2027, 4, 2))[LEAGUE]["status"] == "A"
    _surrender(app, pid, 1_000, ref="b1", league="baotou")
    asset = ledger.market_asset(cea)
    assert balance(app, LEAGUE, asset)["available"] == 5_000

    result = _close(app, pid)
    assert result["closed"] is True
    fined = {p["league"]: p for p in result["penalties"]}
    assert LEAGUE not in fined and "wuhai" not in fined  # compliant, excluded
    assert len(fined) == 10  # baotou short, nine leagues without a figure (C: fixed fine)
    assert fined["hohhot"] == {"league": "hohhot", "shortfall": 0, "fine": 2_000_000}
    frozen = _status(app, pid, date(2028, 1, 1))
    assert frozen[LEAGUE]["status"] == "A" and frozen["baotou"]["status"] == "B"
    assert frozen["baotou"]["shortfall"] == 2_000
    # the fine: 20,000 yuan + 3 x floor price (no runs) x 2,000 short, as a cash claim
    fine = 2_000_000 + 3 * 2_000 * 2_000
    assert fined["baotou"]["fine"] == fine
    assert balance(app, "baotou", ledger.CLAIMS) == {"posted": 0, "held": 0, "available": 0}
    with app.app_context():
        s = db.session_factory()
        try:
            owed = ledger.balance_of(s, ledger.penalty_account("baotou"))
        finally:
            s.close()
    assert owed == fine
    # closing twice does nothing more
    assert _close(app, pid)["closed"] is False
    with pytest.raises(Conflict):
        _surrender(app, pid, 1, ref="late", league="baotou", today=DEADLINE)
    verify_ok(app)


def test_over_surrender_and_offsets_over_the_limit(demo_registry: Flask, cea: int) -> None:
    app = demo_registry
    offsets_id = market_id(app, "ENERGY-2027")  # stands in for an offset market here
    fund(app, rights={(LEAGUE, offsets_id): 1_000})
    pid = make_period(app, offset_market="ENERGY-2027")
    with pytest.raises(Conflict) as no_figure:
        _surrender(app, pid, 10)
    assert no_figure.value.code == "no_verified_figure"
    enter(app, pid, LEAGUE, 1_000)
    with pytest.raises(InvalidInput) as over_limit:
        _surrender(app, pid, 900, offsets=51)
    assert over_limit.value.code == "offsets_over_limit" and over_limit.value.field == "offsets"
    _surrender(app, pid, 900, offsets=50)
    with pytest.raises(Conflict) as over:
        _surrender(app, pid, 51, ref="s2")
    assert over.value.code == "over_surrender"
    # a retry answers the first surrender again; the same ref for other amounts is refused
    first, created = _surrender(app, pid, 900, offsets=50)
    assert created is False and first["quantity"] == 900
    with pytest.raises(Conflict):
        _surrender(app, pid, 10, ref="s1")
    assert balance(app, LEAGUE, ledger.market_asset(offsets_id))["available"] == 950
    assert _status(app, pid, ENERGY_DAY)[LEAGUE]["shortfall"] == 50
    verify_ok(app)


ENERGY_DAY = date(2027, 5, 1)


def test_surrendered_units_never_leave_the_surrender_account(demo_registry: Flask) -> None:
    asset = "market:1"
    spec = ledger.JournalSpec(
        ledger.JournalKind.TRANSFER,
        "undo",
        "test",
        (
            ledger.PostingSpec(ledger.surrender_account("period:1", asset), -1),
            ledger.PostingSpec(ledger.league_account(LEAGUE, asset), 1),
        ),
    )
    with pytest.raises(ledger.InvalidPosting):
        ledger.validate_spec(spec)


def test_objection_once_within_the_window_then_final(demo_registry: Flask, cea: int) -> None:
    app = demo_registry
    pid = make_period(app)
    enter(app, pid, LEAGUE, 5_000)
    enter(app, pid, "baotou", 4_000)
    last = add_working_days(ENTERED, 7)
    assert last == date(2027, 4, 12)  # Thursday + 7 working days (weekends skipped)

    def object_(league: str, today: date) -> int:
        with app.app_context(), new_unit_of_work(db.session_factory) as session:
            return figures.file_objection(
                session, FileObjection(pid, league, "meter fault", today, 4_500)
            ).id

    with pytest.raises(Conflict) as late:
        object_("baotou", last + timedelta(days=1))
    assert late.value.code == "objection_window_closed"
    objection = object_(LEAGUE, last)
    with pytest.raises(Conflict) as twice:
        object_(LEAGUE, last)
    assert twice.value.code == "objection_exists"
    with pytest.raises(Conflict):  # pending: the regulator decides instead
        enter(app, pid, LEAGUE, 4_000, today=last)
    with app.app_context(), new_unit_of_work(db.session_factory) as session:
        figures.decide_objection(
            session, DecideObjection(pid, objection, "accepted", "regulator", last, 4_500)
        )
    assert _status(app, pid, last)[LEAGUE]["verified"] == 4_500
    with pytest.raises(Conflict) as final:
        enter(app, pid, LEAGUE, 1, today=last)
    assert final.value.code == "figure_final"
    # baotou's window passed without an objection: final too
    with pytest.raises(Conflict):
        enter(app, pid, "baotou", 1, today=last + timedelta(days=1))


def test_shortfall_is_deducted_from_the_next_allocation(demo_registry: Flask, cea: int) -> None:
    app = demo_registry
    pid = make_period(app)
    enter(app, pid, LEAGUE, 5_000)
    _surrender(app, pid, 4_000)
    _close(app, pid)
    with app.app_context(), new_unit_of_work(db.session_factory) as session:
        data = {
            "code": "CEA-2027", "name_zh": "碳排放配额 2027年度", "name_en": "CEA 2027",
            "right_type": "carbon", "pollutant": None, "basin": None, "vintage": "2027",
            "unit": "tCO2e", "lot": 100, "tick": 1, "price_floor": 2_000, "cap": 10**9,
            "clearing_schedule": "0 10 * * 1",
        }  # fmt: skip
        next_id = registry.create_market(session, CreateMarket.from_data(data)).id
    with app.app_context(), new_unit_of_work(db.session_factory) as s:
        first = ledger_ops.allocate(s, Allocation(LEAGUE, "CEA-2027", 600), actor="regulator")
    with app.app_context(), new_unit_of_work(db.session_factory) as s:
        second = ledger_ops.allocate(s, Allocation(LEAGUE, "CEA-2027", 1_000), actor="regulator")
        penalty = s.scalar(select(Penalty).where(Penalty.league_code == LEAGUE))
        assert penalty is not None and (penalty.deduction, penalty.deducted) == (1_000, 1_000)
    assert (first["deducted"], second["deducted"]) == (600, 400)
    assert balance(app, LEAGUE, ledger.market_asset(next_id))["available"] == 600
    verify_ok(app)


def test_close_refuses_a_date_before_the_deadline(demo_registry: Flask) -> None:
    pid = make_period(demo_registry)
    with pytest.raises(InvalidInput) as early:
        _close(demo_registry, pid, DEADLINE - timedelta(days=1))
    assert early.value.field == "as_of"


def test_scheduler_job_closes_due_periods_once(demo_registry: Flask, cea: int) -> None:
    app = demo_registry
    pid = make_period(app)
    enter(app, pid, LEAGUE, 100)
    with app.app_context():
        assert closing.close_due_periods(app, DEADLINE) == []  # the deadline day still counts
        done = closing.close_due_periods(app, DEADLINE + timedelta(days=1))
        assert [r["period_id"] for r in done] == [pid]
        assert closing.close_due_periods(app, DEADLINE + timedelta(days=2)) == []


@pytest.mark.slow
def test_snapshot_racing_with_a_surrender(demo_registry: Flask, cea: int) -> None:
    """The snapshot counts a concurrent surrender, or the surrender is refused: never half."""
    app = demo_registry
    pid = make_period(app)
    enter(app, pid, LEAGUE, 5_000)
    barrier = threading.Barrier(2)
    outcomes: dict[str, object] = {}

    def surrender_thread() -> None:
        barrier.wait()
        try:
            outcomes["surrender"] = _surrender(app, pid, 1_000, today=DEADLINE)
        except ExchangeError as err:
            outcomes["surrender"] = err

    def close_thread() -> None:
        barrier.wait()
        outcomes["close"] = _close(app, pid)

    threads = [threading.Thread(target=surrender_thread), threading.Thread(target=close_thread)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    with app.app_context():
        s = db.session_factory()
        try:
            snap = s.scalar(
                select(StatusSnapshot).where(
                    StatusSnapshot.period_id == pid, StatusSnapshot.league_code == LEAGUE
                )
            )
            rows = s.scalar(text("SELECT count(*) FROM compliance_surrenders"))
            snapshots = s.scalar(select(func.count()).select_from(StatusSnapshot))
        finally:
            s.close()
    assert snap is not None
    assert snapshots == 12
    if isinstance(outcomes["surrender"], ExchangeError):
        assert outcomes["surrender"].code == "period_closed"
        assert rows == 0 and snap.surrendered == 0
    else:
        assert rows == 1 and snap.surrendered == 1_000
    verify_ok(app)


@pytest.mark.slow  # seeds the whole demo
def test_demo_seeds_a_closed_2025_period_with_one_shortfall_and_an_open_one(
    demo_registry: Flask,
) -> None:
    from exchange.compliance.demo import seed_demo_compliance
    from exchange.services.demo import seed_demo

    app = demo_registry
    with app.app_context(), new_unit_of_work(db.session_factory) as session:
        seed_demo(session)
    with app.app_context(), new_unit_of_work(db.session_factory) as session:
        assert seed_demo_compliance(session) is not None
    with app.app_context(), new_unit_of_work(db.session_factory) as session:
        assert seed_demo_compliance(session) is None  # once
        listed = {(p.year, p.status): p.id for p in periods.list_periods(session)}
    assert set(listed) == {(2025, "closed"), (2026, "open")}
    closed = _status(app, listed[(2025, "closed")], date(2026, 11, 30))
    short = {code: row for code, row in closed.items() if row["status"] == "B"}
    assert list(short) == ["wuhai"] and short["wuhai"]["shortfall"] == 50_000
    with app.app_context(), new_unit_of_work(db.session_factory) as session:
        data = forecast.forecast(session, listed[(2026, "open")], None, date(2026, 11, 30))
    # the 12 leagues and the demo's three synthetic emitters (issue 20: enterprises are
    # obligated in the markets of their sector, like leagues)
    emitters = {"ordos-coal-power", "ordos-coal-chemical", "baotou-nonferrous-smelter"}
    codes = {row["league"] for row in data["leagues"]}
    assert len(codes - emitters) == 12 and emitters <= codes
    assert data["leagues"][0]["league"] == "wuhai"
    assert data["leagues"][0]["shortfall"] > 0
    with app.app_context(), new_unit_of_work(db.session_factory) as session:
        from exchange.services import paid_use

        bills = {b.league_code: b.instalments for b in paid_use.list_bills(session)}
    assert bills == {"ordos": False, "baotou": True}
    verify_ok(app)


def test_surrenders_snapshots_and_penalties_are_append_only(demo_registry: Flask, cea: int) -> None:
    from sqlalchemy.exc import DatabaseError

    app = demo_registry
    pid = make_period(app)
    enter(app, pid, LEAGUE, 5_000)
    _surrender(app, pid, 1_000)
    _close(app, pid)
    for statement in (
        "UPDATE compliance_surrenders SET quantity = 5000",
        "DELETE FROM compliance_surrenders",
        "UPDATE compliance_snapshots SET status = 'A'",
        "DELETE FROM compliance_snapshots",
        "UPDATE compliance_penalties SET fine = 0",
        "DELETE FROM compliance_penalties",
    ):
        with app.app_context():
            s = db.session_factory()
            try:
                with pytest.raises(DatabaseError):
                    s.execute(text(statement))
                s.rollback()
            finally:
                s.close()
    with app.app_context(), new_unit_of_work(db.session_factory) as session:
        session.execute(text("UPDATE compliance_penalties SET deducted = 1 WHERE deduction > 0"))


def test_the_deadline_job_is_in_the_composition_root(app: Flask) -> None:
    from apscheduler.schedulers.background import BackgroundScheduler

    from exchange.composition import JOB_INSTALLERS

    assert closing.install_compliance_job in JOB_INSTALLERS
    scheduler = BackgroundScheduler()
    closing.install_compliance_job(app, scheduler)
    job = scheduler.get_job("compliance-close")
    assert job is not None and job.kwargs == {"app": app}


@pytest.mark.slow
def test_two_schedulers_close_a_period_once(demo_registry: Flask, cea: int) -> None:
    app = demo_registry
    pid = make_period(app)
    enter(app, pid, LEAGUE, 5_000)
    barrier = threading.Barrier(2)
    results: list[object] = []

    def closer() -> None:
        barrier.wait()
        try:
            results.append(_close(app, pid)["closed"])
        except Exception as err:  # a unique-constraint loser is a refusal, never a second close
            results.append(err)

    threads = [threading.Thread(target=closer) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert results.count(True) == 1, results
    with app.app_context():
        s = db.session_factory()
        try:
            snapshots = s.scalar(select(func.count()).select_from(StatusSnapshot))
            penalties = s.scalar(select(func.count()).select_from(Penalty))
        finally:
            s.close()
    assert snapshots == 12 and penalties == 12  # ordos B (short), eleven leagues C
    verify_ok(app)
