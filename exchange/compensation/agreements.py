"""Agreements and readings: register (with the deposits), enter and correct readings.

Services take the caller's session and a command and never commit (``exchange.uow``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

import ledger
from exchange.compensation import formula
from exchange.compensation.commands import EnterReading, RegisterAgreement
from exchange.compensation.periods import Period, parse_period
from exchange.errors import Conflict, InvalidInput, NotFound, insufficient_funds
from exchange.models import (
    CompensationAgreement,
    CompensationReading,
    CompensationSettlement,
    League,
    utcnow,
)

MAX_CONCENTRATION = 10**9
"""Largest concentration accepted, ug/L (1000 g/L: far beyond any river)."""


def _check_indicators(values: Mapping[str, int], *, minimum: int, field: str) -> None:
    if not values:
        raise InvalidInput("name at least one indicator", field=field)
    for name, value in values.items():
        if name not in formula.CLASS_III_LIMITS:
            known = ", ".join(formula.INDICATORS)
            raise InvalidInput(f"unknown indicator {name!r} (known: {known})", field=field)
        if type(value) is not int or not minimum <= value <= MAX_CONCENTRATION:
            raise InvalidInput(
                f"{name} must be an integer of ug/L in {minimum}..{MAX_CONCENTRATION}",
                field=f"{field}.{name}",
            )


def register_agreement(session: Session, command: RegisterAgreement) -> CompensationAgreement:
    """Register an agreement and take each side's deposit into its escrow (at signing)."""
    for field in ("upstream", "downstream"):
        code = getattr(command, field)
        if session.get(League, code) is None:
            raise InvalidInput(f"no participant with code {code!r}", field=field)
    if command.upstream == command.downstream:
        raise InvalidInput("upstream and downstream must differ", field="downstream")
    if command.assessment not in formula.ASSESSMENTS:
        raise InvalidInput("assessment is annual or monthly", field="assessment")
    if command.first_year > command.last_year:
        raise InvalidInput("last_year is before first_year", field="last_year")
    _check_indicators(command.indicators, minimum=1, field="indicators")
    agreement = CompensationAgreement(
        upstream=command.upstream,
        downstream=command.downstream,
        section=command.section,
        target_class=command.target_class,
        amount_per_class=command.amount_per_class,
        indicators=dict(sorted(command.indicators.items())),
        amount_per_point=command.amount_per_point,
        index_cap=command.index_cap,
        assessment=command.assessment,
        first_year=command.first_year,
        last_year=command.last_year,
        deposit=command.deposit,
        created_by=command.actor,
        created_at=utcnow(),
    )
    session.add(agreement)
    session.flush()
    if command.deposit:
        _take_deposits(session, agreement)
    return agreement


def _take_deposits(session: Session, agreement: CompensationAgreement) -> None:
    specs = [
        ledger.JournalSpec(
            ledger.JournalKind.COMPENSATION_DEPOSIT,
            f"compensation:{agreement.id}/deposit:{league}",
            agreement.created_by,
            (
                ledger.PostingSpec(ledger.league_account(league, ledger.CASH), -agreement.deposit),
                ledger.PostingSpec(
                    ledger.compensation_deposit_account(agreement.id, league), agreement.deposit
                ),
            ),
            chain=ledger.compensation_chain(agreement.id),
        )
        for league in (agreement.upstream, agreement.downstream)
    ]
    try:
        ledger.post_journals(session, specs)
    except ledger.InsufficientFunds as err:
        raise insufficient_funds(
            err, f"a side cannot pay the deposit of {agreement.deposit} fen", field="deposit"
        ) from None


def list_agreements(session: Session) -> Sequence[CompensationAgreement]:
    """Every agreement, oldest first."""
    return session.scalars(select(CompensationAgreement).order_by(CompensationAgreement.id)).all()


def get_agreement(
    session: Session, agreement_id: int, *, lock: bool = False
) -> CompensationAgreement:
    """One agreement (locked ``FOR UPDATE`` with ``lock``), or :class:`NotFound`."""
    agreement = session.get(
        CompensationAgreement, agreement_id, with_for_update=lock, populate_existing=lock
    )
    if agreement is None:
        raise NotFound(f"no compensation agreement with id {agreement_id}", field="agreement_id")
    return agreement


def readings(session: Session, agreement_id: int) -> Sequence[CompensationReading]:
    """Every reading of an agreement, superseded ones included, by period then entry."""
    return session.scalars(
        select(CompensationReading)
        .where(CompensationReading.agreement_id == agreement_id)
        .order_by(CompensationReading.period, CompensationReading.id)
    ).all()


def current_readings(session: Session, agreement_id: int) -> dict[str, CompensationReading]:
    """The reading in force per period (the newest entry of each)."""
    return {r.period: r for r in readings(session, agreement_id)}


def checked_period(agreement: CompensationAgreement, text: str) -> Period:
    """``text`` as a period of the agreement's term, or :class:`InvalidInput` on ``period``."""
    try:
        period = parse_period(text)
    except ValueError as exc:
        raise InvalidInput(str(exc), field="period") from None
    if not agreement.first_year <= period.year <= agreement.last_year:
        raise InvalidInput(
            f"the agreement runs {agreement.first_year}-{agreement.last_year}", field="period"
        )
    return period


def _settled_over(session: Session, agreement_id: int, period: Period) -> str | None:
    """The settled period that covers ``period`` (itself, or its year), if any."""
    names = {str(period), str(Period(period.year))}
    return session.scalar(
        select(CompensationSettlement.period).where(
            CompensationSettlement.agreement_id == agreement_id,
            CompensationSettlement.period.in_(names),
        )
    )


def enter_reading(session: Session, command: EnterReading) -> CompensationReading:
    """Record a reading; one for a period that has one supersedes it (never overwrites)."""
    agreement = get_agreement(session, command.agreement_id, lock=True)
    period = checked_period(agreement, command.period)
    if agreement.assessment == formula.MONTHLY and period.month is None:
        raise InvalidInput("a monthly agreement takes readings per month (YYYY-MM)", field="period")
    now: datetime = command.now or utcnow()
    if not period.closed(now):
        raise InvalidInput(f"the period {period} has not ended yet", field="period")
    if not formula.BEST_CLASS <= command.measured_class <= formula.WORST_CLASS:
        raise InvalidInput("class is 1-5 (I-V) or 6 (worse than V)", field="class")
    _check_indicators(command.concentrations, minimum=0, field="indicators")
    missing = sorted(set(agreement.indicators) - set(command.concentrations))
    if missing:  # other known indicators may be recorded too; the index uses the agreement's
        raise InvalidInput(f"{missing[0]} is missing", field=f"indicators.{missing[0]}")
    settled = _settled_over(session, agreement.id, period)
    if settled is not None:
        raise Conflict(
            f"the period {settled} is settled; its readings can no longer change",
            field="period",
            code="period_settled",
        )
    previous = current_readings(session, agreement.id).get(str(period))
    reading = CompensationReading(
        agreement_id=agreement.id,
        period=str(period),
        measured_class=command.measured_class,
        concentrations=dict(sorted(command.concentrations.items())),
        supersedes_id=previous.id if previous else None,
        entered_by=command.actor,
        entered_at=utcnow(),
    )
    session.add(reading)
    session.flush()
    return reading
