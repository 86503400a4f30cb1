"""Settlement of a transfer: hold a year's water, deliver it against payment (DvP).

- :func:`secure`: hold the seller's volume of one year (``hold_id`` on the
  delivery), so it cannot be ordered or transferred away;
- :func:`delivery_spec`: the one journal of a year's delivery: the volume from
  the seller's hold to the buyer, the payment from the buyer's hold (what is
  left of it) and available cash to the seller, in the same journal or not at
  all;
- conveyance loss: between the seller's and the buyer's zones the buyer receives the
  volume less the link's loss per mille (:func:`conveyance_loss`), the rest goes to the
  market's conveyance-loss account in the same journal;
- :func:`deliver`: post it, record the trade (``source`` ``contract:<id>``) and
  the journal's hash on the delivery.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

import ledger
from exchange.models import (
    DeliveryStatus,
    MarketLeague,
    Trade,
    Transfer,
    TransferDelivery,
    TransferLimit,
)
from ledger import JournalSpec, PostingSpec

MECHANISM = "transfer"


def source(transfer: Transfer) -> str:
    """The ``trades.source`` and reference prefix of a transfer's contract."""
    return f"contract:{transfer.id}"


def reference(transfer: Transfer, year: int, what: str = "delivery") -> str:
    """The ledger reference of one year's hold or delivery."""
    return f"{source(transfer)}/{year}/{what}"


def secure(
    session: Session, transfer: Transfer, delivery: TransferDelivery, market_id: int, actor: str
) -> int:
    """Hold the seller's volume of ``delivery``'s year (raises ``ledger.InsufficientFunds``)."""
    hold_id = ledger.place_hold(
        session,
        league=transfer.seller,
        asset=ledger.market_asset(market_id),
        amount=delivery.quantity,
        reference=reference(transfer, delivery.year, "hold"),
        actor=actor,
    )
    delivery.market_id = market_id
    delivery.hold_id = hold_id
    delivery.status = DeliveryStatus.SECURED
    return hold_id


def conveyance_loss(session: Session, market_id: int, seller: str, buyer: str) -> int:
    """Per mille lost between the seller's zone and the buyer's in a market (0: same zone,
    or no loss registered on the link ``seller zone -> buyer zone``)."""
    zones = dict(
        session.execute(
            select(MarketLeague.league_code, MarketLeague.zone).where(
                MarketLeague.market_id == market_id, MarketLeague.league_code.in_((seller, buyer))
            )
        ).all()
    )
    source, target = zones.get(seller), zones.get(buyer)
    if source is None or target is None or source == target:
        return 0
    loss = session.scalar(
        select(TransferLimit.loss_permille).where(
            TransferLimit.market_id == market_id,
            TransferLimit.from_zone == source,
            TransferLimit.to_zone == target,
        )
    )
    return int(loss or 0)


def received(quantity: int, loss_permille: int) -> int:
    """What arrives of ``quantity`` sent over a link losing ``loss_permille`` (rounded down:
    the fraction of a unit is lost too, so nothing is created)."""
    return quantity * (1000 - loss_permille) // 1000


def delivery_spec(
    session: Session, transfer: Transfer, delivery: TransferDelivery, actor: str
) -> JournalSpec:
    """The DvP journal of one secured year (not yet posted)."""
    if delivery.market_id is None or delivery.hold_id is None:
        raise ledger.InvalidPosting(f"year {delivery.year} of {source(transfer)} is not secured")
    asset = ledger.market_asset(delivery.market_id)
    q, pay = delivery.quantity, delivery.payment
    arrives = received(
        q, conveyance_loss(session, delivery.market_id, transfer.seller, transfer.buyer)
    )
    legs = [
        PostingSpec(ledger.escrow_account(transfer.seller, asset), -q, delivery.hold_id),
        PostingSpec(ledger.league_account(transfer.buyer, asset), arrives),
    ]
    if q - arrives:
        legs.append(PostingSpec(ledger.conveyance_loss_account(asset), q - arrives))
    if pay:
        from_hold = 0
        if transfer.buyer_hold_id is not None:
            held = ledger.hold_owners(session, {transfer.buyer_hold_id})
            from_hold = min(pay, held[transfer.buyer_hold_id][2])
        if from_hold:
            legs.append(
                PostingSpec(
                    ledger.escrow_account(transfer.buyer, ledger.CASH),
                    -from_hold,
                    transfer.buyer_hold_id,
                )
            )
        if pay - from_hold:
            legs.append(
                PostingSpec(ledger.league_account(transfer.buyer, ledger.CASH), from_hold - pay)
            )
        legs.append(PostingSpec(ledger.league_account(transfer.seller, ledger.CASH), pay))
    return JournalSpec(
        ledger.JournalKind.TRADE_SETTLEMENT,
        reference(transfer, delivery.year),
        actor,
        tuple(legs),
        chain=asset,
    )


def deliver(
    session: Session, transfer: Transfer, delivery: TransferDelivery, actor: str, now: datetime
) -> int:
    """Post one year's delivery, record its trade; returns the journal id.

    Raises a ``ledger.LedgerError`` (the buyer cannot pay) and writes nothing then.
    """
    spec = delivery_spec(session, transfer, delivery, actor)
    journal_id = ledger.post_journal(session, spec)
    _total, views = ledger.list_journals(session, reference=spec.reference, limit=1)
    trade = Trade(
        market_id=delivery.market_id,
        mechanism=MECHANISM,
        buyer=transfer.buyer,
        seller=transfer.seller,
        quantity=delivery.quantity,
        price=transfer.price,
        amount=delivery.payment,
        source=source(transfer),
    )
    session.add(trade)
    session.flush()
    delivery.status = DeliveryStatus.DELIVERED
    loss = conveyance_loss(session, delivery.market_id or 0, transfer.seller, transfer.buyer)
    delivery.received = received(delivery.quantity, loss)
    delivery.journal_id = journal_id
    delivery.journal_hash = views[0].hash if views else None
    delivery.trade_id = trade.id
    delivery.delivered_at = now
    return journal_id


def release(session: Session, hold_id: int | None, *, actor: str, reference: str) -> None:
    """Give back whatever a hold still has (nothing if it is used up or absent)."""
    if hold_id is not None:
        ledger.release_hold(session, hold_id, actor=actor, reference=reference)
