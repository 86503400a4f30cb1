"""Settlement of continuous trades: per trade, delivery versus payment, with the order.

Each execution becomes two fills against the exchange's clearing house (the policy of
:mod:`exchange.mechanisms.call_auction.settlement`): the seller's fill moves the units
from the sell order's hold and pays ``price * quantity``; the buyer's fill draws
``limit * quantity`` from the buy order's cash hold, pays ``price * quantity`` and
refunds the rest. Both journals net the clearing account to zero and are posted in the
order's unit of work, so no trade is visible without its journals.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy.orm import Session

import ledger
from exchange.mechanisms.call_auction.settlement import Fill, settlement_specs
from exchange.models import Market
from exchange.models.base import utcnow
from exchange.models.continuous import ContinuousTrade
from exchange.models.trading import Order, OrderStatus, Trade
from matching.continuous import SubmitResult

MECHANISM = "continuous"
CLEARING_HOUSE = ledger.EXCHANGE


def settle_trades(
    session: Session,
    market: Market,
    order: Order,
    makers: dict[int, Order],
    result: SubmitResult,
    *,
    seq: int,
    day: date,
    actor: str,
) -> None:
    """Record and settle the trades of ``result`` (``order`` is the aggressor)."""
    if not result.trades:
        return
    by_id = {str(o.id): o for o in makers.values()}
    by_id[str(order.id)] = order
    fills: list[Fill] = []
    now = utcnow()
    for number, trade in enumerate(result.trades, start=1):
        buy, sell = by_id[trade.buy_id], by_id[trade.sell_id]
        ref = f"listed:{seq}.{number}"
        record_trade(
            session,
            market,
            buy,
            sell,
            trade.price,
            trade.quantity,
            kind="listed",
            seq=seq,
            number=number,
            day=day,
            aggressor=trade.aggressor.value,
            source=ref,
        )
        for o in (buy, sell):
            o.filled_quantity += trade.quantity
            o.filled_amount += trade.quantity * trade.price
            o.status = (
                OrderStatus.FILLED
                if o.filled_quantity == o.quantity
                else OrderStatus.PARTIALLY_FILLED
            )
            o.updated_at = now
        fills += fills_of(buy, sell, trade.price, trade.quantity, ref)
    post(session, market.id, fills, reference=f"market:{market.id}/listed:{seq}", actor=actor)


def fills_of(buy: Order, sell: Order, price: int, quantity: int, ref: str) -> list[Fill]:
    """The two fills of one trade, drawn from the orders' holds."""
    if buy.hold_id is None or sell.hold_id is None:
        raise ValueError(f"{ref}: an order without a hold cannot settle")
    return [
        Fill(sell.hold_id, quantity, price, f"{ref}/order:{sell.id}"),
        Fill(buy.hold_id, quantity, price, f"{ref}/order:{buy.id}", limit=buy.limit_price),
    ]


def post(
    session: Session, market_id: int, fills: list[Fill], *, reference: str, actor: str
) -> None:
    """Build the journals of ``fills`` and let the ledger post them."""
    asset = ledger.market_asset(market_id)
    specs, _totals = settlement_specs(
        session, asset=asset, fills=fills, reference=reference, actor=actor
    )
    ledger.post_journals(session, specs)


def record_trade(
    session: Session,
    market: Market,
    buy: Order | None,
    sell: Order | None,
    price: int,
    quantity: int,
    *,
    kind: str,
    seq: int,
    number: int,
    day: date,
    aggressor: str | None,
    source: str,
    buyer: str | None = None,
    seller: str | None = None,
) -> ContinuousTrade:
    """One execution in ``continuous_trades`` and its two fills in ``trades``."""
    buyer = buyer or (buy.league_code if buy is not None else "")
    seller = seller or (sell.league_code if sell is not None else "")
    row = ContinuousTrade(
        market_id=market.id,
        kind=kind,
        seq=seq,
        number=number,
        day=day,
        buy_order_id=None if buy is None else buy.id,
        sell_order_id=None if sell is None else sell.id,
        buyer=buyer,
        seller=seller,
        aggressor=aggressor,
        price=price,
        quantity=quantity,
        traded_at=utcnow(),
    )
    session.add(row)
    amount = price * quantity
    common = {
        "market_id": market.id,
        "mechanism": MECHANISM,
        "quantity": quantity,
        "price": price,
        "amount": amount,
        "source": source[:64],
    }
    session.add(Trade(buyer=buyer, seller=CLEARING_HOUSE, order=buy, **common))
    session.add(Trade(buyer=CLEARING_HOUSE, seller=seller, order=sell, **common))
    return row
