"""Order intake and cancellation: validation at entry, escrow in the ledger."""

from __future__ import annotations

import functools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from sqlalchemy import (
    BigInteger,
    Integer,
    String,
    and_,
    bindparam,
    func,
    select,
    true,
    update,
)
from sqlalchemy.orm import Session, make_transient_to_detached
from sqlalchemy.orm.attributes import instance_dict, set_committed_value
from sqlalchemy.orm.util import identity_key

import ledger
from exchange import mechanisms
from exchange.errors import Conflict, InvalidInput, NotFound, insufficient_funds
from exchange.models import League, Market, MarketLeague, MarketStatus
from exchange.models.base import utcnow
from exchange.models.trading import LIVE_STATUSES, Order, OrderStatus, Side
from exchange.observability import metrics
from exchange.paging import page_of
from exchange.services import enterprises, self_trade, visibility
from exchange.services.commands import PlaceOrder
from ledger.driver import Prepared, fetch_together, prepared_insert

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

    The same ``client_order_id`` from the same league returns the first order. Two
    concurrent requests with one ``client_order_id``: the second fails on the unique
    key (``IntegrityError``) and its caller runs it again in a new unit of work
    (:func:`exchange.uow.idempotent_unit_of_work`), where it finds the first.

    The hot path is a handful of statements: one that reads everything entry
    decides on (:func:`_entry_facts`), the hold (``ledger.place_hold``), the order.
    """
    lock = ledger.hold_lock(
        session,
        league=league,
        asset=order_asset(command.market_id, command.side),
        chain=ledger.market_asset(command.market_id),
    )
    facts, prelocked = _entry_facts(session, league, command, lock)
    if facts.existing_id is not None:
        return PlacedOrder(get_order(session, facts.existing_id, league=league), created=False)
    enterprises.check_state(league, facts.participant_status, enterprises.TRADE)
    market = None if facts.id is None else facts
    amount = check_entry(market, league, command)
    side, price = command.side, command.limit_price
    if facts.crossing_id is not None:
        new = self_trade.NewOrder(command.market_id, side, price)
        raise self_trade.refusal(new, facts.crossing_id, facts.crossing_price)
    order_id = int(facts.next_id)
    hold_id = _hold(
        session,
        command,
        league=league,
        amount=amount,
        order_id=order_id,
        actor=actor,
        prelocked=prelocked,
    )
    now = utcnow()
    order = _insert_order(
        session,
        id=order_id,
        market_id=command.market_id,
        league_code=league,
        zone=facts.zone,
        side=side,
        quantity=command.quantity,
        limit_price=price,
        filled_quantity=0,
        filled_amount=0,
        status=OrderStatus.OPEN,
        validity=command.validity,
        client_order_id=command.client_order_id,
        hold_id=hold_id,
        created_by=actor,
        created_at=now,
        updated_at=now,
        last_run_id=None,
    )
    mechanisms.after_order_entered(session, order, facts.mechanism, actor=actor)
    metrics.order_accepted(order.market_id)  # metrics
    return PlacedOrder(order, created=True)


def _insert_order(session: Session, **values: Any) -> Order:
    """Write a new order's row (every column) with one Core INSERT, and return it as a
    persistent object of ``session``, as if just loaded: no ORM flush (whose unit-of-work
    bookkeeping for one object cost more than the statement). On PostgreSQL the row goes
    with the transaction's next round trip (the COMMIT's, for a call auction's order),
    before anything else the unit of work sends (``ledger.driver.defer``)."""
    prepared_insert(Order.__table__, tuple(values)).defer(session, values)
    order = _as_loaded(session, values)
    set_committed_value(order, "fills", [])  # a new order has traded nothing
    return order


_new_order = Order.__mapper__.class_manager.new_instance  # an Order, its __init__ not run


def _as_loaded(session: Session, row: Any) -> Order:
    """The order whose columns are ``row`` (a mapping) as a persistent object of
    ``session``, as if just loaded: the object ``session`` holds for it refreshed, else a
    new one."""
    held = session.identity_map.get(identity_key(Order, row["id"]))
    if held is None:
        # Filled in as a load fills it: the column values, not one attribute event each as
        # ``Order(**row)`` would (it took twice the time of the rest; bench/trading/README.md).
        order = _new_order()
        instance_dict(order).update(row)
        make_transient_to_detached(order)
        session.add(order)
        return order
    for key, value in row.items():
        set_committed_value(held, key, value)
    return held


def _entry_facts(
    session: Session, league: str, command: PlaceOrder, lock: ledger.HoldLock | None
) -> tuple[Any, tuple[ledger.HoldLock, Sequence[tuple[Any, ...]]] | None]:
    """One statement: the market's terms, the participant's zone in it and its state, an
    earlier order with this ``client_order_id``, the most aggressive own live order the new
    one would cross (self-trade), and the new order's id.

    On PostgreSQL it follows the league's entry lock (``self_trade.LOCK_ENTRIES``), a
    statement of its own so that it reads the league's orders as they are once the lock is
    granted; with the hold's ``lock`` after it. All go in one round trip, in the order of
    their locks (participant, market, accounts, chain); the hold lock's rows are returned
    for ``ledger.place_hold``. An order refused after them (closed market, self-trade, a
    repeat) held its accounts until its rollback or commit. SQLite's writers are serialised
    already: the entry statement alone.
    """
    postgres = session.get_bind().dialect.name == "postgresql"
    values = {
        "league": league,
        "market_id": command.market_id,
        "price": command.limit_price,
        "client_order_id": command.client_order_id,
    }
    entry = _entry_statement(command.side, postgres)
    if not postgres:
        found, prelocked = entry.rows(session, values), None
    else:
        sent = [self_trade.LOCK_ENTRIES.to_send({"league": league}), entry.to_send(values)]
        if lock is not None:
            sent.append((lock.sql, lock.params))
        _, raw, *lock_rows = fetch_together(session, sent)
        found = entry.typed(raw)
        prelocked = None if lock is None else (lock, lock_rows[0])
    if not found:
        raise NotFound(f"no league with code {league!r}", field="league")
    return found[0], prelocked


@functools.cache
def _entry_statement(side: Side, postgres: bool) -> Prepared:
    """The statement of :func:`_entry_facts` for one side and database, built once (building
    it took longer than running it); the order's values are its bound parameters."""
    league = bindparam("league", type_=String)
    market_id = bindparam("market_id", type_=Integer)
    price = bindparam("price", type_=BigInteger)
    crossed = self_trade.crossing(league, market_id, side, price)
    # Uncorrelated (bound parameters only): evaluated once, joined to the league's row.
    first_crossed = (
        select(Order.id.label("crossing_id"), Order.limit_price.label("crossing_price"))
        .where(crossed)
        .order_by(*self_trade.most_aggressive_first(side))
        .limit(1)
        .subquery("crossing")
    )
    terms = select(
        Market.id,
        Market.code,
        Market.status,
        Market.unit,
        Market.lot,
        Market.tick,
        Market.price_floor,
        Market.price_ceiling,
        Market.mechanism,
    ).where(Market.id == market_id)
    if postgres:
        # The key-share lock the order's foreign key takes anyway, taken first, before
        # any account: an entry never waits for the market while holding an account. A
        # clearing run's lock lets it through (call_auction.run.lock_market_for_run).
        terms = terms.with_for_update(read=True, key_share=True)
    market = terms.subquery("market")
    query = (
        select(
            *market.c,
            MarketLeague.zone,
            League.status.label("participant_status"),
            select(Order.id)
            .where(
                Order.league_code == league,
                Order.client_order_id == bindparam("client_order_id", type_=String),
            )
            .scalar_subquery()
            .label("existing_id"),
            first_crossed.c.crossing_id,
            first_crossed.c.crossing_price,
            _next_order_id(postgres).label("next_id"),
            *mechanisms.entry_locks(market.c.id, market.c.mechanism, postgres),
        )
        .select_from(League)
        .outerjoin(market, market.c.id == market_id)
        .outerjoin(
            MarketLeague,
            and_(MarketLeague.market_id == market.c.id, MarketLeague.league_code == League.code),
        )
        .outerjoin(first_crossed, true())
        .where(League.code == league)
    )
    return Prepared(query)


