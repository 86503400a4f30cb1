"""Deposits back: once every period of an agreement's term is settled and no claim of it
is open, what is left of each side's deposit returns to that side's available cash.

Idempotent and safe under two schedulers: the deposit accounts are locked and only
their balance at that moment moves (a second release finds nothing). One journal of
kind ``compensation_refund`` per side, reference ``compensation:<id>/refund:<league>``.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

import ledger
from exchange.compensation.agreements import get_agreement
from exchange.compensation.periods import term_periods
from exchange.models import CompensationClaim, CompensationSettlement, utcnow


def term_settled(session: Session, agreement_id: int, now: datetime) -> bool:
    """Every period of the term has ended and is settled."""
    agreement = get_agreement(session, agreement_id)
    periods = term_periods(agreement.first_year, agreement.last_year, agreement.assessment)
    if not periods[-1].closed(now):
        return False
    settled = set(
        session.scalars(
            select(CompensationSettlement.period).where(
                CompensationSettlement.agreement_id == agreement_id
            )
        )
    )
    return all(str(p) in settled for p in periods)


def release_deposits(
    session: Session, agreement_id: int, *, actor: str, now: datetime | None = None
) -> dict[str, int]:
    """Return what is left of the deposits if the term is settled; league -> fen returned."""
    agreement = get_agreement(session, agreement_id, lock=True)
    if not agreement.deposit or not term_settled(session, agreement_id, now or utcnow()):
        return {}
    open_claim = session.scalar(
        select(CompensationClaim.id)
        .where(
            CompensationClaim.agreement_id == agreement_id,
            CompensationClaim.paid < CompensationClaim.amount,
        )
        .limit(1)
    )
    if open_claim is not None:
        return {}
    sides = (agreement.upstream, agreement.downstream)
    keys = {side: ledger.compensation_deposit_account(agreement.id, side) for side in sides}
    balances = ledger.lock_accounts(session, list(keys.values()))
    returned = {}
    for side, key in keys.items():
        if balances[key] > 0:
            ledger.post_journal(
                session,
                ledger.JournalSpec(
                    ledger.JournalKind.COMPENSATION_REFUND,
                    f"compensation:{agreement.id}/refund:{side}",
                    actor,
                    (
                        ledger.PostingSpec(key, -balances[key]),
                        ledger.PostingSpec(ledger.league_account(side, ledger.CASH), balances[key]),
                    ),
                    chain=ledger.compensation_chain(agreement.id),
                ),
            )
            returned[side] = balances[key]
    return returned
