"""The registry of trading mechanisms: the one place that lists them.

Adding a mechanism: write a module (a package under ``exchange/mechanisms/``)
with a :class:`~exchange.mechanisms.base.Mechanism` subclass and add an instance
to :data:`MECHANISMS` here. Markets name theirs in ``markets.mechanism``; the
API validates against :func:`names`; the scheduler asks :func:`for_market`
which jobs a market needs. See docs/architecture.md.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import select

from exchange.mechanisms.base import (
    FormTrades,
    JobSpec,
    Mechanism,
    OrderView,
    TradeOutcome,
)
from exchange.mechanisms.call_auction import CallAuction
from exchange.mechanisms.continuous import Continuous
from exchange.models.registry import DEFAULT_MECHANISM

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from exchange.models import Market, Order

MECHANISMS: Mapping[str, Mechanism] = {m.name: m for m in (CallAuction(), Continuous())}
"""Every mechanism, by name."""


def names() -> tuple[str, ...]:
    """Names of the registered mechanisms (``call_auction``, ...)."""
    return tuple(MECHANISMS)


def get(name: str) -> Mechanism:
    """The mechanism called ``name``; ``KeyError`` if none is registered."""
    return MECHANISMS[name]


def due_window(mechanism: str, schedule: str | None, now: datetime) -> datetime | None:
    """The latest window a market of ``mechanism`` should have run by ``now`` (None: none)."""
    found = MECHANISMS.get(mechanism)
    return None if found is None else found.due_window(schedule, now)


def for_market(market: Market) -> Mechanism:
    """The mechanism a market trades through."""
    return MECHANISMS[market.mechanism]


def lock_for_entry(session: Session, market_ids: Iterable[int]) -> None:
    """Let each market's mechanism take the locks order entry must take first (a
    continuous market: its row), in market id order."""
    from exchange.models import Market

    ids = sorted(set(market_ids))
    if not ids:
        return
    rows = session.execute(select(Market.id, Market.mechanism).where(Market.id.in_(ids)))
    by_mechanism: dict[str, list[int]] = {}
    for market_id, name in rows:
        by_mechanism.setdefault(name, []).append(market_id)
    for name, found in sorted(by_mechanism.items()):
        mechanism = MECHANISMS.get(name)
        if mechanism is not None:
            mechanism.lock_for_entry(session, found)


def after_order_entered(session: Session, order: Order, *, actor: str) -> None:
    """Ask the order's market's mechanism what follows the entry of ``order`` (a continuous
    market matches it at once); raising refuses the order."""
    from exchange.models import Market

    name = session.scalar(select(Market.mechanism).where(Market.id == order.market_id))
    MECHANISMS[name or DEFAULT_MECHANISM].after_order_entered(session, order, actor=actor)


__all__ = [
    "MECHANISMS",
    "FormTrades",
    "JobSpec",
    "Mechanism",
    "OrderView",
    "TradeOutcome",
    "after_order_entered",
    "due_window",
    "for_market",
    "get",
    "lock_for_entry",
    "names",
]
