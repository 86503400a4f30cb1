"""The call auction's sealed-bid rule: who may see an order, and a run's curves.

An order is *live* while it can still trade (status ``open`` or
``partially_filled``). A live order's price and size are sealed: nobody but
the regulator and the order's own participant sees them (auditors neither): a
league's users, or an enterprise's representatives (any rights, read-only too). A
league official does not see its enterprises' orders, live or not: the league's
view of its enterprises is their holdings and compliance, never their bids. Once an
order is filled, cancelled or expired, auditors see it too; other leagues and
the public never see another league's orders.

A run's aggregated supply and demand curves are built from every order of its
book, so they reveal live orders' prices and sizes while any of them is live:
the regulator sees curves always, auditors once no order of the run's snapshot
is live, the public and leagues never (they get the auction results, see
``exchange.mechanisms.call_auction.stats``). Views, queries and pages ask through
``exchange.services.visibility``, which asks the market's mechanism.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from exchange.models.identity import Role
from exchange.models.trading import LIVE_STATUSES, Order, OrderStatus

if TYPE_CHECKING:
    from exchange.identity.actor import Actor

__all__ = [
    "LIVE_STATUSES",
    "curves_visible",
    "is_live",
    "live_order_ids",
    "may_see_order",
    "restrict_orders",
    "sees_live_orders",
]

_CHUNK = 500
PARTY_ROLES = (Role.LEAGUE, Role.REPRESENTATIVE)
"""Users who act for one participant (``Actor.party``) and see its own orders."""


def is_live(status: OrderStatus) -> bool:
    """An order that can still trade: its price and size are sealed."""
    return status in LIVE_STATUSES


def sees_live_orders(actor: Actor) -> bool:
    """Only the regulator sees every live order."""
    return actor.role is Role.REGULATOR


def may_see_order(actor: Actor, league_code: str, status: OrderStatus) -> bool:
    """Whether ``actor`` may see an order of ``league_code`` in ``status``."""
    return may_see(actor, league_code, live=is_live(status))


def may_see(actor: Actor, league_code: str, *, live: bool) -> bool:
    """Whether ``actor`` may see an order of ``league_code`` that is (or is not) live."""
    if sees_live_orders(actor):
        return True
    if actor.role in PARTY_ROLES:
        return actor.party == league_code
    if actor.role is Role.AUDITOR:
        return not live
    return False


def restrict_orders(query: Select[tuple[Order]], actor: Actor) -> Select[tuple[Order]]:
    """``query`` over ``Order`` limited to the orders ``actor`` may see (in SQL)."""
    if sees_live_orders(actor):
        return query
    if actor.role in PARTY_ROLES and actor.party is not None:
        return query.where(Order.league_code == actor.party)
    if actor.role is Role.AUDITOR:
        return query.where(Order.status.not_in(LIVE_STATUSES))
    return query.where(Order.id.is_(None))  # nobody else sees orders


def live_order_ids(session: Session, order_ids: Iterable[int]) -> set[int]:
    """The ids among ``order_ids`` of orders that are still live."""
    ids = sorted(set(order_ids))
    live: set[int] = set()
    for start in range(0, len(ids), _CHUNK):
        chunk = ids[start : start + _CHUNK]
        live.update(
            session.scalars(
                select(Order.id).where(Order.id.in_(chunk), Order.status.in_(LIVE_STATUSES))
            )
        )
    return live


def curves_visible(actor: Actor, live_in_snapshot: Callable[[], int]) -> bool:
    """Whether ``actor`` may see a run's curves; ``live_in_snapshot()`` counts its live orders."""
    if sees_live_orders(actor):
        return True
    return actor.role is Role.AUDITOR and live_in_snapshot() == 0
