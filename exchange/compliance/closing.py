"""The deadline: freeze every league's status once, turn shortfalls into penalties.

Exactly once, however many schedulers or commands try: the period row is locked
(``SELECT ... FOR UPDATE``; SQLite serialises writers), a closed period is
answered as it stands, and the snapshot rows are unique per (period, league), so
a second writer that got past the lock anyway fails and rolls back.

Penalty rule of a period: ``penalty_fixed`` (fen) plus ``penalty_price_multiple``
x the previous month's average clearing price (fen per unit, volume-weighted over
the vintage market's completed runs in the calendar month before ``as_of``; if
it had none, the last clearing price before; if none, the market's floor) x the
units short. A league with status ``C`` at the deadline gets the fixed fine only
(its shortfall is unknown). The fine is a cash claim in the ledger (a ``penalty``
journal from the claims' issuance account to the league's penalty account);
with ``deduct_shortfall``, the units short are taken from the league's next
allocation of the family (``exchange.services.compliance_deductions``).
"""

from __future__ import annotations

import logging
from datetime import UTC, date, datetime, timedelta
from typing import Any

from flask import Flask
from sqlalchemy import func, select
from sqlalchemy.orm import Session

import ledger
from exchange.compliance.commands import ClosePeriod
from exchange.compliance.periods import get_period
from exchange.compliance.status import live_status
from exchange.errors import InvalidInput
from exchange.models import (
    ClearingRun,
    CompliancePeriod,
    ComplianceStatus,
    Market,
    Penalty,
    PeriodStatus,
    RunStatus,
    StatusSnapshot,
)
from exchange.services.ledger_ops import ledger_error

log = logging.getLogger("exchange")
SYSTEM_ACTOR = "system:compliance"


def _month_start(day: date) -> datetime:
    return datetime(day.year, day.month, 1, tzinfo=UTC)


def penalty_price(session: Session, market_id: int, as_of: date) -> int:
    """The previous month's average clearing price (fen per unit), see the module doc."""
    end = _month_start(as_of)
    start = _month_start((end - timedelta(days=1)).date())
    completed = (ClearingRun.market_id == market_id, ClearingRun.status == RunStatus.COMPLETED)
    volume, value = session.execute(
        select(
            func.coalesce(func.sum(ClearingRun.volume), 0),
            func.coalesce(func.sum(ClearingRun.volume * ClearingRun.price), 0),
        ).where(
            *completed,
            ClearingRun.price.is_not(None),
            ClearingRun.window >= start,
            ClearingRun.window < end,
        )
    ).one()
    if volume:
        return int(value) // int(volume)
    last = session.scalar(
        select(ClearingRun.price)
        .where(*completed, ClearingRun.price.is_not(None), ClearingRun.window < end)
        .order_by(ClearingRun.window.desc())
        .limit(1)
    )
    if last is not None:
        return int(last)
    market = session.get(Market, market_id)
    return 0 if market is None else market.price_floor


def _penalise(
    session: Session, period: CompliancePeriod, league: str, shortfall: int, price: int, actor: str
) -> Penalty:
    # capped at the largest amount one posting may carry (a rule, not an overflow)
    fine = min(
        period.penalty_fixed + period.penalty_price_multiple * price * shortfall, ledger.MAX_AMOUNT
    )
    journal_id = None
    if fine > 0:
        try:
            journal_id = ledger.post_journal(
                session,
                ledger.JournalSpec(
                    ledger.JournalKind.PENALTY,
                    f"compliance:{period.id}:{league}:penalty",
                    actor,
                    (
                        ledger.PostingSpec(ledger.issuance_account(ledger.CLAIMS), -fine),
                        ledger.PostingSpec(ledger.penalty_account(league), fine),
                    ),
                ),
            )
        except ledger.LedgerError as err:
            raise ledger_error(err) from None
    penalty = Penalty(
        period_id=period.id,
        league_code=league,
        shortfall=shortfall,
        fine=fine,
        price=price,
        journal_id=journal_id,
        deduction=shortfall if period.deduct_shortfall else 0,
        deducted=0,
    )
    session.add(penalty)
    return penalty


def close_period(session: Session, command: ClosePeriod) -> dict[str, Any]:
    """Freeze the period's statuses as of ``as_of`` (on or after the surrender deadline)."""
    period = get_period(session, command.period_id, lock=True)
    if period.status == PeriodStatus.CLOSED:
        return {"period_id": period.id, "closed": False, "as_of": str(period.closed_as_of)}
    if command.as_of < period.surrender_deadline:
        raise InvalidInput(
            f"as_of precedes the surrender deadline {period.surrender_deadline.isoformat()}",
            field="as_of",
        )
    rows = live_status(session, period, command.as_of)
    price = penalty_price(session, period.market_id, command.as_of)
    penalties = []
    for row in rows:
        session.add(
            StatusSnapshot(
                period_id=period.id,
                league_code=row.league,
                status=row.status.value,
                verified=row.verified,
                surrendered=row.surrendered,
                offsets=row.offsets,
                shortfall=row.shortfall,
                as_of=command.as_of,
            )
        )
        if row.status in (ComplianceStatus.B, ComplianceStatus.C):
            penalty = _penalise(session, period, row.league, row.shortfall, price, command.actor)
            penalties.append(
                {"league": row.league, "shortfall": row.shortfall, "fine": penalty.fine}
            )
    period.status = PeriodStatus.CLOSED.value
    period.closed_as_of = command.as_of
    session.flush()
    return {
        "period_id": period.id,
        "closed": True,
        "as_of": command.as_of.isoformat(),
        "price": price,
        "penalties": penalties,
    }


def due_periods(session: Session, today: date) -> list[int]:
    """Open periods whose surrender deadline has passed."""
    return list(
        session.scalars(
            select(CompliancePeriod.id)
            .where(
                CompliancePeriod.status == PeriodStatus.OPEN.value,
                CompliancePeriod.surrender_deadline < today,
            )
            .order_by(CompliancePeriod.id)
        )
    )


def close_due_periods(app: Flask, today: date | None = None) -> list[dict[str, Any]]:
    """Close every period past its deadline, each in its own unit of work (the job)."""
    from exchange.uow import new_unit_of_work

    day = today or datetime.now(UTC).date()
    factory = app.extensions["exchange.db"]["sessions"]
    with new_unit_of_work(factory) as session:
        ids = due_periods(session, day)
    results = []
    for period_id in ids:
        with new_unit_of_work(factory) as session:
            results.append(
                close_period(session, ClosePeriod(period_id, as_of=day, actor=SYSTEM_ACTOR))
            )
    return results


def _close_job(app: Flask) -> None:
    try:
        with app.app_context():
            close_due_periods(app)
    except Exception:
        log.exception("compliance deadline job could not run")


def install_compliance_job(app: Flask, scheduler: Any) -> None:
    """Every hour (at minute 7), close the periods whose surrender deadline has passed."""
    scheduler.add_job(
        _close_job,
        "cron",
        minute=7,
        id="compliance-close",
        kwargs={"app": app},
        replace_existing=True,
    )
