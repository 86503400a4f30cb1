"""Negotiated term transfers as services: a real session, units of work, no HTTP."""

from __future__ import annotations

from datetime import date

import pytest
from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session

import ledger
from exchange.errors import Conflict, Forbidden, InsufficientFunds, InvalidInput, NotFound
from exchange.identity.actor import ANONYMOUS
from exchange.models import (
    Approval,
    DeliveryStatus,
    Market,
    Payment,
    RightType,
    Side,
    Trade,
    Transfer,
)
from exchange.services import orders, transfer_views
from exchange.services.commands import PlaceOrder
from exchange.services.ledger_ops import verify
from exchange.uow import unit_of_work
from tests.exchange.transfer_helpers import (
    FAMILY,
    REG_A,
    REG_B,
    act,
    allocate_water,
    available,
    fund_cash,
    league,
    propose,
    roll,
    water,
    year_market,
)

Q = 100_000
PRICE = 103


def _transfer(session: Session, transfer_id: int) -> Transfer:
    session.expire_all()
    found = session.get(Transfer, transfer_id)
    assert found is not None
    return found


def _statuses(session: Session, transfer_id: int) -> dict[int, str]:
    return {d.year: d.status.value for d in _transfer(session, transfer_id).deliveries}


def test_the_whole_life_of_a_five_year_transfer(demo_registry: Flask, session: Session) -> None:
    for year in range(2027, 2032):
        year_market(session, year)
    allocate_water(session, "bayannur", 2027, 150_000)
    allocate_water(session, "bayannur", 2028, 100_000)
    fund_cash(session, "ordos", 10**9)
    tid = propose(session)
    assert _transfer(session, tid).status.value == "proposed"
    assert water(session, "bayannur", 2027) == 150_000  # nothing held before acceptance

    with pytest.raises(Forbidden):  # the proposer cannot accept its own proposal
        act(session, "accept", tid, league("ordos"))
    assert act(session, "accept", tid, league("bayannur")) == "accepted"
    # acceptance holds the allocated years' water and the first payment
    assert water(session, "bayannur", 2027) == 50_000
    assert water(session, "bayannur", 2028) == 0
    assert available(session, "ordos", ledger.CASH) == 10**9 - Q * PRICE
    assert _statuses(session, tid) == {
        2027: "secured",
        2028: "secured",
        2029: "pending",
        2030: "pending",
        2031: "pending",
    }
    assert roll(session, "2027-06-01").delivered == []  # nothing settles before approval

    assert act(session, "review", tid, REG_A) == "reviewed"
    with pytest.raises(Forbidden) as same:
        act(session, "approve", tid, REG_A)
    assert same.value.code == "same_user"
    assert act(session, "approve", tid, REG_B) == "active"
    assert [a.step.value for a in session.scalars(select(Approval))] == ["review", "approve"]

    assert roll(session, "2026-12-31").delivered == []  # 2027 is due on 1 January 2027
    assert roll(session, "2027-01-01").delivered == [(tid, 2027)]
    assert roll(session, "2027-01-01").delivered == []  # idempotent
    assert water(session, "ordos", 2027) == Q
    assert available(session, "bayannur", ledger.CASH) == Q * PRICE
    assert roll(session, "2028-03-01").delivered == [(tid, 2028)]
    assert roll(session, "2029-02-01").delivered == []  # 2029 not yet allocated: it waits
    allocate_water(session, "bayannur", 2029, 120_000)  # served to the transfer first
    assert water(session, "bayannur", 2029) == 20_000
    assert roll(session, "2029-02-01").delivered == [(tid, 2029)]
    allocate_water(session, "bayannur", 2030, Q)
    allocate_water(session, "bayannur", 2031, Q)
    result = roll(session, "2031-01-01")
    assert result.delivered == [(tid, 2030), (tid, 2031)]
    assert result.completed == [tid]
    done = _transfer(session, tid)
    assert done.status.value == "completed"
    assert all(d.journal_hash and len(d.journal_hash) == 64 for d in done.deliveries)
    assert available(session, "bayannur", ledger.CASH) == 5 * Q * PRICE
    assert available(session, "ordos", ledger.CASH) == 10**9 - 5 * Q * PRICE
    assert sum(water(session, "ordos", y) for y in range(2027, 2032)) == 5 * Q
    trades = session.scalars(select(Trade).where(Trade.source == f"contract:{tid}")).all()
    assert [(t.mechanism, t.quantity, t.amount) for t in trades] == [("transfer", Q, Q * PRICE)] * 5
    assert verify(session).ok


