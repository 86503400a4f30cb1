"""Compliance periods: one market family and year, its deadlines and rules."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from exchange.compliance.commands import CreatePeriod
from exchange.errors import Conflict, InvalidInput, NotFound
from exchange.models import CompliancePeriod, Market, PeriodStatus
from exchange.services.families import check_family, vintage_market


def period_asset_owner(period: CompliancePeriod) -> str:
    """The owner of the period's surrender accounts in the ledger (``period:<id>``)."""
    return f"period:{period.id}"


def create_period(session: Session, command: CreatePeriod) -> CompliancePeriod:
    """Register a period for a family and year; its vintage market must exist."""
    family = check_family(command.market_family)
    market = vintage_market(session, family, command.year)
    if market is None:
        raise InvalidInput(
            f"no market of family {family!r} for vintage {command.year}", field="year"
        )
    if not command.reporting_deadline <= command.verification_deadline:
        raise InvalidInput(
            "the verification deadline may not precede the reporting deadline",
            field="verification_deadline",
        )
    if not command.verification_deadline <= command.surrender_deadline:
        raise InvalidInput(
            "the surrender deadline may not precede the verification deadline",
            field="surrender_deadline",
        )
    if command.reporting_deadline <= date(command.year, 1, 1):
        raise InvalidInput(
            "the reporting deadline must fall after the period's year begins",
            field="reporting_deadline",
        )
    offset_market = None
    if command.offset_market is not None:
        offset_market = session.scalar(select(Market).where(Market.code == command.offset_market))
        if offset_market is None:
            raise InvalidInput(f"unknown market {command.offset_market!r}", field="offset_market")
        if offset_market.id == market.id:
            raise InvalidInput("offsets must be another market's units", field="offset_market")
    exists = session.scalar(
        select(CompliancePeriod.id).where(
            CompliancePeriod.market_family == family, CompliancePeriod.year == command.year
        )
    )
    if exists is not None:
        raise Conflict(f"a period for {family} {command.year} exists", code="period_exists")
    period = CompliancePeriod(
        market_family=family,
        year=command.year,
        market_id=market.id,
        offset_market_id=None if offset_market is None else offset_market.id,
        reporting_deadline=command.reporting_deadline,
        verification_deadline=command.verification_deadline,
        surrender_deadline=command.surrender_deadline,
        objection_days=command.objection_days,
        decision_days=command.decision_days,
        offset_percent=command.offset_percent,
        penalty_fixed=command.penalty_fixed,
        penalty_price_multiple=command.penalty_price_multiple,
        deduct_shortfall=command.deduct_shortfall,
        status=PeriodStatus.OPEN.value,
    )
    session.add(period)
    session.flush()
    return period


def get_period(session: Session, period_id: int, *, lock: bool = False) -> CompliancePeriod:
    """The period, or 404; with ``lock``, its row is locked for this transaction."""
    period = session.get(
        CompliancePeriod, period_id, with_for_update=lock or None, populate_existing=lock
    )
    if period is None:
        raise NotFound(f"no compliance period {period_id}", code="period_not_found")
    return period


def list_periods(session: Session) -> Sequence[CompliancePeriod]:
    """Every period, newest year first."""
    return session.scalars(
        select(CompliancePeriod).order_by(
            CompliancePeriod.year.desc(), CompliancePeriod.market_family
        )
    ).all()


def period_json(session: Session, period: CompliancePeriod) -> dict[str, Any]:
    """A period as the API shows it."""
    market = session.get(Market, period.market_id)
    offset = (
        None if period.offset_market_id is None else session.get(Market, period.offset_market_id)
    )
    return {
        "id": period.id,
        "market_family": period.market_family,
        "year": period.year,
        "market": market.code if market else None,
        "unit": market.unit if market else None,
        "offset_market": offset.code if offset else None,
        "reporting_deadline": period.reporting_deadline.isoformat(),
        "verification_deadline": period.verification_deadline.isoformat(),
        "surrender_deadline": period.surrender_deadline.isoformat(),
        "objection_days": period.objection_days,
        "decision_days": period.decision_days,
        "offset_percent": period.offset_percent,
        "penalty_fixed": period.penalty_fixed,
        "penalty_price_multiple": period.penalty_price_multiple,
        "deduct_shortfall": period.deduct_shortfall,
        "status": period.status,
        "closed_as_of": period.closed_as_of.isoformat() if period.closed_as_of else None,
    }
