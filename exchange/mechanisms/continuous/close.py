"""The close of a continuous market's day, computed by the scheduler at session end.

The close is the volume-weighted average price of the day's listed trades
(:func:`matching.continuous.day_summary`), or the previous close when the day had none;
block trades are counted apart (``block_volume``) and are not part of it. One row per
(market, day), guarded by a unique key under the market's row lock: a second
scheduler, a retry or a manual call finds the first row.
"""

from __future__ import annotations

from datetime import date

from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session

from exchange.mechanisms.continuous import rules, sessions
from exchange.models.base import utcnow
from exchange.models.continuous import ContinuousTrade, DailyClose
from exchange.uow import new_unit_of_work
from matching.continuous import day_summary


def day_trades(
    session: Session, market_id: int, day: date, kind: str = "listed"
) -> list[ContinuousTrade]:
    """The day's trades of ``kind`` in execution order."""
    return list(
        session.scalars(
            select(ContinuousTrade)
            .where(
                ContinuousTrade.market_id == market_id,
                ContinuousTrade.day == day,
                ContinuousTrade.kind == kind,
            )
            .order_by(ContinuousTrade.id)
        )
    )


def compute_close(session: Session, market_id: int, day: date) -> DailyClose:
    """The day's close row, created once (the market row is locked first)."""
    market = rules.lock_market(session, market_id)
    existing = session.scalar(
        select(DailyClose).where(DailyClose.market_id == market_id, DailyClose.day == day)
    )
    if existing is not None:
        return existing
    summary = day_summary(
        day_trades(session, market_id, day), rules.previous_close(session, market, day), market.tick
    )
    block = sum(t.quantity for t in day_trades(session, market_id, day, "block"))
    row = DailyClose(
        market_id=market_id,
        day=day,
        open=summary.open,
        high=summary.high,
        low=summary.low,
        close=summary.close,
        volume=summary.volume,
        turnover=summary.turnover,
        trades=summary.trades,
        block_volume=block,
        computed_at=utcnow(),
    )
    session.add(row)
    session.flush()
    return row


def scheduled_close(app: Flask, market_id: int) -> None:
    """The scheduler's job at session end: the close of the day that just ended."""
    factory = app.extensions["exchange.db"]["sessions"]
    with new_unit_of_work(factory) as session:
        market = rules.lock_market(session, market_id)
        day = sessions.last_finished_day(market.session_calendar, utcnow())
        compute_close(session, market_id, day)


def catch_up(app: Flask) -> None:
    """At scheduler start: the close of each open continuous market's last finished day,
    if it was missed while no scheduler ran (each once; a failure leaves the others)."""
    from exchange.models import Market, MarketStatus

    factory = app.extensions["exchange.db"]["sessions"]
    session = factory()
    try:
        ids = list(
            session.scalars(
                select(Market.id).where(
                    Market.mechanism == "continuous", Market.status == MarketStatus.OPEN
                )
            )
        )
    finally:
        session.close()
    for market_id in ids:
        try:
            scheduled_close(app, market_id)
        except Exception:  # one market's failure must not stop the others
            app.logger.exception("close catch-up of market %s failed", market_id)
