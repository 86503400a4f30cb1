"""Paying what a compensation agreement owes: the payer's deposit first, then its cash.

Never more than the payer has: the accounts are locked (``FOR UPDATE``) and the
payment is what the deposit and the available cash cover; the rest is left to the
caller (a claim). One cash journal on the agreement's chain, or none.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

import ledger
from exchange.models import CompensationAgreement


@dataclass(frozen=True)
class Payment:
    from_deposit: int
    from_cash: int
    journal_id: int | None

    @property
    def paid(self) -> int:
        return self.from_deposit + self.from_cash


def pay(
    session: Session,
    agreement: CompensationAgreement,
    *,
    payer: str,
    payee: str,
    amount: int,
    reference: str,
    actor: str,
) -> Payment:
    """Pay up to ``amount`` fen from ``payer`` to ``payee`` (deposit first, then cash)."""
    deposit_key = ledger.compensation_deposit_account(agreement.id, payer)
    cash_key = ledger.league_account(payer, ledger.CASH)
    keys = [cash_key, deposit_key] if agreement.deposit else [cash_key]
    balances = ledger.lock_accounts(session, keys)
    from_deposit = min(max(balances.get(deposit_key, 0), 0), amount)
    from_cash = min(max(balances[cash_key], 0), amount - from_deposit)
    postings = [
        ledger.PostingSpec(key, -part)
        for key, part in ((deposit_key, from_deposit), (cash_key, from_cash))
        if part
    ]
    if not postings:
        return Payment(0, 0, None)
    postings.append(
        ledger.PostingSpec(ledger.league_account(payee, ledger.CASH), from_deposit + from_cash)
    )
    journal_id = ledger.post_journal(
        session,
        ledger.JournalSpec(
            ledger.JournalKind.COMPENSATION,
            reference,
            actor,
            tuple(postings),
            chain=ledger.compensation_chain(agreement.id),
        ),
    )
    return Payment(from_deposit, from_cash, journal_id)
