"""Claims: what a payer could not pay at settlement, collected once it has the cash.

:func:`collect_claims` pays each open claim, oldest first, as far as the debtor's
deposit and available cash allow (never a negative balance), one journal per
payment (reference ``compensation:<agreement>/claim:<id>/<paid so far>``, unique),
and raises the claim's ``paid``. The claim row is locked first, so two collectors
never pay the same part twice.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from exchange.compensation.agreements import get_agreement
from exchange.compensation.payments import pay
from exchange.models import CompensationClaim


@dataclass(frozen=True)
class Collected:
    claim_id: int
    amount: int
    journal_id: int


def collect_claims(
    session: Session, *, actor: str, agreement_id: int | None = None
) -> list[Collected]:
    """Pay what can be paid of the open claims (of one agreement, or all); what was paid."""
    query = select(CompensationClaim.id).where(CompensationClaim.paid < CompensationClaim.amount)
    if agreement_id is not None:
        query = query.where(CompensationClaim.agreement_id == agreement_id)
    collected = []
    for claim_id in session.scalars(query.order_by(CompensationClaim.id)).all():
        claim = session.get(
            CompensationClaim, claim_id, with_for_update=True, populate_existing=True
        )
        if claim is None or claim.outstanding <= 0:
            continue
        agreement = get_agreement(session, claim.agreement_id)
        done = pay(
            session,
            agreement,
            payer=claim.debtor,
            payee=claim.creditor,
            amount=claim.outstanding,
            reference=f"compensation:{agreement.id}/claim:{claim.id}/{claim.paid}",
            actor=actor,
        )
        if done.journal_id is None:
            continue
        claim.paid += done.paid
        session.flush()
        collected.append(Collected(claim.id, done.paid, done.journal_id))
    return collected
