"""``idempotent_unit_of_work`` runs the work again only after losing the race on its key."""

from __future__ import annotations

import pytest
from flask import Flask
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from exchange.extensions import db
from exchange.models import Side
from exchange.models.trading import CLIENT_ORDER_KEY, Order
from exchange.uow import idempotent_unit_of_work
from tests.exchange.trading_helpers import market_id


def _order(mid: int, client_order_id: str, quantity: int = 10) -> Order:
    return Order(market_id=mid, league_code="ordos", zone="default", side=Side.SELL,
                 quantity=quantity, limit_price=2_000, client_order_id=client_order_id,
                 created_by="test")  # fmt: skip


def test_a_lost_race_on_the_key_runs_the_work_once_more(demo_registry: Flask) -> None:
    mid = market_id(demo_registry, "CEA-2026")
    calls: list[int] = []

    def work(session: Session) -> int:
        calls.append(1)
        if len(calls) == 1:  # a concurrent request makes the same order first
            with db.session_factory() as other, other.begin():
                other.add(_order(mid, "k"))
            session.add(_order(mid, "k"))
            session.flush()
        found = session.scalar(select(Order.id).where(Order.client_order_id == "k"))
        assert found is not None
        return found

    with demo_registry.app_context():
        session = db.session_factory()
        try:
            first = idempotent_unit_of_work(session, work, key=CLIENT_ORDER_KEY)
        finally:
            session.close()
        assert len(calls) == 2
        with db.session_factory() as check:
            assert check.scalar(select(func.count()).select_from(Order)) == 1
            assert check.scalar(select(Order.id)) == first


def test_any_other_integrity_error_is_raised_without_a_second_run(demo_registry: Flask) -> None:
    mid = market_id(demo_registry, "CEA-2026")
    calls: list[int] = []

    def work(session: Session) -> None:
        calls.append(1)
        session.add(_order(mid, "bad", quantity=0))  # breaks quantity > 0, not the key
        session.flush()

    with demo_registry.app_context():
        session = db.session_factory()
        try:
            with pytest.raises(IntegrityError):
                idempotent_unit_of_work(session, work, key=CLIENT_ORDER_KEY)
        finally:
            session.close()
    assert calls == [1]
