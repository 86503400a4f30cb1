"""Batch order entry: many orders of one league in one transaction, all or nothing.

The same checks as single order entry (``exchange.services.orders``), but the
holds are placed with the ledger's set-based ``place_holds`` and the whole batch
commits once: the way to enter many orders quickly (see bench/trading/README.md).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import bindparam, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

import ledger
from exchange import mechanisms
from exchange.errors import Conflict, ExchangeError, InvalidInput, insufficient_funds
from exchange.models.base import utcnow
from exchange.models.trading import Order, OrderStatus
from exchange.observability import metrics
from exchange.services import self_trade
from exchange.services.commands import PlaceOrder
from exchange.services.orders import PlacedOrder, check_entry, market_terms, order_asset
from exchange.uow import savepoint

MAX_BATCH = 500


def place_orders(
    session: Session, *, league: str, items: list[PlaceOrder], actor: str
) -> list[PlacedOrder]:
    """Enter ``items`` (validated order data) for ``league``; results in the order given.

    A ``client_order_id`` the league has used before returns that order (nothing
    new); one used twice in the batch is an error. If any order fails a check or
    the league lacks the rights or cash for all of them, nothing is entered and
    the error names each failing order by its index.
    """
    keys = [item.client_order_id for item in items]
    seen: set[str] = set()
    for index, key in enumerate(keys):
        if key in seen:
            raise _batch_error({index: {"client_order_id": [f"{key!r} appears twice"]}})
        seen.add(key)
    try:
        with savepoint(session):
            return _enter_all(session, league, items, actor)
    except IntegrityError:
        raise Conflict(
            "a concurrent request entered some of these client_order_ids; send the batch "
            "again to get them",
            field="orders",
        ) from None


def _enter_all(
    session: Session, league: str, items: list[PlaceOrder], actor: str
) -> list[PlacedOrder]:
    keys = [item.client_order_id for item in items]
    existing = {
        o.client_order_id: o
        for o in session.scalars(
            select(Order).where(Order.league_code == league, Order.client_order_id.in_(keys))
        )
    }
    new = [(i, item) for i, item in enumerate(items) if item.client_order_id not in existing]
    terms = market_terms(session, league, [item.market_id for _i, item in new])
    amounts: dict[int, int] = {}
    errors: dict[int, dict[str, list[str]]] = {}
    for index, item in new:
        try:
            amounts[index] = check_entry(terms.get(item.market_id), league, item)
        except ExchangeError as exc:
            errors[index] = {exc.field or "order": [exc.message]}
    if errors:
        raise _batch_error(errors)
    if new:
        self_trade.check(
            session,
            league,
            [
                self_trade.NewOrder(item.market_id, item.side, item.limit_price, f"orders[{index}]")
                for index, item in new
            ],
        )

    if new:  # a continuous market's entries serialise on it, before any hold
        mechanisms.lock_for_entry(session, [item.market_id for _i, item in new])
    created = _insert_new(session, league, new, terms, amounts, actor) if new else {}
    for index in sorted(created):  # a continuous market matches each at entry, in order
        mechanisms.after_order_entered(session, created[index], actor=actor)
    for order in created.values():
        metrics.order_accepted(order.market_id)  # metrics
    return [
        PlacedOrder(created[i], True)
        if i in created
        else PlacedOrder(existing[item.client_order_id], False)
        for i, item in enumerate(items)
    ]


def _insert_new(
    session: Session,
    league: str,
    new: list[tuple[int, PlaceOrder]],
    terms: dict[int, Any],
    amounts: dict[int, int],
    actor: str,
) -> dict[int, Order]:
    """Insert the new orders and their holds, set-based; batch index -> order."""
    now = utcnow()
    rows = [
        {
            "market_id": item.market_id,
            "league_code": league,
            "zone": terms[item.market_id].zone,
            "side": item.side,
            "quantity": item.quantity,
            "limit_price": item.limit_price,
            "filled_quantity": 0,
            "filled_amount": 0,
            "status": OrderStatus.OPEN,
            "validity": item.validity,
            "client_order_id": item.client_order_id,
            "created_by": actor,
            "created_at": now,
            "updated_at": now,
        }
        for _i, item in new
    ]
    ids = list(
        session.scalars(insert(Order).returning(Order.id, sort_by_parameter_order=True), rows)
    )
    requests = [
        ledger.HoldRequest(
            league=league,
            asset=order_asset(item.market_id, item.side),
            amount=amounts[index],
            reference=f"order:{order_id}",
            chain=ledger.market_asset(item.market_id),
        )
        for (index, item), order_id in zip(new, ids, strict=True)
    ]
    try:
        holds = ledger.place_holds(session, requests, actor=actor)
    except ledger.InsufficientFunds as exc:
        raise insufficient_funds(
            exc, f"not enough available rights or cash for the whole batch: {exc}", field="orders"
        ) from exc
    table = Order.__table__
    session.connection().execute(
        update(table).where(table.c.id == bindparam("b_id")).values(hold_id=bindparam("b_hold")),
        [{"b_id": o, "b_hold": h} for o, h in zip(ids, holds, strict=True)],
    )
    loaded = {
        o.id: o
        for o in session.scalars(
            select(Order).where(Order.id.in_(ids)).execution_options(populate_existing=True)
        )
    }
    created = {index: loaded[oid] for (index, _item), oid in zip(new, ids, strict=True)}
    return created


def _batch_error(errors: dict[int, dict[str, list[str]]]) -> InvalidInput:
    first = min(errors)
    field, messages = next(iter(errors[first].items()))
    return InvalidInput(
        f"orders[{first}].{field}: {' '.join(messages)}"
        + (f" (and {len(errors) - 1} more orders)" if len(errors) > 1 else ""),
        field="orders",
        details={"orders": {str(i): e for i, e in sorted(errors.items())}},
    )
