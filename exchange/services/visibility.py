"""Who may see an order: asked of the market's mechanism (the one rule per mechanism).

Views, queries and pages ask here; this module asks the mechanism
(``Mechanism.order_visible`` / ``restrict_orders``), so a mechanism with other
rules (a negotiated transfer, visible to its two parties) plugs in without
touching them. The call auction's rule (sealed bids) is in
``exchange.mechanisms.call_auction.visibility``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import Select

from exchange import mechanisms
from exchange.mechanisms.base import OrderView
from exchange.models.registry import DEFAULT_MECHANISM
from exchange.models.trading import LIVE_STATUSES, Order, OrderStatus

if TYPE_CHECKING:
    from exchange.identity.actor import Actor

__all__ = ["LIVE_STATUSES", "is_live", "may_see_order", "restrict_orders"]


def is_live(status: OrderStatus) -> bool:
    """An order that can still trade."""
    return status in LIVE_STATUSES


def may_see_order(
    actor: Actor, league_code: str, status: OrderStatus, mechanism: str = DEFAULT_MECHANISM
) -> bool:
    """Whether ``actor`` may see an order of ``league_code`` in ``status`` now."""
    return mechanisms.get(mechanism).order_visible(actor, OrderView(league_code, is_live(status)))


def restrict_orders(query: Select[tuple[Order]], actor: Actor) -> Select[tuple[Order]]:
    """``query`` over orders limited to those ``actor`` may see, for every mechanism.

    Each mechanism restricts the orders of its own markets.
    """
    from sqlalchemy import or_, select

    from exchange.models import Market

    if len(mechanisms.MECHANISMS) == 1:
        return next(iter(mechanisms.MECHANISMS.values())).restrict_orders(query, actor)
    allowed = []
    for name, mechanism in mechanisms.MECHANISMS.items():
        theirs = select(Order).join(Market, Market.id == Order.market_id)
        visible = mechanism.restrict_orders(theirs.where(Market.mechanism == name), actor)
        allowed.append(Order.id.in_(visible.with_only_columns(Order.id)))
    return query.where(or_(*allowed))