def test_a_seller_short_of_water_defaults_and_nothing_is_partly_delivered(
    demo_registry: Flask, session: Session
) -> None:
    for year in range(2027, 2032):
        year_market(session, year)
    allocate_water(session, "wuhai", 2027, Q)
    fund_cash(session, "ordos", 10**9)
    tid = propose(session, seller="wuhai", payment=Payment.UPFRONT, ref="up")
    act(session, "accept", tid, league("wuhai"))
    assert available(session, "ordos", ledger.CASH) == 10**9 - 5 * Q * PRICE  # all upfront
    act(session, "review", tid, REG_A)
    act(session, "approve", tid, REG_B)
    assert roll(session, "2027-01-01").delivered == [(tid, 2027)]
    assert available(session, "wuhai", ledger.CASH) == 5 * Q * PRICE
    allocate_water(session, "wuhai", 2028, Q)
    assert roll(session, "2028-01-01").delivered == [(tid, 2028)]
    allocate_water(session, "wuhai", 2029, Q // 2)  # too little for the transfer
    transfer = _transfer(session, tid)
    assert transfer.status.value == "defaulted"
    assert (transfer.defaulted_party, transfer.defaulted_year) == ("wuhai", 2029)
    assert "2029" in (transfer.reason or "")
    assert _statuses(session, tid) == {
        2027: "delivered",
        2028: "delivered",
        2029: "defaulted",
        2030: "cancelled",
        2031: "cancelled",
    }
    assert water(session, "wuhai", 2029) == Q // 2  # not held, not delivered: nothing partly
    assert water(session, "ordos", 2029) == 0
    assert [t.id for t in transfer_views.defaults(session)] == [tid]  # on the console
    assert roll(session, "2031-06-01").delivered == []
    assert verify(session).ok


def test_a_seller_cannot_oversell_water_promised_to_a_transfer(
    demo_registry: Flask, session: Session
) -> None:
    market = year_market(session, 2027)
    year_market(session, 2028)
    allocate_water(session, "bayannur", 2027, Q)
    fund_cash(session, "ordos", 10**9)
    fund_cash(session, "baotou", 10**9)
    tid = propose(session, first=2027, last=2028)
    act(session, "accept", tid, league("bayannur"))
    with pytest.raises(InsufficientFunds), unit_of_work(session):
        orders.place_order(
            session,
            PlaceOrder(market.id, Side.SELL, 1_000, 100, "oversell"),
            league="bayannur",
            actor="user-bayannur",
        )
    other = propose(session, buyer="baotou", by="baotou", first=2027, last=2027, ref="twice")
    with pytest.raises(InsufficientFunds) as twice:
        act(session, "accept", other, league("bayannur"))
    assert twice.value.field == "quantity_per_year"
    # the 2028 allocation is held for the transfer the moment it is made
    allocate_water(session, "bayannur", 2028, Q)
    assert water(session, "bayannur", 2028) == 0
    assert _statuses(session, tid)[2028] == "secured"
    assert verify(session).ok


def test_negotiation_rules(demo_registry: Flask, session: Session) -> None:
    year_market(session, 2027)
    tid = propose(session, first=2027, last=2027)
    assert propose(session, first=2027, last=2027, quantity=5_000) == tid  # same client_ref
    assert propose(session, by="bayannur", first=2027, last=2027) != tid  # another party's ref
    with pytest.raises(Forbidden):
        act(session, "withdraw", tid, league("bayannur"))
    with pytest.raises(NotFound):  # a private proposal does not exist for others
        act(session, "accept", tid, league("baotou"))
    with pytest.raises(Forbidden):
        act(session, "review", tid, league("ordos"))
    with pytest.raises(Conflict):
        act(session, "review", tid, REG_A)  # not accepted yet
    assert act(session, "withdraw", tid, league("ordos")) == "withdrawn"
    with pytest.raises(Conflict):
        act(session, "accept", tid, league("bayannur"))
    visible = transfer_views.list_transfers(session, transfer_views.TransferQuery(), ANONYMOUS)
    assert visible[0] == 0


def test_a_regulator_rejects_with_a_reason_and_the_holds_return(
    demo_registry: Flask, session: Session
) -> None:
    year_market(session, 2027)
    allocate_water(session, "bayannur", 2027, Q)
    fund_cash(session, "ordos", Q * PRICE)
    tid = propose(session, first=2027, last=2027)
    act(session, "accept", tid, league("bayannur"))
    act(session, "review", tid, REG_A)
    with pytest.raises(InvalidInput) as missing:
        act(session, "reject", tid, REG_B)
    assert missing.value.field == "reason"
    assert act(session, "reject", tid, REG_B, reason="price far below the reference") == "rejected"
    assert water(session, "bayannur", 2027) == Q
    assert available(session, "ordos", ledger.CASH) == Q * PRICE
    with pytest.raises(Conflict):
        act(session, "approve", tid, REG_A)
    assert verify(session).ok


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"quantity": 1_500}, "quantity_per_year"),
        ({"first": 2031, "last": 2027}, "last_year"),
        ({"seller": "ordos"}, "buyer"),
        ({"seller": "hulunbuir"}, "seller"),
    ],
)
def test_bad_terms_name_their_field(
    demo_registry: Flask, session: Session, change: dict[str, object], field: str
) -> None:
    year_market(session, 2027)
    with pytest.raises(InvalidInput) as bad:
        propose(session, **change)  # type: ignore[arg-type]
    assert bad.value.field == field
    assert session.scalar(select(Transfer.id)) is None


