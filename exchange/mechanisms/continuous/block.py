"""Block trades (大宗协议): negotiated between two named leagues, confirmed by both.

One league proposes (its side, the counterparty, quantity, price); the counterparty
confirms, or either withdraws. Rules: at least :data:`rules.BLOCK_MINIMUM` units, on the
lot and tick, within +-30 % of the previous close, both leagues eligible, in a session,
T+1 for the seller. Confirmation settles at once, in the confirming request's unit of
work: both sides are held and settled delivery versus payment through the clearing house
(as listed trades), recorded as a ``block`` trade: reported apart from listed trades and
not part of the close. The market row is locked first, like order entry.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

import ledger
from exchange.errors import Conflict, Forbidden, InvalidInput, NotFound, insufficient_funds
from exchange.mechanisms.call_auction.settlement import Fill
from exchange.mechanisms.continuous import rules, sessions
from exchange.mechanisms.continuous.market_data import continuous_market
from exchange.mechanisms.continuous.settle import post, record_trade
from exchange.models import Market, MarketLeague, MarketStatus
from exchange.models.base import utcnow
from exchange.models.continuous import BlockTrade
from exchange.uow import savepoint

PROPOSED, CONFIRMED, CANCELLED = "proposed", "confirmed", "cancelled"
MAX_VALUE = 2**62
"""The largest cash amount of one block trade (fen), as for one order's hold."""


@dataclass(frozen=True)
class ProposeBlock:
    """A league proposes a block trade to ``counterparty``: it ``side``s ``quantity`` units."""

    market_id: int
    side: Literal["buy", "sell"]
    counterparty: str
    quantity: int
    price: int
    client_id: str


def propose(
    session: Session, command: ProposeBlock, *, league: str, actor: str
) -> tuple[BlockTrade, bool]:
    """Record a proposal after checking its terms; the same ``client_id`` returns the first
    (and ``False``: not created by this call)."""
    existing = _by_client_id(session, league, command.client_id)
    if existing is not None:
        return existing, False
    market = continuous_market(session, command.market_id)
    if market.status is not MarketStatus.OPEN:
        raise Conflict(f"market {market.code} is {market.status.value}", field="market_id",
                       code="market_not_open")  # fmt: skip
    if command.counterparty == league:
        raise InvalidInput("a block trade needs two different leagues", field="counterparty")
    _check_terms(session, market, command.quantity, command.price, [league, command.counterparty])
    buyer, seller = ((league, command.counterparty) if command.side == "buy"
                     else (command.counterparty, league))  # fmt: skip
    row = BlockTrade(
        market_id=market.id, buyer=buyer, seller=seller, proposer=league,
        client_id=command.client_id, quantity=command.quantity, price=command.price,
        status=PROPOSED, created_by=actor, created_at=utcnow(),
    )  # fmt: skip
    try:
        with savepoint(session):
            session.add(row)
            session.flush()
    except IntegrityError:
        found = _by_client_id(session, league, command.client_id)
        if found is None:
            raise
        return found, False
    return row, True


def _by_client_id(session: Session, league: str, client_id: str) -> BlockTrade | None:
    return session.scalar(
        select(BlockTrade).where(BlockTrade.proposer == league, BlockTrade.client_id == client_id)
    )


def _check_terms(
    session: Session, market: Market, quantity: int, price: int, leagues: list[str]
) -> None:
    if quantity < rules.BLOCK_MINIMUM or quantity % market.lot:
        raise InvalidInput(
            f"quantity {quantity}: a block trade is at least {rules.BLOCK_MINIMUM} "
            f"{market.unit}, in lots of {market.lot}",
            field="quantity",
        )
    if price <= 0 or price % market.tick:
        raise InvalidInput(f"price {price} is not a positive multiple of the tick "
                           f"{market.tick} fen", field="price")  # fmt: skip
    if quantity * price > MAX_VALUE:
        raise InvalidInput(f"price x quantity = {quantity * price} fen is more than one trade "
                           "may move", field="quantity")  # fmt: skip
    day = sessions.trading_day(utcnow())
    band = rules.band_of(market, rules.previous_close(session, market, day),
                         rules.BLOCK_BAND_PERCENT)  # fmt: skip
    rules.check_band(band, price, field="price")
    eligible = set(
        session.scalars(select(MarketLeague.league_code).where(
            MarketLeague.market_id == market.id, MarketLeague.league_code.in_(leagues)))
    )  # fmt: skip
    for code in leagues:
        if code not in eligible:
            raise InvalidInput(f"league {code!r} may not trade in market {market.code}",
                               field="counterparty", code="not_eligible")  # fmt: skip


