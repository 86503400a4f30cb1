"""The scheduler's compensation job: settle every closed period that has its readings,
collect what debtors can pay of their open claims, and return the deposits of agreements
whose whole term is settled.

Runs every ``EXCHANGE_COMPENSATION_INTERVAL_SECONDS`` (default 3600; 0: never). Each
period is settled through :func:`settlement.run_settlement`, so a second scheduler,
a retry or a regulator settling by hand at the same moment still settles it once.
Periods whose readings are incomplete are left for a later run.
"""

from __future__ import annotations

import logging
import os
from datetime import datetime
from typing import Any

from flask import Flask
from sqlalchemy.orm import Session, sessionmaker

from exchange.compensation import agreements, settlement
from exchange.compensation.claims import Collected, collect_claims
from exchange.compensation.commands import SCHEDULE, Settle
from exchange.compensation.deposits import release_deposits
from exchange.compensation.periods import Period, term_periods
from exchange.errors import ExchangeError
from exchange.models import utcnow
from exchange.uow import new_unit_of_work

INTERVAL_ENV = "EXCHANGE_COMPENSATION_INTERVAL_SECONDS"
DEFAULT_INTERVAL = 3600
SCHEDULER_ACTOR = "scheduler"

log = logging.getLogger("exchange")


def due_periods(session: Session, now: datetime) -> list[tuple[int, Period]]:
    """(agreement id, period) of every closed, unsettled period whose readings are complete."""
    due = []
    for agreement in agreements.list_agreements(session):
        settled = {s.period for s in settlement.list_settlements(session, agreement.id)}
        current = agreements.current_readings(session, agreement.id)
        for period in term_periods(agreement.first_year, agreement.last_year, agreement.assessment):
            if str(period) in settled or not period.closed(now):
                continue
            if str(period) in current or all(str(m) in current for m in period.months()):
                due.append((agreement.id, period))
    return due


def settle_due(
    factory: sessionmaker[Session], *, now: datetime | None = None, actor: str = SCHEDULER_ACTOR
) -> list[settlement.SettleOutcome]:
    """Settle every due period (each in its own unit of work); the outcomes."""
    now = now or utcnow()
    session = factory()
    try:
        due = due_periods(session, now)
    finally:
        session.close()
    outcomes = []
    for agreement_id, period in due:
        command = Settle(agreement_id, str(period), actor=actor, trigger=SCHEDULE, now=now)
        try:
            outcomes.append(settlement.run_settlement(factory, command))
        except ExchangeError as exc:  # e.g. a reading corrected meanwhile: next run
            log.warning("compensation %s %s not settled: %s", agreement_id, period, exc.message)
    return outcomes


def collect_due(factory: sessionmaker[Session], *, actor: str = SCHEDULER_ACTOR) -> list[Collected]:
    """Pay what debtors can pay now of their open claims (one unit of work)."""
    with new_unit_of_work(factory) as session:
        return collect_claims(session, actor=actor)


def release_due(
    factory: sessionmaker[Session], *, actor: str = SCHEDULER_ACTOR, now: datetime | None = None
) -> dict[int, dict[str, int]]:
    """Return the deposits of every agreement whose term is settled; id -> league -> fen."""
    session = factory()
    try:
        ids = [a.id for a in agreements.list_agreements(session) if a.deposit]
    finally:
        session.close()
    released = {}
    for agreement_id in ids:
        with new_unit_of_work(factory) as session:
            if done := release_deposits(session, agreement_id, actor=actor, now=now):
                released[agreement_id] = done
    return released


def _job(app: Flask) -> None:
    try:
        factory = app.extensions["exchange.db"]["sessions"]
        settle_due(factory)
        collect_due(factory)
        release_due(factory)
    except Exception:
        log.exception("compensation settlement job failed")


def install_compensation_job(app: Flask, scheduler: Any) -> None:
    """Every ``EXCHANGE_COMPENSATION_INTERVAL_SECONDS``, settle the due periods."""
    raw = os.environ.get(INTERVAL_ENV, str(DEFAULT_INTERVAL)).strip()
    seconds = int(raw) if raw.isdigit() else DEFAULT_INTERVAL
    if seconds <= 0:
        return
    scheduler.add_job(
        _job,
        "interval",
        seconds=seconds,
        id="compensation-settle",
        kwargs={"app": app},
        replace_existing=True,
    )
