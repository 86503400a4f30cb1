"""The registry of trading mechanisms: the one place that lists them.

Adding a mechanism: write a module (a package under ``exchange/mechanisms/``)
with a :class:`~exchange.mechanisms.base.Mechanism` subclass and add an instance
to :data:`MECHANISMS` here. Markets name theirs in ``markets.mechanism``; the
API validates against :func:`names`; the scheduler asks :func:`for_market`
which jobs a market needs. See docs/architecture.md.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import TYPE_CHECKING

from exchange.mechanisms.base import (
    FormTrades,
    JobSpec,
    Mechanism,
    OrderView,
    TradeOutcome,
)
from exchange.mechanisms.call_auction import CallAuction

if TYPE_CHECKING:
    from exchange.models import Market

MECHANISMS: Mapping[str, Mechanism] = {m.name: m for m in (CallAuction(),)}
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


__all__ = [
    "MECHANISMS",
    "FormTrades",
    "JobSpec",
    "Mechanism",
    "OrderView",
    "TradeOutcome",
    "due_window",
    "for_market",
    "get",
    "names",
]
