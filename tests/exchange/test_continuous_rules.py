"""Sessions, band and the close job of continuous markets, and entry at the service level."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from flask import Flask
from flask.testing import FlaskClient

from exchange.errors import InvalidInput
from exchange.extensions import db
from exchange.mechanisms import get
from exchange.mechanisms.continuous import sessions
from exchange.models import Side, Validity
from exchange.services import registry
from exchange.services.commands import PlaceOrder
from exchange.services.orders import place_order
from exchange.uow import new_unit_of_work
from tests.exchange.continuous_helpers import Auth, funded_market

BJ = sessions.BEIJING


def at(y: int, mo: int, d: int, h: int, mi: int) -> datetime:
    return datetime(y, mo, d, h, mi, tzinfo=BJ)


@pytest.mark.parametrize(
    ("moment", "open_"),
    [
        (at(2027, 3, 8, 9, 29), False),
        (at(2027, 3, 8, 9, 30), True),
        (at(2027, 3, 8, 11, 29), True),
        (at(2027, 3, 8, 11, 30), False),
        (at(2027, 3, 8, 12, 59), False),
        (at(2027, 3, 8, 13, 0), True),
        (at(2027, 3, 8, 14, 59), True),
        (at(2027, 3, 8, 15, 0), False),
        (at(2027, 3, 6, 10, 0), False),  # Saturday
        (at(2027, 3, 7, 14, 0), False),  # Sunday
    ],
)
def test_working_day_sessions(moment: datetime, open_: bool) -> None:
    assert sessions.is_open("cn_workdays", moment) is open_
    assert sessions.is_open(None, moment) is open_  # the default
    assert sessions.is_open("always", moment) is True


def test_the_day_whose_close_is_due() -> None:
    assert sessions.last_finished_day("cn_workdays", at(2027, 3, 8, 15, 0)) == date(2027, 3, 8)
    assert sessions.last_finished_day("cn_workdays", at(2027, 3, 8, 14, 0)) == date(2027, 3, 5)
    assert sessions.last_finished_day("cn_workdays", at(2027, 3, 7, 16, 0)) == date(2027, 3, 5)
    assert sessions.last_finished_day("always", at(2027, 3, 8, 0, 0)) == date(2027, 3, 7)
    # 00:30 Beijing is still the previous UTC day: the trading day is the Beijing date
    assert sessions.trading_day(datetime(2027, 3, 7, 16, 30, tzinfo=UTC)) == date(2027, 3, 8)


def test_close_job_runs_at_session_end(
    demo_registry: Flask, client: FlaskClient, auth: Auth
) -> None:
    mid = funded_market(demo_registry, client, auth, code="CEA-C-JOB",
                        session_calendar="cn_workdays")  # fmt: skip
    with demo_registry.app_context(), new_unit_of_work(db.session_factory) as s:
        market = registry.get_market(s, mid)
        (job,) = get("continuous").jobs(demo_registry, market)
    assert job.id == f"market:{mid}:close"
    fire = job.trigger.get_next_fire_time(None, at(2027, 3, 5, 15, 1))  # a Friday
    assert fire == at(2027, 3, 8, 15, 0).replace(second=5)


def test_entry_at_the_service_level(demo_registry: Flask, client: FlaskClient, auth: Auth) -> None:
    mid = funded_market(demo_registry, client, auth)
    with demo_registry.app_context():
        with new_unit_of_work(db.session_factory) as s:
            rest = place_order(s, PlaceOrder(mid, Side.SELL, 100, 10_000, "s"),
                               league="ordos", actor="t").order  # fmt: skip
            assert rest.status.value == "open"
        with new_unit_of_work(db.session_factory) as s:
            ioc = place_order(
                s,
                PlaceOrder(mid, Side.BUY, 150, 10_000, "ioc", validity=Validity.SINGLE_RUN),
                league="baotou",
                actor="t",
            ).order
            # immediate or cancel: 100 traded, the 50 left withdrawn at once
            assert (ioc.filled_quantity, ioc.status.value) == (100, "cancelled")
            assert [(f.quantity, f.price) for f in ioc.fills] == [(100, 10_000)]
        with pytest.raises(InvalidInput) as band, new_unit_of_work(db.session_factory) as s:
            place_order(s, PlaceOrder(mid, Side.BUY, 1, 8_999, "low"), league="baotou", actor="t")
        assert band.value.field == "limit_price"
        assert band.value.details["band"] == {"low": 9_000, "high": 11_000}


def test_close_catch_up_at_scheduler_start(
    demo_registry: Flask, client: FlaskClient, auth: Auth
) -> None:
    from sqlalchemy import select

    from exchange.mechanisms.continuous import close
    from exchange.models.continuous import DailyClose

    mid = funded_market(demo_registry, client, auth)
    (spec,) = get("continuous").startup_jobs(demo_registry)
    spec.func(**spec.kwargs)
    spec.func(**spec.kwargs)  # once per (market, day)
    with demo_registry.app_context(), new_unit_of_work(db.session_factory) as s:
        rows = s.scalars(select(DailyClose).where(DailyClose.market_id == mid)).all()
        assert len(rows) == 1
        assert rows[0].close == 10_000  # no trade: the reference price carries over
        assert rows[0].volume == 0
    assert close.catch_up is spec.func


def test_scheduler_installs_the_close_job(
    demo_registry: Flask, client: FlaskClient, auth: Auth
) -> None:
    from apscheduler.schedulers.background import BackgroundScheduler

    from exchange import scheduler as exchange_scheduler

    mid = funded_market(demo_registry, client, auth)
    sched = BackgroundScheduler(timezone=UTC)
    exchange_scheduler.sync_jobs(demo_registry, sched)
    job = sched.get_job(f"market:{mid}:close")
    assert job is not None
    assert "close" in job.name
    assert sched.get_job(f"market:{mid}:clear") is None  # no clearing runs for it
