"""Negotiated term transfers: the use cases of negotiation and four-eyes approval.

A league proposes to a named counterparty (:func:`propose`, idempotent per
party and ``client_ref``); the counterparty accepts (:func:`accept`: the buyer's
first payment and the seller's volume of every year already allocated are held)
or rejects; the proposer may withdraw before acceptance. A regulator reviews and
a different regulator approves (:mod:`exchange.approvals`); approval makes the
transfer active and delivers every year already due. Yearly delivery, the
allocation hook and defaults are in :mod:`exchange.services.transfer_delivery`.

Services take a session, a typed command and the acting :class:`Actor`; they
never commit.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

import ledger
from exchange import approvals
from exchange.errors import Conflict, Forbidden, InvalidInput, NotFound, insufficient_funds
from exchange.identity.actor import Actor
from exchange.mechanisms.transfer import delivery as settle
from exchange.models import (
    DeliveryStatus,
    League,
    MarketLeague,
    Payment,
    RightType,
    Role,
    Transfer,
    TransferDelivery,
    TransferStatus,
)
from exchange.models.base import utcnow
from exchange.services import enterprises, families, participants, transfer_delivery
from exchange.services.transfer_views import visible_transfer

MIN_YEAR, MAX_YEAR = 2000, 2100
MAX_TERM_YEARS = 30
MAX_REASON = 500


@dataclass(frozen=True)
class ProposeTransfer:
    """Propose a transfer of ``quantity_per_year`` for ``first_year``..``last_year``."""

    market_family: str
    seller: str
    buyer: str
    quantity_per_year: int
    first_year: int
    last_year: int
    price: int
    payment: Payment
    client_ref: str


@dataclass(frozen=True)
class TransferAction:
    """Accept, reject, withdraw, review or approve one transfer (``reason``: to reject)."""

    transfer_id: int
    reason: str | None = None


def subject(transfer: Transfer) -> str:
    """The approval subject of a transfer (:mod:`exchange.approvals`)."""
    return f"transfer:{transfer.id}"


# --------------------------------------------------------------------------- propose


def propose(session: Session, command: ProposeTransfer, actor: Actor) -> tuple[Transfer, bool]:
    """Record a proposal; ``(transfer, created)``. A repeated ``client_ref`` returns the first."""
    party = _proposing_party(session, command, actor)
    existing = _by_client_ref(session, party, command.client_ref)
    if existing is not None:
        return existing, False
    _check_terms(session, command)
    for code in (command.seller, command.buyer):
        enterprises.require_state(session, code, enterprises.TRADE)
    transfer = Transfer(
        market_family=command.market_family,
        seller=command.seller,
        buyer=command.buyer,
        proposer=party,
        quantity_per_year=command.quantity_per_year,
        first_year=command.first_year,
        last_year=command.last_year,
        price=command.price,
        payment=command.payment,
        client_ref=command.client_ref,
        status=TransferStatus.PROPOSED,
        created_by=actor.username,
        created_at=utcnow(),
        updated_at=utcnow(),
    )
    yearly = command.quantity_per_year * command.price
    total = yearly * (command.last_year - command.first_year + 1)
    for year in range(command.first_year, command.last_year + 1):
        if command.payment is Payment.UPFRONT:
            payment = total if year == command.first_year else 0
        else:
            payment = yearly
        transfer.deliveries.append(
            TransferDelivery(year=year, quantity=command.quantity_per_year, payment=payment)
        )
    try:
        with session.begin_nested():
            session.add(transfer)
            session.flush()
    except IntegrityError:  # the same client_ref, entered concurrently
        again = _by_client_ref(session, party, command.client_ref)
        if again is None:
            raise
        return again, False
    return transfer, True


def check_proposer(session: Session, command: ProposeTransfer, actor: Actor) -> str:
    """The party ``actor`` proposes for, with the terms checked (nothing recorded)."""
    party = _proposing_party(session, command, actor)
    _check_terms(session, command)
    return party


def _proposing_party(session: Session, command: ProposeTransfer, actor: Actor) -> str:
    """The party the actor proposes for: its league, or the reserve for a regulator."""
    if actor.role not in (Role.LEAGUE, Role.REGULATOR, Role.REPRESENTATIVE):
        raise Forbidden("a party proposes a transfer, as its seller or buyer")
    mine = participants.parties_of(session, actor, [command.seller, command.buyer])
    if not mine:
        raise Forbidden(
            "a transfer is proposed by its seller or buyer (the regulator for the reserve)",
            field="seller",
        )
    return mine[0]


def _by_client_ref(session: Session, party: str, client_ref: str) -> Transfer | None:
    return session.scalar(
        select(Transfer).where(Transfer.proposer == party, Transfer.client_ref == client_ref)
    )


def _check_terms(session: Session, command: ProposeTransfer) -> None:
    """The proposal's terms, field by field (422 naming the field)."""
    family = families.check_family(command.market_family)
    if not family.startswith(f"{RightType.WATER.value}:"):
        raise InvalidInput("transfers are of water: name a water family", field="market_family")
    markets = families.family_markets(session, family)
    if not markets:
        raise InvalidInput(f"no market of family {family!r} exists", field="market_family")
    for field in ("seller", "buyer"):
        if session.get(League, getattr(command, field)) is None:
            raise InvalidInput(f"unknown league {getattr(command, field)!r}", field=field)
    if command.seller == command.buyer:
        raise InvalidInput("seller and buyer must differ", field="buyer")
    for field in ("first_year", "last_year"):
        if not MIN_YEAR <= getattr(command, field) <= MAX_YEAR:
            raise InvalidInput(f"{field}: a year in {MIN_YEAR}..{MAX_YEAR}", field=field)
    term = command.last_year - command.first_year + 1
    if not 1 <= term <= MAX_TERM_YEARS:
        raise InvalidInput(
            f"the term is 1-{MAX_TERM_YEARS} years from first_year", field="last_year"
        )
    lot = markets[-1].lot
    if command.quantity_per_year <= 0 or command.quantity_per_year % lot:
        raise InvalidInput(
            f"quantity_per_year: a positive multiple of the lot {lot}", field="quantity_per_year"
        )
    if command.price < 0 or command.quantity_per_year * command.price * term > ledger.MAX_AMOUNT:
        raise InvalidInput("price: fen per unit per year, 0 or more, in range", field="price")
    for market in markets:
        if (
            market.vintage.isdigit()
            and command.first_year <= int(market.vintage) <= command.last_year
        ):
            _check_eligible(session, market.id, market.code, command)


