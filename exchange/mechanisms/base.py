"""The interface of a trading mechanism: how a market's orders become trades.

A market is an instrument (right, unit, lot, tick, vintage, cap, eligibility,
zones) traded through one mechanism, named by ``Market.mechanism``. A mechanism
answers four questions, and nothing outside its module asks "is this an
auction":

- ``jobs`` (and ``startup_jobs``): which scheduler jobs a market needs (a call auction: one clearing
  job on the market's cron schedule; a negotiated transfer: none);
- ``form_trades``: turn the book into trades for one step of the mechanism (a
  call auction: one clearing run of a window), inside the caller's unit of work;
- ``order_visible``: who may see an order, and when (sealed bids);
- ``settlement_specs``: the journals that settle its trades, built as
  :class:`ledger.JournalSpec` values that the ledger then posts.

Mechanisms are registered in one place, :mod:`exchange.mechanisms`.
"""

from __future__ import annotations

import abc
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, ClassVar

from flask import Flask
from sqlalchemy import Select
from sqlalchemy.orm import Session

if TYPE_CHECKING:
    import ledger
    from exchange.identity.actor import Actor
    from exchange.models import Market, Order


@dataclass(frozen=True)
class JobSpec:
    """One scheduler job a market needs: ``func(**kwargs)`` on ``trigger``.

    ``signature`` says what the job depends on (e.g. the cron expression); a
    job whose signature changed is replaced.
    """

    id: str
    name: str
    trigger: Any
    func: Callable[..., None]
    kwargs: Mapping[str, Any] = field(default_factory=dict)
    signature: str = ""


@dataclass(frozen=True)
class FormTrades:
    """Command: run one step of a market's mechanism (a call auction: clear ``window``)."""

    market_id: int
    window: datetime
    trigger: str
    actor: str


@dataclass(frozen=True)
class TradeOutcome:
    """What :meth:`Mechanism.form_trades` did: the source record (a run) and whether it is new."""

    source_id: int
    created: bool


@dataclass(frozen=True)
class OrderView:
    """What visibility needs to know about an order."""

    league_code: str
    live: bool
    """Still able to trade (open or partially filled): its price and size are sealed."""


class Mechanism(abc.ABC):
    """A way of forming trades; one module per mechanism, one instance in the registry."""

    name: ClassVar[str]
    """Stored in ``markets.mechanism`` and shown in the API (``call_auction``)."""
    title: ClassVar[str]
    """One line for people."""
    serial_entry: ClassVar[bool] = False
    """Do a market's order entries run one at a time (under an entry lock taken in the
    entry's first statement, before any hold)? Continuous trading: yes."""

    @abc.abstractmethod
    def jobs(self, app: Flask, market: Market) -> Sequence[JobSpec]:
        """Recurring scheduler jobs the open ``market`` needs (ids start ``market:<id>:``)."""

    def startup_jobs(self, app: Flask) -> Sequence[JobSpec]:
        """One-off jobs to run when a scheduler starts (e.g. catch up missed windows)."""
        return ()

    def due_window(self, schedule: str | None, now: datetime) -> datetime | None:
        """The latest window at or before ``now`` that should have formed trades, if the
        mechanism forms them in scheduled windows (monitoring: a missed window)."""
        return None

    def market_terms(self, command: Any) -> dict[str, Any]:
        """The market columns this mechanism sets from a ``CreateMarket`` command (its
        schedule, band, calendar); ``InvalidInput`` names a missing or useless one."""
        from exchange.errors import InvalidInput

        if not command.clearing_schedule:
            raise InvalidInput(
                f"clearing_schedule: a {self.name} market needs a clearing schedule (cron)",
                field="clearing_schedule",
            )
        return {"clearing_schedule": command.clearing_schedule}

    def after_order_entered(self, session: Session, order: Order, *, actor: str) -> None:
        """What happens once an order is entered (its hold placed), in the caller's unit of
        work: nothing for a call auction (it rests until the run); a continuous market
        checks its session and band and matches at entry. Raising refuses the order."""
        return None

    @abc.abstractmethod
    def form_trades(self, session: Session, command: FormTrades) -> TradeOutcome:
        """Form trades for one step, in the caller's transaction (never commits)."""

    @abc.abstractmethod
    def order_visible(self, viewer: Actor, order: OrderView) -> bool:
        """May ``viewer`` see this order now?"""

    @abc.abstractmethod
    def restrict_orders(self, query: Select[tuple[Order]], viewer: Actor) -> Select[tuple[Order]]:
        """``query`` over orders limited, in SQL, to those ``viewer`` may see now."""

    @abc.abstractmethod
    def settlement_specs(
        self,
        session: Session,
        market_id: int,
        trades: Sequence[Any],
        *,
        reference: str,
        actor: str,
    ) -> Sequence[ledger.JournalSpec]:
        """The journals that settle ``trades`` (the ledger posts them)."""