def _locked(session: Session, block_id: int, league: str | None) -> BlockTrade:
    row = session.get(BlockTrade, block_id)
    if row is None or (league is not None and league not in (row.buyer, row.seller)):
        raise NotFound(f"no block trade with id {block_id}", field="block_id")
    rules.lock_market(session, row.market_id)  # first, as order entry
    session.refresh(row, with_for_update=True)
    if row.status != PROPOSED:
        raise Conflict(f"block trade {block_id} is {row.status}", field="block_id",
                       code="block_not_proposed")  # fmt: skip
    return row


def confirm(session: Session, block_id: int, *, league: str, actor: str) -> BlockTrade:
    """The counterparty confirms: hold both sides, settle DvP, record the block trade."""
    row = _locked(session, block_id, league)
    if league == row.proposer:
        raise Forbidden("the other party confirms a block trade, not its proposer",
                        field="block_id")  # fmt: skip
    market = continuous_market(session, row.market_id)
    now = utcnow()
    rules.check_session(market, now)
    _check_terms(session, market, row.quantity, row.price, [row.buyer, row.seller])
    day = sessions.trading_day(now)
    bought = rules.bought_on(session, market.id, row.seller, day)
    asset = ledger.market_asset(market.id)
    sell_hold = _hold(session, row.seller, asset, row.quantity, f"block:{row.id}/sell",
                      actor, market.id, "quantity")  # fmt: skip
    _t_plus_one(session, row.seller, asset, bought, row.quantity)
    buy_hold = _hold(session, row.buyer, ledger.CASH, row.quantity * row.price,
                     f"block:{row.id}/buy", actor, market.id, "price")  # fmt: skip
    ref = f"block:{row.id}"
    record_trade(session, market, None, None, row.price, row.quantity, kind="block",
                 seq=row.id, number=0, day=day, aggressor=None, source=ref,
                 buyer=row.buyer, seller=row.seller)  # fmt: skip
    post(session, market.id, [
        Fill(sell_hold, row.quantity, row.price, f"{ref}/sell"),
        Fill(buy_hold, row.quantity, row.price, f"{ref}/buy", limit=row.price),
    ], reference=f"market:{market.id}/{ref}", actor=actor)  # fmt: skip
    row.status, row.decided_by, row.decided_at = CONFIRMED, actor, now
    return row


def _hold(session: Session, league: str, asset: str, amount: int, reference: str, actor: str,
          market_id: int, field: str) -> int:  # fmt: skip
    try:
        return ledger.place_hold(session, league=league, asset=asset, amount=amount,
                                 reference=reference, actor=actor,
                                 chain=ledger.market_asset(market_id))  # fmt: skip
    except ledger.InsufficientFunds as exc:
        raise insufficient_funds(
            exc, f"{league} has not enough available for this block trade: needs "
            f"{exc.requested}, {exc.available} available", field=field,
        ) from exc  # fmt: skip


def _t_plus_one(session: Session, seller: str, asset: str, bought: int, quantity: int) -> None:
    if not bought:
        return
    view = next((v for v in ledger.balances(session, seller) if v.asset == asset), None)
    if (0 if view is None else view.available) < bought:
        raise InvalidInput(
            f"quantity {quantity}: units bought today cannot be sold today (T+1); "
            f"{seller} bought {bought} today",
            field="quantity",
            code="t_plus_one",
        )


def cancel(session: Session, block_id: int, *, league: str, actor: str) -> BlockTrade:
    """Either party withdraws a proposal that is not confirmed yet."""
    row = _locked(session, block_id, league)
    row.status, row.decided_by, row.decided_at = CANCELLED, actor, utcnow()
    return row


def list_blocks(session: Session, *, league: str | None, market_id: int | None = None,
                with_proposals: bool = True) -> list[BlockTrade]:  # fmt: skip
    """Block trades (newest first): a league's own, or every one (regulator, auditor).

    ``with_proposals=False`` leaves out proposals not yet confirmed: a proposal is a live
    quote (price and size), seen like a live order only by its parties and the regulator.
    """
    query = select(BlockTrade).order_by(BlockTrade.id.desc()).limit(200)
    if not with_proposals:
        query = query.where(BlockTrade.status != PROPOSED)
    if league is not None:
        query = query.where((BlockTrade.buyer == league) | (BlockTrade.seller == league))
    if market_id is not None:
        query = query.where(BlockTrade.market_id == market_id)
    return list(session.scalars(query))