def _check_eligible(session: Session, market_id: int, code: str, command: ProposeTransfer) -> None:
    eligible = set(
        session.scalars(select(MarketLeague.league_code).where(MarketLeague.market_id == market_id))
    )
    for field in ("seller", "buyer"):
        if getattr(command, field) not in eligible:
            raise InvalidInput(f"{getattr(command, field)} may not trade in {code}", field=field)


# --------------------------------------------------------------------------- negotiation


def _locked(session: Session, transfer_id: int, actor: Actor) -> Transfer:
    """The transfer, row-locked and fresh, if ``actor`` may see it (else 404)."""
    transfer = session.scalar(
        select(Transfer)
        .where(Transfer.id == transfer_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    if transfer is None or not visible_transfer(actor, transfer):
        raise NotFound(f"no transfer {transfer_id}")
    return transfer


def _expect(transfer: Transfer, *statuses: TransferStatus, doing: str) -> None:
    if transfer.status not in statuses:
        raise Conflict(
            f"transfer {transfer.id} is {transfer.status.value}; it cannot be {doing}",
            code="transfer_status",
            details={"status": transfer.status.value},
        )


def _touch(transfer: Transfer, status: TransferStatus) -> None:
    transfer.status = status
    transfer.updated_at = utcnow()


def accept(session: Session, command: TransferAction, actor: Actor) -> Transfer:
    """The counterparty accepts: hold the buyer's first payment and every allocated year."""
    transfer = _locked(session, command.transfer_id, actor)
    if not participants.acts_for(session, actor, transfer.counterparty):
        raise Forbidden("only the counterparty (not the proposer) accepts a transfer")
    _expect(transfer, TransferStatus.PROPOSED, doing="accepted")
    for code in (transfer.seller, transfer.buyer):
        enterprises.require_state(session, code, enterprises.TRADE)
    first = transfer.deliveries[0].payment if transfer.deliveries else 0
    try:
        if first:
            transfer.buyer_hold_id = ledger.place_hold(
                session,
                league=transfer.buyer,
                asset=ledger.CASH,
                amount=first,
                reference=settle.reference(transfer, transfer.first_year, "payment"),
                actor=actor.username,
            )
    except ledger.InsufficientFunds as err:
        raise insufficient_funds(err, f"the buyer cannot hold the first payment: {err}") from None
    for row in transfer.deliveries:
        market = families.vintage_market(session, transfer.market_family, row.year)
        if market is None:
            continue
        participants.check_region_total(
            session, market, transfer.seller, transfer.buyer, row.quantity
        )
        if not transfer_delivery.allocated(session, transfer.seller, market.id):
            continue
        try:
            settle.secure(session, transfer, row, market.id, actor.username)
        except ledger.InsufficientFunds as err:
            raise insufficient_funds(
                err,
                f"the seller cannot hold {row.quantity} of {row.year}: {err}",
                field="quantity_per_year",
            ) from None
    transfer.accepted_by = actor.username
    transfer.accepted_at = utcnow()
    _touch(transfer, TransferStatus.ACCEPTED)
    return transfer


def withdraw(session: Session, command: TransferAction, actor: Actor) -> Transfer:
    """The proposer takes a proposal back before it is accepted."""
    transfer = _locked(session, command.transfer_id, actor)
    if not participants.acts_for(session, actor, transfer.proposer):
        raise Forbidden("only the proposer withdraws a transfer")
    _expect(transfer, TransferStatus.PROPOSED, doing="withdrawn")
    _close(transfer, TransferStatus.WITHDRAWN, actor, _reason(command.reason, required=False))
    return transfer


def reject(session: Session, command: TransferAction, actor: Actor) -> Transfer:
    """The counterparty refuses a proposal, or a regulator refuses an accepted transfer."""
    transfer = _locked(session, command.transfer_id, actor)
    if transfer.status is TransferStatus.PROPOSED:
        if not participants.acts_for(session, actor, transfer.counterparty):
            raise Forbidden("the counterparty rejects a proposal (the proposer withdraws it)")
        _close(transfer, TransferStatus.REJECTED, actor, _reason(command.reason, required=False))
        return transfer
    if actor.role is not Role.REGULATOR:
        raise Forbidden("after acceptance only a regulator rejects a transfer")
    _expect(transfer, TransferStatus.ACCEPTED, TransferStatus.REVIEWED, doing="rejected")
    reason = _reason(command.reason, required=True)
    approvals.reject(session, subject(transfer), actor, reason or "")
    transfer_delivery.release_all(session, transfer, actor.username)
    _close(transfer, TransferStatus.REJECTED, actor, reason)
    return transfer


def review(session: Session, command: TransferAction, actor: Actor) -> Transfer:
    """The first regulator's review of an accepted transfer."""
    if actor.role is not Role.REGULATOR:
        raise Forbidden("a regulator reviews transfers")
    transfer = _locked(session, command.transfer_id, actor)
    _expect(transfer, TransferStatus.ACCEPTED, doing="reviewed")
    approvals.review(session, subject(transfer), actor)
    _touch(transfer, TransferStatus.REVIEWED)
    return transfer


def approve(session: Session, command: TransferAction, actor: Actor) -> Transfer:
    """A second, different regulator approves: the transfer is active and due years deliver."""
    if actor.role is not Role.REGULATOR:
        raise Forbidden("a regulator approves transfers")
    transfer = _locked(session, command.transfer_id, actor)
    _expect(transfer, TransferStatus.REVIEWED, doing="approved")
    step = approvals.approve(session, subject(transfer), actor)
    transfer.approved_at = step.created_at
    _touch(transfer, TransferStatus.ACTIVE)
    transfer_delivery.settle_due(session, transfer, step.created_at, actor.username)
    return transfer


def _reason(reason: str | None, *, required: bool) -> str | None:
    text = (reason or "").strip()
    if required and not text:
        raise InvalidInput("give the reason for the rejection", field="reason")
    if len(text) > MAX_REASON:
        raise InvalidInput(f"reason: at most {MAX_REASON} characters", field="reason")
    return text or None


def _close(transfer: Transfer, status: TransferStatus, actor: Actor, reason: str | None) -> None:
    for row in transfer.deliveries:
        if row.status in (DeliveryStatus.PENDING, DeliveryStatus.SECURED):
            row.status = DeliveryStatus.CANCELLED
    transfer.closed_at = utcnow()
    transfer.closed_by = actor.username
    transfer.reason = reason
    _touch(transfer, status)
