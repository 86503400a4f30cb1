"""Paid use of discharge rights (有偿使用): issuance creates the bill, leagues pay it.

Inner Mongolia's fees per tonne and year: COD 1,000 yuan, NH3-N 3,000, SO2 500,
NOx 500; rights are issued for five years, so the bill is quantity x fee x 5
(markets in kg: a thousandth of it, rounded up to the fen). A bill of 10 million
yuan or more may be paid in instalments: at least 40 % first, the rest before the
rights expire; a smaller bill is paid at once.

In the ledger the bill is a cash claim (``fee_bill``: from the claims' issuance
account to the league's fee account); a payment moves the cash to the
regulator's fee income and settles that much of the claim in the same journal
(``fee_payment``). The issuance and its bill are one step of the caller's unit of work.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

import ledger
from exchange.errors import Conflict, InvalidInput, NotFound
from exchange.models import Market, PaidUseBill, PaidUsePayment, Pollutant, RightType
from exchange.services import ledger_ops
from exchange.services.commands import Allocation

FEES_PER_T_YEAR: dict[Pollutant, int] = {  # fen
    Pollutant.COD: 100_000,
    Pollutant.NH3N: 300_000,
    Pollutant.SO2: 50_000,
    Pollutant.NOX: 50_000,
}
YEARS = 5
INSTALMENTS_FROM = 1_000_000_000  # fen: 10 million yuan
FIRST_INSTALMENT_PERCENT = 40


@dataclass(frozen=True)
class IssuePaid:
    league: str
    market: str
    quantity: int
    actor: str
    today: date
    reference: str | None = None


@dataclass(frozen=True)
class PayBill:
    bill_id: int
    league: str
    amount: int
    client_ref: str
    actor: str
    today: date


def bill_amount(quantity: int, unit: str, fee_per_t_year: int, years: int = YEARS) -> int:
    """The fee of ``quantity`` units for ``years`` (fen; kg rounded up to the fen)."""
    total = quantity * fee_per_t_year * years
    return -(-total // 1000) if unit == "kg" else total


def _expiry(issued: date, years: int) -> date:
    try:
        return issued.replace(year=issued.year + years)
    except ValueError:  # 29 February
        return issued.replace(year=issued.year + years, day=28)


def minimum_first(amount: int) -> int:
    return -(-amount * FIRST_INSTALMENT_PERCENT // 100)


def _bill(
    session: Session, result: dict[str, Any], market: Market, command: IssuePaid
) -> PaidUseBill:
    assert market.pollutant is not None
    fee = FEES_PER_T_YEAR[market.pollutant]
    amount = bill_amount(result["quantity"], market.unit, fee)
    claim = ledger.post_journal(
        session,
        ledger.JournalSpec(
            ledger.JournalKind.FEE_BILL,
            f"paid-use:{market.code}:{command.league}:{result['journal_id']}",
            command.actor,
            (
                ledger.PostingSpec(ledger.issuance_account(ledger.CLAIMS), -amount),
                ledger.PostingSpec(ledger.fee_account(command.league), amount),
            ),
        ),
    )
    bill = PaidUseBill(
        league_code=command.league,
        market_id=market.id,
        quantity=result["quantity"],
        years=YEARS,
        fee_per_t_year=fee,
        amount=amount,
        instalments=amount >= INSTALMENTS_FROM,
        allocation_journal_id=result["journal_id"],
        claim_journal_id=claim,
        issued_on=command.today,
        expires_on=_expiry(command.today, YEARS),
        paid=0,
    )
    session.add(bill)
    session.flush()
    return bill


def issue_paid(session: Session, command: IssuePaid) -> dict[str, Any]:
    """Issue discharge rights to a league and bill their paid-use fee, in one transaction."""
    market = session.scalar(select(Market).where(Market.code == command.market))
    if market is None:
        raise InvalidInput(f"unknown market {command.market!r}", field="market")
    if market.right_type is not RightType.POLLUTANT or market.pollutant not in FEES_PER_T_YEAR:
        raise InvalidInput("paid use applies to discharge rights only", field="market")
    allocation = Allocation(command.league, command.market, command.quantity, command.reference)
    result = ledger_ops.allocate(session, allocation, actor=command.actor)
    bill = _bill(session, result, market, command)
    return {"allocation": result, "bill": bill_json(bill, command.today)}


def bill_json(bill: PaidUseBill, today: date | None = None) -> dict[str, Any]:
    day = today or datetime.now(UTC).date()
    remaining = bill.amount - bill.paid
    status = (
        "paid" if remaining == 0
        else "overdue" if day > bill.expires_on
        else "partially_paid" if bill.paid
        else "unpaid"
    )  # fmt: skip
    return {
        "id": bill.id,
        "league": bill.league_code,
        "market_id": bill.market_id,
        "quantity": bill.quantity,
        "years": bill.years,
        "fee_per_t_year": bill.fee_per_t_year,
        "amount": bill.amount,
        "paid": bill.paid,
        "remaining": remaining,
        "instalments": bill.instalments,
        "minimum_first": minimum_first(bill.amount) if bill.instalments else bill.amount,
        "issued_on": bill.issued_on.isoformat(),
        "expires_on": bill.expires_on.isoformat(),
        "status": status,
    }


def get_bill(session: Session, bill_id: int, *, lock: bool = False) -> PaidUseBill:
    bill = session.get(PaidUseBill, bill_id, with_for_update=lock or None, populate_existing=lock)
    if bill is None:
        raise NotFound(f"no bill {bill_id}", code="bill_not_found")
    return bill


def list_bills(session: Session, league: str | None = None) -> list[PaidUseBill]:
    query = select(PaidUseBill).order_by(PaidUseBill.id)
    if league is not None:
        query = query.where(PaidUseBill.league_code == league)
    return list(session.scalars(query))


def _check_amount(bill: PaidUseBill, amount: int) -> None:
    remaining = bill.amount - bill.paid
    if remaining == 0:
        raise Conflict("the bill is paid", code="bill_paid")
    if amount > remaining:
        raise Conflict(f"only {remaining} fen remain", code="overpayment", field="amount")
    if not bill.instalments and amount != remaining:
        raise InvalidInput("a bill under 10 million yuan is paid at once, in full", field="amount")
    first = minimum_first(bill.amount)
    if bill.instalments and bill.paid == 0 and amount < first:
        raise InvalidInput(
            f"the first instalment is at least 40 % of the bill ({first} fen)", field="amount"
        )


def pay(session: Session, command: PayBill) -> tuple[PaidUsePayment, bool]:
    """The league pays (part of) its bill; a retry with the same client_ref answers again."""
    bill = get_bill(session, command.bill_id, lock=True)
    if bill.league_code != command.league:
        raise NotFound(f"no bill {command.bill_id}", code="bill_not_found")
    existing = session.scalar(
        select(PaidUsePayment).where(
            PaidUsePayment.bill_id == bill.id, PaidUsePayment.client_ref == command.client_ref
        )
    )
    if existing is not None:
        if existing.amount != command.amount:
            raise Conflict("client_ref was used for another payment", code="client_ref_reused")
        return existing, False
    _check_amount(bill, command.amount)
    try:
        journal_id = ledger.post_journal(
            session,
            ledger.JournalSpec(
                ledger.JournalKind.FEE_PAYMENT,
                f"paid-use:bill:{bill.id}:{command.client_ref}",
                command.actor,
                (
                    ledger.PostingSpec(
                        ledger.league_account(bill.league_code, ledger.CASH), -command.amount
                    ),
                    ledger.PostingSpec(ledger.fee_income_account(), command.amount),
                    ledger.PostingSpec(ledger.fee_account(bill.league_code), -command.amount),
                    ledger.PostingSpec(ledger.issuance_account(ledger.CLAIMS), command.amount),
                ),
            ),
        )
    except ledger.LedgerError as err:
        raise ledger_ops.ledger_error(err) from None
    bill.paid += command.amount
    payment = PaidUsePayment(
        bill_id=bill.id,
        amount=command.amount,
        client_ref=command.client_ref,
        journal_id=journal_id,
        paid_on=command.today,
    )
    session.add(payment)
    session.flush()
    return payment, True
