"""Use cases run as services: a real session, typed commands, a unit of work, no HTTP."""

from __future__ import annotations

from datetime import UTC

import pytest
from apscheduler.schedulers.background import BackgroundScheduler
from flask import Flask
from sqlalchemy import func, select
from sqlalchemy.orm import Session

import ledger
from exchange import mechanisms, scheduler
from exchange.errors import Conflict, InvalidInput, NotFound
from exchange.identity.actor import Actor
from exchange.mechanisms.base import FormTrades, OrderView
from exchange.models import Market, MarketStatus, Pollutant, RightType, Role, Side, Trade
from exchange.models.trading import Order, OrderStatus
from exchange.services import orders, registry
from exchange.services.commands import (
    CreateMarket,
    Deposit,
    EligibleLeague,
    PlaceOrder,
    TransferLimitSpec,
)
from exchange.services.ledger_ops import Allocation, allocate, deposit
from exchange.uow import unit_of_work
from tests.exchange.trading_helpers import WINDOW

SO2 = CreateMarket(
    code="SVC-SO2-2028",
    name_zh="二氧化硫排污权 2028年度",
    name_en="SO2 discharge rights, 2028",
    right_type=RightType.POLLUTANT,
    pollutant=Pollutant.SO2,
    vintage="2028",
    unit="t",
    lot=1,
    tick=100,
    cap=10_000,
    clearing_schedule="0 10 * * 1",
    eligible_leagues=(EligibleLeague("ordos"), EligibleLeague("baotou")),
)


def _market(session: Session, command: CreateMarket = SO2) -> Market:
    with unit_of_work(session):
        return registry.create_market(session, command)


def test_a_market_is_created_from_a_typed_command_with_its_mechanism(
    demo_registry: Flask, session: Session
) -> None:
    market = _market(session)
    assert market.mechanism == "call_auction"
    assert mechanisms.for_market(market) is mechanisms.get("call_auction")
    assert sorted(e.league_code for e in market.eligibility) == ["baotou", "ordos"]


def test_an_unknown_mechanism_is_refused_and_nothing_is_written(
    demo_registry: Flask, session: Session
) -> None:
    before = session.scalar(select(func.count()).select_from(Market))
    with pytest.raises(InvalidInput) as refused, unit_of_work(session):
        registry.create_market(session, CreateMarket(**{**SO2.__dict__, "mechanism": "barter"}))
    assert refused.value.field == "mechanism"
    assert session.scalar(select(func.count()).select_from(Market)) == before


def test_a_failing_use_case_rolls_back_its_whole_unit_of_work(
    demo_registry: Flask, session: Session
) -> None:
    before = session.scalar(select(func.count()).select_from(Market))
    bad = CreateMarket(
        **{**SO2.__dict__, "code": "SVC-BAD", "transfer_limits": (TransferLimitSpec("x", "y"),)}
    )
    with pytest.raises(InvalidInput), unit_of_work(session):
        registry.create_market(session, CreateMarket(**{**SO2.__dict__, "code": "SVC-OK"}))
        registry.create_market(session, bad)  # the second fails: the first goes too
    assert session.scalar(select(func.count()).select_from(Market)) == before


def test_the_call_auction_forms_trades_against_the_clearing_house(
    demo_registry: Flask, session: Session
) -> None:
    market = _market(session)
    with unit_of_work(session):
        allocate(session, Allocation("ordos", market.code, 500), actor="test")
        deposit(session, Deposit("baotou", 10_000_000), actor="test")
    for league, side, price in (("ordos", "sell", 1_000), ("baotou", "buy", 1_200)):
        with unit_of_work(session):
            orders.place_order(
                session,
                PlaceOrder(market.id, Side(side), 300, price, f"svc-{league}"),
                league=league,
                actor=league,
            )
    mechanism = mechanisms.for_market(market)
    with unit_of_work(session):
        outcome = mechanism.form_trades(
            session, FormTrades(market.id, WINDOW, trigger="manual", actor="test")
        )
    assert outcome.created
    trades = session.scalars(select(Trade).where(Trade.run_id == outcome.source_id)).all()
    assert sorted((t.buyer, t.seller, t.quantity) for t in trades) == [
        ("baotou", ledger.EXCHANGE, 300),
        (ledger.EXCHANGE, "ordos", 300),
    ]
    assert {t.mechanism for t in trades} == {"call_auction"}
    assert {t.source for t in trades} == {f"run:{outcome.source_id}"}
    with unit_of_work(session):
        again = mechanism.form_trades(
            session, FormTrades(market.id, WINDOW, trigger="manual", actor="test")
        )
    assert (again.source_id, again.created) == (outcome.source_id, False)
    assert ledger.verify(session).ok


def test_a_cancel_refreshes_the_order_the_session_already_holds(
    demo_registry: Flask, session: Session
) -> None:
    """The cancel's UPDATE returns the row; an order the session has loaded is that object,
    refreshed (not a second object of the same identity), and its hold is released."""
    market = _market(session)
    with unit_of_work(session):
        allocate(session, Allocation("ordos", market.code, 500), actor="test")
    with unit_of_work(session):
        placed = orders.place_order(
            session,
            PlaceOrder(market.id, Side.SELL, 200, 1_000, "svc-held"),
            league="ordos",
            actor="ordos",
        )
    held = session.get(Order, placed.order.id)
    assert held is not None and held.status is OrderStatus.OPEN
    with unit_of_work(session):
        cancelled = orders.cancel_order(session, order_id=held.id, league="ordos", actor="ordos")
    assert cancelled is held
    assert held.status is OrderStatus.CANCELLED and held.updated_at >= held.created_at
    assert held.fills == []
    escrow = ledger.escrow_account("ordos", ledger.market_asset(market.id))
    assert ledger.balance_of(session, escrow) == 0
    with pytest.raises(Conflict), unit_of_work(session):
        orders.cancel_order(session, order_id=held.id, league="ordos", actor="ordos")
    with pytest.raises(NotFound), unit_of_work(session):
        orders.cancel_order(session, order_id=held.id, league="baotou", actor="baotou")


def test_sealed_bids_are_the_mechanisms_rule() -> None:
    auction = mechanisms.get("call_auction")
    live = OrderView("ordos", live=True)
    done = OrderView("ordos", live=False)
    regulator = Actor("r", Role.REGULATOR)
    auditor = Actor("a", Role.AUDITOR)
    own, other = Actor("o", Role.LEAGUE, "ordos"), Actor("b", Role.LEAGUE, "baotou")
    assert auction.order_visible(regulator, live) and auction.order_visible(own, live)
    assert not auction.order_visible(auditor, live) and auction.order_visible(auditor, done)
    assert not auction.order_visible(other, done)
    assert not auction.order_visible(Actor("anonymous"), done)


def test_the_scheduler_installs_the_jobs_each_mechanism_asks_for(
    demo_registry: Flask, session: Session
) -> None:
    market = _market(session)
    jobs = BackgroundScheduler(timezone=UTC)
    with demo_registry.app_context():
        scheduler.sync_jobs(demo_registry, jobs)
    ids = {job.id for job in jobs.get_jobs()}
    assert f"market:{market.id}:clear" in ids
    wanted = mechanisms.get("call_auction").jobs(demo_registry, market)
    assert [spec.id for spec in wanted] == [f"market:{market.id}:clear"]
    with unit_of_work(session):
        market.status = MarketStatus.CLOSED
        session.add(market)
    with demo_registry.app_context():
        scheduler.sync_jobs(demo_registry, jobs)
    assert f"market:{market.id}:clear" not in {job.id for job in jobs.get_jobs()}
