"""Order intake and cancellation: validation at entry, escrow in the ledger."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from sqlalchemy import and_, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

import ledger
from exchange import mechanisms
from exchange.errors import Conflict, InvalidInput, NotFound, insufficient_funds
from exchange.models import Market, MarketLeague, MarketStatus
from exchange.models.base import utcnow
from exchange.models.trading import LIVE_STATUSES, Order, OrderStatus, Side
from exchange.observability import metrics
from exchange.paging import page_of
from exchange.services import self_trade, visibility
from exchange.services.commands import PlaceOrder
from exchange.uow import savepoint

if TYPE_CHECKING:
    from exchange.identity.actor import Actor

# The largest cash amount one order may reserve (limit x quantity), in fen; keeps
# every amount of its settlement far inside a signed 64-bit integer.
MAX_ORDER_VALUE = 2**62


@dataclass(frozen=True)
class PlacedOrder:
    """An order and whether this request created it (False: idempotent repeat)."""

    order: Order
    created: bool


def order_asset(market_id: int, side: Side) -> str:
    """The asset an order's hold reserves: the market's rights (sell) or cash (buy)."""
    return ledger.market_asset(market_id) if side is Side.SELL else ledger.CASH


def hold_amount(side: Side, quantity: int, limit_price: int) -> int:
    """What an order holds: its quantity (sell) or limit x quantity in fen (buy)."""
    return quantity if side is Side.SELL else quantity * limit_price


def place_order(session: Session, command: PlaceOrder, *, league: str, actor: str) -> PlacedOrder:
    """Validate and enter an order, holding its rights or cash in the caller's unit of work.

    The same ``client_order_id`` from the same league returns the first order.
    """
    existing = _by_client_id(session, league, command.client_order_id)
    if existing is not None:
        return PlacedOrder(existing, created=False)
    try:
        with savepoint(session):
            order = _enter(session, command, league=league, actor=actor)
    except IntegrityError:
        # A concurrent request with the same client_order_id won the race (the
        # savepoint undid this attempt; the caller's transaction goes on).
        existing = _by_client_id(session, league, command.client_order_id)
        if existing is None:
            raise
        return PlacedOrder(existing, created=False)
    metrics.order_accepted(order.market_id)  # metrics
    return PlacedOrder(order, created=True)


def _by_client_id(session: Session, league: str, client_order_id: str) -> Order | None:
    return session.scalar(
        select(Order).where(Order.league_code == league, Order.client_order_id == client_order_id)
    )


def market_terms(session: Session, league: str, market_ids: Iterable[int]) -> dict[int, Any]:
    """Each market's terms and ``league``'s zone in it (None: not eligible), by market id."""
    rows = session.execute(
        select(
            Market.id,
            Market.code,
            Market.status,
            Market.unit,
            Market.lot,
            Market.tick,
            Market.price_floor,
            Market.price_ceiling,
            MarketLeague.zone,
        )
        .outerjoin(
            MarketLeague,
            and_(MarketLeague.market_id == Market.id, MarketLeague.league_code == league),
        )
        .where(Market.id.in_(list(set(market_ids))))
    )
    return {row.id: row for row in rows}


def check_entry(market: Any, league: str, command: PlaceOrder) -> int:
    """Every check of order entry short of funds; returns the amount to hold."""
    if market is None:
        raise NotFound(f"no market with id {command.market_id}", field="market_id")
    if market.status is not MarketStatus.OPEN:
        raise Conflict(
            f"market {market.code} is {market.status.value}; it takes no orders",
            field="market_id",
            code="market_not_open",
        )
    if market.zone is None:
        raise InvalidInput(
            f"league {league!r} may not trade in market {market.code}",
            field="market_id",
            code="not_eligible",
        )
    side, quantity, price = command.side, command.quantity, command.limit_price
    check_order_terms(market, quantity, price)
    if side is Side.BUY and price == 0:  # would hold nothing: no order to fund
        raise InvalidInput(
            "limit_price: a buy order needs a limit price above 0 fen", field="limit_price"
        )
    amount = hold_amount(side, quantity, price)
    if amount > MAX_ORDER_VALUE:
        raise InvalidInput(
            f"limit_price x quantity = {amount} fen is more than one order may reserve",
            field="quantity",
        )
    return amount


def _enter(session: Session, command: PlaceOrder, *, league: str, actor: str) -> Order:
    market = market_terms(session, league, [command.market_id]).get(command.market_id)
    amount = check_entry(market, league, command)
    side, quantity, price = command.side, command.quantity, command.limit_price
    self_trade.check(session, league, [self_trade.NewOrder(market.id, side, price)])
    now = utcnow()
    order = Order(
        market_id=market.id,
        league_code=league,
        zone=market.zone,
        side=side,
        quantity=quantity,
        limit_price=price,
        filled_quantity=0,
        filled_amount=0,
        status=OrderStatus.OPEN,
        validity=command.validity,
        client_order_id=command.client_order_id,
        created_by=actor,
        created_at=now,
        updated_at=now,
        fills=[],
    )
    session.add(order)
    session.flush()
    try:
        order.hold_id = ledger.place_hold(
            session,
            league=league,
            asset=order_asset(market.id, side),
            amount=amount,
            reference=f"order:{order.id}",
            actor=actor,
            chain=ledger.market_asset(market.id),
        )
    except ledger.InsufficientFunds as exc:
        what = "rights" if side is Side.SELL else "cash (fen)"
        raise insufficient_funds(
            exc,
            f"not enough available {what}: the order needs {exc.requested}, "
            f"{exc.available} available",
            field="quantity" if side is Side.SELL else "limit_price",
        ) from exc
    session.flush()
    mechanisms.after_order_entered(session, order, actor=actor)
    return order


class MarketTerms(Protocol):
    """What order entry checks of a market (a ``Market`` or a row of its columns)."""

    unit: str
    lot: int
    tick: int
    price_floor: int
    price_ceiling: int | None


def check_order_terms(market: MarketTerms, quantity: int, price: int) -> None:
    """Lot, tick, floor and ceiling of the market; ``InvalidInput`` names the field."""
    if quantity <= 0 or quantity % market.lot:
        raise InvalidInput(
            f"quantity {quantity} is not a positive multiple of the lot {market.lot} {market.unit}",
            field="quantity",
        )
    if price % market.tick:
        raise InvalidInput(
            f"limit_price {price} is not on the tick grid (a multiple of {market.tick} fen)",
            field="limit_price",
        )
    if price < market.price_floor:
        raise InvalidInput(
            f"limit_price {price} is below the price floor {market.price_floor}",
            field="limit_price",
        )
    if market.price_ceiling is not None and price > market.price_ceiling:
        raise InvalidInput(
            f"limit_price {price} is above the price ceiling {market.price_ceiling}",
            field="limit_price",
        )


def cancel_order(session: Session, *, order_id: int, league: str | None, actor: str) -> Order:
    """Cancel a live order and release what its hold still reserves.

    ``league`` limits the search to that league's orders (another league's order
    is reported as not found).
    """
    order = session.get(Order, order_id, with_for_update=True, populate_existing=True)
    if order is None or (league is not None and order.league_code != league):
        raise NotFound(f"no order with id {order_id}", field="order_id")
    if order.status not in LIVE_STATUSES:
        raise Conflict(
            f"order {order_id} is {order.status.value}; only open orders can be cancelled",
            field="order_id",
            code="order_not_open",
        )
    if order.hold_id is not None:
        ledger.release_hold(
            session,
            order.hold_id,
            actor=actor,
            reference=f"order:{order.id}/cancel",
            chain=ledger.market_asset(order.market_id),
        )
    order.status = OrderStatus.CANCELLED
    order.updated_at = utcnow()
    return order


def get_order(session: Session, order_id: int, *, league: str | None) -> Order:
    """One order (with fills); ``league`` restricts to that league's orders."""
    order = session.get(Order, order_id)
    if order is None or (league is not None and order.league_code != league):
        raise NotFound(f"no order with id {order_id}", field="order_id")
    return order


def list_orders(
    session: Session,
    *,
    league: str | None,
    market_id: int | None = None,
    status: OrderStatus | None = None,
    side: Side | None = None,
    viewer: Actor | None = None,
    page: int = 1,
    per_page: int = 50,
) -> tuple[int, Sequence[Order]]:
    """``(total, page)`` of orders, newest first, with filters.

    ``viewer``: only the orders that actor may see (``exchange.services.visibility``).
    """
    query = select(Order)
    if viewer is not None:
        query = visibility.restrict_orders(query, viewer)
    if league is not None:
        query = query.where(Order.league_code == league)
    if market_id is not None:
        query = query.where(Order.market_id == market_id)
    if status is not None:
        query = query.where(Order.status == status)
    if side is not None:
        query = query.where(Order.side == side)
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    items = session.scalars(page_of(query.order_by(Order.id.desc()), page, per_page)).all()
    return total, items
