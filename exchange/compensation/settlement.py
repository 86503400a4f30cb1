"""Settlements: once per agreement and period, posted in the ledger, with a breakdown.

Exactly once (also under two racing schedulers): :func:`settle` locks the
agreement row (``FOR UPDATE``; SQLite serialises writers with ``BEGIN
IMMEDIATE``), looks for the period's settlement and inserts its own under the
unique key (agreement, period), in the one transaction that posts the journal. A
writer that loses the race anyway hits the unique key; :func:`run_settlement`
then returns the settlement that won.

Paying: ``total`` > 0 means the downstream side pays the upstream side, < 0 the
reverse. The payer pays from its deposit in the agreement's escrow first, then
from its available cash; what is left is recorded as a claim (never a negative
balance). Amounts are fen.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from exchange.checkpointing import checkpoint_after_settlement
from exchange.compensation import formula
from exchange.compensation.agreements import checked_period, current_readings, get_agreement
from exchange.compensation.commands import Settle
from exchange.compensation.payments import pay
from exchange.compensation.periods import Period
from exchange.errors import Conflict, InvalidInput
from exchange.models import (
    CompensationAgreement,
    CompensationClaim,
    CompensationReading,
    CompensationSettlement,
    utcnow,
)
from exchange.uow import new_unit_of_work, savepoint


@dataclass(frozen=True)
class SettleOutcome:
    """A period's settlement and whether this call made it (False: it existed)."""

    settlement: CompensationSettlement
    created: bool


def find_settlement(
    session: Session, agreement_id: int, period: str
) -> CompensationSettlement | None:
    return session.scalar(
        select(CompensationSettlement).where(
            CompensationSettlement.agreement_id == agreement_id,
            CompensationSettlement.period == period,
        )
    )


def list_settlements(session: Session, agreement_id: int) -> Sequence[CompensationSettlement]:
    """An agreement's settlements, by period."""
    return session.scalars(
        select(CompensationSettlement)
        .where(CompensationSettlement.agreement_id == agreement_id)
        .order_by(CompensationSettlement.period)
    ).all()


def claims(session: Session, agreement_id: int) -> Sequence[CompensationClaim]:
    """An agreement's claims (what payers could not pay), oldest first."""
    return session.scalars(
        select(CompensationClaim)
        .where(CompensationClaim.agreement_id == agreement_id)
        .order_by(CompensationClaim.id)
    ).all()


def terms_of(agreement: CompensationAgreement) -> formula.Terms:
    return formula.Terms(
        target_class=agreement.target_class,
        amount_per_class=agreement.amount_per_class,
        amount_per_point=agreement.amount_per_point,
        index_cap=agreement.index_cap,
        baseline=dict(agreement.indicators),
        assessment=agreement.assessment,
    )


def _measurement(reading: CompensationReading, names: Iterable[str]) -> formula.Measurement:
    """A reading's class and the concentrations of the agreement's indicators."""
    return formula.Measurement(
        measured_class=Fraction(reading.measured_class),
        concentrations={k: Fraction(reading.concentrations[k]) for k in sorted(names)},
    )


def readings_for(
    session: Session, agreement: CompensationAgreement, period: Period
) -> list[CompensationReading]:
    """The readings a period settles on: its own, else (a year) all twelve months."""
    current = current_readings(session, agreement.id)
    own = current.get(str(period))
    if own is not None:
        return [own]
    if period.month is None:
        months = [current.get(str(m)) for m in period.months()]
        missing = [str(m) for m, r in zip(period.months(), months, strict=True) if r is None]
        if not missing:
            return [r for r in months if r is not None]
        raise Conflict(
            f"no reading for {period}, nor for the months {', '.join(missing)}",
            field="period",
            code="readings_missing",
        )
    raise Conflict(f"no reading for {period}", field="period", code="readings_missing")


def breakdown_for(
    terms: formula.Terms, used: Sequence[CompensationReading]
) -> tuple[formula.Breakdown, dict[str, Any]]:
    """The formula's result and the whole breakdown (inputs included) as stored."""
    measurements = [_measurement(r, terms.baseline) for r in used]
    measurement = measurements[0] if len(measurements) == 1 else formula.average(measurements)
    result = formula.compute(terms, measurement)
    data = result.to_dict()
    data.update(
        assessment=terms.assessment,
        readings=[r.id for r in used],
        periods=[r.period for r in used],
        classes=[r.measured_class for r in used],
        concentrations={
            k: f"{v.numerator}/{v.denominator}" for k, v in measurement.concentrations.items()
        },
        baseline=dict(sorted(terms.baseline.items())),
        limits={k: formula.CLASS_III_LIMITS[k] for k in sorted(terms.baseline)},
        amount_per_class=terms.amount_per_class,
        amount_per_point=terms.amount_per_point,
        index_cap=terms.index_cap,
    )
    return result, data


