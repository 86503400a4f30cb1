"""Builders for trading tests: fund leagues through the ledger, read balances, clear."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from flask import Flask
from sqlalchemy import select

import ledger
from exchange.extensions import db
from exchange.mechanisms.call_auction.run import RunOutcome, run_clearing
from exchange.models import Market
from exchange.models.trading import RunTrigger
from exchange.uow import new_unit_of_work

WINDOW = datetime(2027, 3, 1, 2, 0, tzinfo=UTC)


def market_id(app: Flask, code: str) -> int:
    with app.app_context(), new_unit_of_work(db.session_factory) as s:
        return int(s.scalar(select(Market.id).where(Market.code == code)))


def fund(
    app: Flask,
    *,
    rights: dict[tuple[str, int], int] | None = None,
    cash: dict[str, int] | None = None,
) -> None:
    """Issue rights ``{(league, market_id): units}`` and deposit cash ``{league: fen}``."""
    with app.app_context(), new_unit_of_work(db.session_factory) as s, s.begin():
        for (league, mid), units in (rights or {}).items():
            ledger.issue(
                s,
                league=league,
                asset=ledger.market_asset(mid),
                amount=units,
                reference=f"test-allocation:{league}",
                actor="test",
            )
        for league, fen in (cash or {}).items():
            ledger.deposit_cash(
                s,
                league=league,
                amount=fen,
                reference=f"test-deposit:{league}",
                actor="test",
            )


def balance(app: Flask, league: str, asset: str) -> dict[str, int]:
    """``{"posted", "held", "available"}`` of a league in an asset (zeros if none)."""
    with app.app_context(), new_unit_of_work(db.session_factory) as s:
        for view in ledger.balances(s, league):
            if view.asset == asset:
                return {"posted": view.posted, "held": view.held, "available": view.available}
        return {"posted": 0, "held": 0, "available": 0}


def verify_ok(app: Flask) -> Any:
    with app.app_context(), new_unit_of_work(db.session_factory) as s:
        report = ledger.verify(s)
    assert report.ok, [v.message for v in report.violations]
    return report


def clear(app: Flask, mid: int, window: datetime = WINDOW) -> RunOutcome:
    with app.app_context():
        return run_clearing(
            db.session_factory, mid, window, trigger=RunTrigger.MANUAL, actor="test"
        )