def test_the_cli_and_the_daily_job_roll_through_the_same_service(
    demo_registry: Flask, session: Session, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from apscheduler.schedulers.background import BackgroundScheduler
    from click.testing import CliRunner

    from exchange.cli import main
    from exchange.composition import JOB_INSTALLERS
    from exchange.services.transfer_jobs import ROLL_JOB_ID, install_transfer_roll_job

    for year in (2027, 2028):
        year_market(session, year)
        allocate_water(session, "bayannur", year, Q)
    fund_cash(session, "ordos", 10**9)
    tid = propose(session, first=2027, last=2028)
    act(session, "accept", tid, league("bayannur"))
    act(session, "review", tid, REG_A)
    act(session, "approve", tid, REG_B)
    session.rollback()  # no transaction of ours left open while the command writes
    monkeypatch.setenv("DATABASE_URL", database_url)
    runner = CliRunner()
    bad = runner.invoke(main, ["transfers", "roll", "--date", "2027-13-01"])
    assert bad.exit_code == 2 and "--date" in bad.output
    first = runner.invoke(main, ["transfers", "roll", "--date", "2027-01-01"])
    assert first.exit_code == 0, first.output
    assert "1 delivered" in first.output and f"transfer {tid}: 2027 delivered" in first.output
    again = runner.invoke(main, ["transfers", "roll", "--date", "2027-01-01"])
    assert "0 delivered" in again.output  # idempotent
    assert _statuses(session, tid) == {2027: "delivered", 2028: "secured"}

    assert install_transfer_roll_job in JOB_INSTALLERS
    scheduler = BackgroundScheduler()
    install_transfer_roll_job(demo_registry, scheduler)
    job = scheduler.get_job(ROLL_JOB_ID)
    assert job is not None and "hour='0'" in str(job.trigger)
    session.rollback()
    from exchange.services import transfer_jobs

    monkeypatch.setattr(transfer_jobs, "today", lambda: date(2028, 1, 1))
    job.func(**job.kwargs)
    assert _statuses(session, tid)[2028] == "delivered"
    assert _transfer(session, tid).status.value == "completed"


def test_the_demo_has_transfers_in_various_states_and_stays_verifiable(
    demo_registry: Flask, session: Session
) -> None:
    from exchange.services.demo_ledger import seed_demo_ledger
    from exchange.services.demo_transfers import seed_demo_diversion, seed_demo_transfers

    with unit_of_work(session):
        seed_demo_ledger(session)
        assert seed_demo_transfers(session)
        assert seed_demo_diversion(session)
    with unit_of_work(session):
        assert seed_demo_transfers(session) is None  # idempotent
        assert seed_demo_diversion(session) is None
    statuses = {t.status.value for t in session.scalars(select(Transfer))}
    assert statuses == {"active", "reviewed", "accepted", "proposed", "withdrawn", "rejected"}
    active = session.scalars(
        select(Transfer).where(Transfer.status == "active", Transfer.market_family == FAMILY)
    ).one()
    diversion = session.scalars(
        select(Transfer).where(Transfer.market_family == "water:yinchuo")
    ).one()
    assert (diversion.seller, diversion.buyer, diversion.status.value) == (
        "hinggan", "tongliao", "active",
    )  # fmt: skip
    ycjl = session.scalar(select(Market).where(Market.code == "YCJL-WATER-2027"))
    assert ycjl is not None and ycjl.cap == 436_000_000
    asset = ledger.market_asset(ycjl.id)
    assert available(session, "hinggan", asset) == 149_000_000 - 10_000_000  # held for 2027
    assert available(session, "tongliao", asset) == 287_000_000
    first_two = [d.status for d in active.deliveries][:2]
    assert first_two == [DeliveryStatus.SECURED, DeliveryStatus.PENDING]
    assert verify(session).ok


def test_a_transfer_between_zones_delivers_the_volume_less_the_conveyance_loss(
    demo_registry: Flask, session: Session
) -> None:
    from exchange.services import registry
    from exchange.services.commands import CreateMarket, EligibleLeague, TransferLimitSpec

    with unit_of_work(session):
        market = registry.create_market(
            session,
            CreateMarket(
                code="YR-LOSS-2030", name_zh="黄河水权 2030年度", name_en="Yellow River, 2030",
                right_type=RightType.WATER, basin="yellow", vintage="2030", unit="m3", lot=1_000,
                tick=1, cap=10**9, clearing_schedule="0 10 * * 1",
                eligible_leagues=(EligibleLeague("bayannur"), EligibleLeague("ordos")),
                transfer_limits=(TransferLimitSpec("bayannur", "ordos", None, loss=37),),
            ),
        )  # fmt: skip
    allocate_water(session, "bayannur", 2030, Q)
    fund_cash(session, "ordos", 10**9)
    tid = propose(session, first=2030, last=2030)
    act(session, "accept", tid, league("bayannur"))
    act(session, "review", tid, REG_A)
    act(session, "approve", tid, REG_B)
    roll(session, "2030-01-01")
    delivered = _transfer(session, tid).deliveries[0]
    assert (delivered.quantity, delivered.received) == (Q, Q - 3_700)  # 3.7 % lost on the way
    asset = ledger.market_asset(market.id)
    assert available(session, "ordos", asset) == Q - 3_700
    assert ledger.balance_of(session, ledger.conveyance_loss_account(asset)) == 3_700
    assert available(session, "bayannur", ledger.CASH) == Q * PRICE  # paid for what was sent
    assert verify(session).ok
    with pytest.raises(InvalidInput), unit_of_work(session):
        registry.create_market(
            session,
            CreateMarket(
                code="YR-BADLOSS", name_zh="x", name_en="x", right_type=RightType.WATER,
                basin="yellow", vintage="2031", unit="m3", lot=1, tick=1, cap=10,
                clearing_schedule="0 10 * * 1",
                eligible_leagues=(EligibleLeague("bayannur"), EligibleLeague("ordos")),
                transfer_limits=(TransferLimitSpec("bayannur", "ordos", None, loss=1000),),
            ),
        )  # fmt: skip


def test_a_transfer_in_default_before_approval_is_never_published(
    demo_registry: Flask, session: Session
) -> None:
    year_market(session, 2027)
    fund_cash(session, "ordos", 10**9)
    tid = propose(session, seller="wuhai", first=2027, last=2027)
    act(session, "accept", tid, league("wuhai"))  # 2027 not yet allocated: pending
    allocate_water(session, "wuhai", 2027, 1_000)  # too little: default before approval
    assert _transfer(session, tid).status.value == "defaulted"
    public = transfer_views.list_transfers(session, transfer_views.TransferQuery(), ANONYMOUS)
    assert public[0] == 0
    with pytest.raises(NotFound):
        transfer_views.get_transfer(session, tid, league("baotou"))
    assert transfer_views.get_transfer(session, tid, REG_A).id == tid
    assert available(session, "ordos", ledger.CASH) == 10**9  # the first payment came back
    assert verify(session).ok


def test_the_mechanism_forms_trades_of_secured_due_years(
    demo_registry: Flask, session: Session
) -> None:
    from datetime import UTC, datetime

    from exchange import mechanisms
    from exchange.mechanisms.base import FormTrades

    market = year_market(session, 2027)
    allocate_water(session, "bayannur", 2027, Q)
    fund_cash(session, "ordos", 10**9)
    tid = propose(session, first=2027, last=2027)
    act(session, "accept", tid, league("bayannur"))
    act(session, "review", tid, REG_A)
    act(session, "approve", tid, REG_B)
    mechanism = mechanisms.get("transfer")
    assert mechanism.jobs(demo_registry, market) == ()
    early = FormTrades(market.id, datetime(2026, 12, 31, tzinfo=UTC), "manual", "test")
    with unit_of_work(session):
        assert mechanism.form_trades(session, early).created is False
    due = FormTrades(market.id, datetime(2027, 1, 1, tzinfo=UTC), "manual", "test")
    with unit_of_work(session):
        outcome = mechanism.form_trades(session, due)
    assert outcome.created
    assert _statuses(session, tid) == {2027: "delivered"}
    assert session.scalar(select(Trade.source).where(Trade.mechanism == "transfer")) == (
        f"contract:{tid}"
    )
    assert verify(session).ok


def test_two_schedulers_rolling_at_once_deliver_a_year_exactly_once(
    demo_registry: Flask, session: Session
) -> None:
    import threading

    from exchange.services.transfer_jobs import run_roll

    for year in (2027, 2028):
        year_market(session, year)
        allocate_water(session, "bayannur", year, Q)
    fund_cash(session, "ordos", 10**9)
    tid = propose(session, first=2027, last=2028)
    act(session, "accept", tid, league("bayannur"))
    act(session, "review", tid, REG_A)
    act(session, "approve", tid, REG_B)
    session.rollback()  # nothing of ours open while the two schedulers write
    results: list[object] = []
    start = threading.Barrier(2)

    def scheduler() -> None:
        start.wait()
        try:
            results.append(run_roll(demo_registry, date(2028, 6, 1), "scheduler"))
        except Exception as exc:  # pragma: no cover - reported below
            results.append(exc)

    threads = [threading.Thread(target=scheduler) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert not [r for r in results if isinstance(r, Exception)], results
    delivered = sorted(y for r in results for _t, y in r.delivered)  # type: ignore[attr-defined]
    assert delivered == [2027, 2028]  # each year once, whichever scheduler did it
    trades = session.scalars(select(Trade).where(Trade.source == f"contract:{tid}")).all()
    assert len(trades) == 2
    assert _transfer(session, tid).status.value == "completed"
    assert verify(session).ok