def settle(session: Session, command: Settle) -> SettleOutcome:
    """Settle one closed period once, in the caller's transaction (never commits)."""
    agreement = get_agreement(session, command.agreement_id, lock=True)
    period = checked_period(agreement, command.period)
    if period.assessment != agreement.assessment:
        shape = "YYYY-MM" if agreement.assessment == formula.MONTHLY else "YYYY"
        raise InvalidInput(
            f"a {agreement.assessment} agreement settles periods {shape}", field="period"
        )
    existing = find_settlement(session, agreement.id, str(period))
    if existing is not None:
        return SettleOutcome(existing, created=False)
    if not period.closed(command.now or utcnow()):
        raise InvalidInput(f"the period {period} has not ended yet", field="period")
    result, data = breakdown_for(terms_of(agreement), readings_for(session, agreement, period))
    settlement = CompensationSettlement(
        agreement_id=agreement.id,
        period=str(period),
        measured_class=result.measured_class,
        class_term=result.class_term,
        index_term=result.index_term,
        total=result.total,
        breakdown=data,
        trigger=command.trigger,
        settled_by=command.actor,
        settled_at=utcnow(),
        **_pay(session, agreement, str(period), result.total, command.actor),
    )
    session.add(settlement)
    session.flush()
    if settlement.claimed:
        session.add(
            CompensationClaim(
                settlement_id=settlement.id,
                agreement_id=agreement.id,
                debtor=settlement.payer,
                creditor=settlement.payee,
                amount=settlement.claimed,
                paid=0,
                created_at=utcnow(),
            )
        )
        session.flush()
    return SettleOutcome(settlement, created=True)


def _pay(
    session: Session, agreement: CompensationAgreement, period: str, total: int, actor: str
) -> dict[str, Any]:
    """Post the payment (deposit first, then cash); the settlement's payment columns."""
    if total == 0:
        return dict(payer=None, payee=None, from_deposit=0, from_cash=0, claimed=0, journal_id=None)
    payer, payee = (
        (agreement.downstream, agreement.upstream)
        if total > 0
        else (agreement.upstream, agreement.downstream)
    )
    done = pay(
        session,
        agreement,
        payer=payer,
        payee=payee,
        amount=abs(total),
        reference=f"compensation:{agreement.id}/period:{period}",
        actor=actor,
    )
    return dict(
        payer=payer,
        payee=payee,
        from_deposit=done.from_deposit,
        from_cash=done.from_cash,
        claimed=abs(total) - done.paid,
        journal_id=done.journal_id,
    )


def settle_once(session: Session, command: Settle) -> SettleOutcome:
    """:func:`settle` in the caller's unit of work; a race lost on the unique key (possible
    on PostgreSQL only if the row lock were bypassed) returns the winner's settlement."""
    try:
        with savepoint(session):
            return settle(session, command)
    except IntegrityError:
        existing = find_settlement(session, command.agreement_id, command.period)
        if existing is None:
            raise
        return SettleOutcome(existing, created=False)


def after_commit(factory: sessionmaker[Session], outcome: SettleOutcome) -> None:
    """Once the settlement committed: sign a checkpoint of the ledger if it moved cash."""
    if outcome.created and outcome.settlement.journal_id is not None:
        checkpoint_after_settlement(factory, f"compensation:{outcome.settlement.agreement_id}")


def run_settlement(factory: sessionmaker[Session], command: Settle) -> SettleOutcome:
    """:func:`settle` in a unit of work of its own; a lost race returns the winner's.

    A new settlement that moved cash is followed by a signed checkpoint of the ledger.
    """
    try:
        with new_unit_of_work(factory) as session:
            outcome = settle(session, command)
        after_commit(factory, outcome)
        return outcome
    except IntegrityError:
        session = factory()
        try:
            existing = find_settlement(session, command.agreement_id, command.period)
            if existing is None:
                raise
            return SettleOutcome(existing, created=False)
        finally:
            session.close()
