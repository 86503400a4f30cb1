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
from typing import TYPE_CHECKING, Any

from sqlalchemy import case, func, select

from exchange.mechanisms.base import (
    FormTrades,
    JobSpec,
    Mechanism,
    OrderView,
    TradeOutcome,
)
from exchange.mechanisms.call_auction import CallAuction
from exchange.mechanisms.continuous import Continuous
from exchange.mechanisms.transfer import TransferMechanism
from exchange.models.registry import DEFAULT_MECHANISM

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from exchange.models import Market, Order

MECHANISMS: Mapping[str, Mechanism] = {
    m.name: m for m in (CallAuction(), Continuous(), TransferMechanism())
}
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


ENTRY_LOCK_CLASS = 16_016
"""The first key of the PostgreSQL advisory lock that serialises a market's entries."""


def serialising_names() -> tuple[str, ...]:
    """Mechanisms whose order entries of one market run one at a time (continuous)."""
    return tuple(name for name, m in MECHANISMS.items() if m.serial_entry)


def entry_locks(market_id: Any, mechanism: Any, postgres: bool) -> list[Any]:
    """Columns for the order-entry statement that take, on PostgreSQL, a transaction
    advisory lock on the market when its mechanism serialises entries (and nothing for
    the others: the lock function is strict, so a NULL key takes no lock). Taken in the
    entry's first statement, before any hold, so that no entry waits for the market
    while holding ledger accounts (SQLite serialises writers anyway)."""
    if not postgres:
        return []
    key = case((mechanism.in_(serialising_names()), market_id), else_=None)
    return [func.pg_advisory_xact_lock(ENTRY_LOCK_CLASS, key).label("entry_lock")]


def lock_market_entries(session: Session, market_id: int) -> None:
    """Take the entry lock of one market (PostgreSQL; a no-op on SQLite)."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(select(func.pg_advisory_xact_lock(ENTRY_LOCK_CLASS, market_id)))


def lock_for_entry(session: Session, market_ids: Iterable[int]) -> None:
    """The entry locks of those of ``market_ids`` whose mechanism serialises entries, in
    market id order (order batches; single orders take it in their first statement)."""
    from exchange.models import Market

    ids = sorted(set(market_ids))
    if not ids or session.get_bind().dialect.name != "postgresql":
        return
    serial = session.scalars(
        select(Market.id).where(Market.id.in_(ids), Market.mechanism.in_(serialising_names()))
    ).all()
    for market_id in sorted(serial):
        lock_market_entries(session, market_id)


def after_order_entered(
    session: Session, order: Order, mechanism: str | None = None, *, actor: str
) -> None:
    """Ask the order's market's mechanism what follows the entry of ``order`` (a
    continuous market matches it at once); raising refuses the order. ``mechanism``: the
    market's, when the caller read it already (else it is looked up)."""
    from exchange.models import Market

    name = mechanism or session.scalar(select(Market.mechanism).where(Market.id == order.market_id))
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