def _next_order_id(postgres: bool) -> Any:
    """The id the new order will have: drawn from the sequence (PostgreSQL), or the next
    after the largest (SQLite, whose writer holds the database's write lock until commit).
    The hold refers to its order (``order:<id>``) and the order to its hold, so knowing
    the id first saves writing the order twice."""
    if postgres:
        return func.nextval(func.pg_get_serial_sequence("orders", "id"))
    return select(func.coalesce(func.max(Order.id), 0) + 1).scalar_subquery()


def _hold(
    session: Session,
    command: PlaceOrder,
    *,
    league: str,
    amount: int,
    order_id: int,
    actor: str,
    prelocked: tuple[ledger.HoldLock, Sequence[tuple[Any, ...]]] | None = None,
) -> int:
    """Hold what the order may spend (rights or cash); 409 with what is available if short."""
    side = command.side
    try:
        return ledger.place_hold(
            session,
            league=league,
            asset=order_asset(command.market_id, side),
            amount=amount,
            reference=f"order:{order_id}",
            actor=actor,
            chain=ledger.market_asset(command.market_id),
            prelocked=prelocked,
        )
    except ledger.InsufficientFunds as exc:
        what = "rights" if side is Side.SELL else "cash (fen)"
        raise insufficient_funds(
            exc,
            f"not enough available {what}: the order needs {exc.requested}, "
            f"{exc.available} available",
            field="quantity" if side is Side.SELL else "limit_price",
        ) from exc


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
    is reported as not found). The order is marked cancelled by one ``UPDATE`` that
    locks it (before any ledger lock, as before) and only if it is still live.
    """
    params = {"order_id": order_id, "league": league, "now": utcnow()}
    row = _cancel_statement(league is not None).first(session, params)
    if row is None:  # nothing changed: say why
        found = session.get(Order, order_id, populate_existing=True)
        if found is None or (league is not None and found.league_code != league):
            raise NotFound(f"no order with id {order_id}", field="order_id")
        raise Conflict(
            f"order {order_id} is {found.status.value}; only open orders can be cancelled",
            field="order_id",
            code="order_not_open",
        )
    order = _as_loaded(session, row._asdict())
    if order.hold_id is not None:
        ledger.release_hold(
            session,
            order.hold_id,
            actor=actor,
            reference=f"order:{order.id}/cancel",
            chain=ledger.market_asset(order.market_id),
            owner=order.league_code,
            deferred=True,  # with the COMMIT: nothing after it reads the journal
        )
    if order.filled_quantity == 0:  # no trades to read: the answer lists none
        set_committed_value(order, "fills", [])
    return order


@functools.cache
def _cancel_statement(for_league: bool) -> Prepared:
    """``UPDATE orders`` to cancelled if still live (and the league's, ``for_league``),
    returning every column; built once per form."""
    orders = Order.__table__.c
    conditions = [orders.id == bindparam("order_id"), orders.status.in_(LIVE_STATUSES)]
    if for_league:
        conditions.append(orders.league_code == bindparam("league"))
    return Prepared(
        update(Order.__table__)  # type: ignore[arg-type]
        .where(*conditions)
        .values(status=OrderStatus.CANCELLED, updated_at=bindparam("now"))
        .returning(*orders)
    )


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
