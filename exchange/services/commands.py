"""Typed commands the services take: frozen dataclasses, never schema dictionaries.

The API and the pages parse a request (marshmallow) and build a command; the CLI,
the demo and tests build them directly. A service runs a command inside the
caller's unit of work (``exchange.uow``) and never commits.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from exchange.models import MarketStatus, Pollutant, RightType
from exchange.models.registry import DEFAULT_MECHANISM
from exchange.models.trading import Side, Validity


@dataclass(frozen=True)
class EligibleLeague:
    """A league that may trade in a market, and its zone (default: the league's code)."""

    league: str
    zone: str | None = None


@dataclass(frozen=True)
class TransferLimitSpec:
    """How much may flow from one zone to another per run (None: unbounded)."""

    from_zone: str
    to_zone: str
    capacity: int | None = None
    loss: int = 0
    """Conveyance loss on the link, per mille (water; applied to transfers' deliveries)."""


@dataclass(frozen=True)
class CreateMarket:
    """Register a market: an instrument and the mechanism it trades through."""

    code: str
    name_zh: str
    name_en: str
    right_type: RightType
    vintage: str
    unit: str
    lot: int
    tick: int
    cap: int
    clearing_schedule: str = ""
    pollutant: Pollutant | None = None
    basin: str | None = None
    price_floor: int = 0
    price_ceiling: int | None = None
    mechanism: str = DEFAULT_MECHANISM
    status: MarketStatus = MarketStatus.OPEN
    description: str = ""
    description_zh: str = ""
    band_percent: int | None = None
    session_calendar: str | None = None
    reference_price: int | None = None
    min_cover_percent: int | None = None
    min_price_percent: int | None = None
    ccr_trigger_price: int | None = None
    ccr_quantity: int | None = None
    ecr_trigger_price: int | None = None
    ecr_quantity: int | None = None
    reserve_code: str | None = None
    eligible_leagues: tuple[EligibleLeague, ...] | None = None
    transfer_limits: tuple[TransferLimitSpec, ...] = field(default_factory=tuple)

    @classmethod
    def from_data(cls, data: Mapping[str, Any]) -> CreateMarket:
        """From validated data (``MarketCreateSchema``'s load, or the demo's registry data)."""
        values = dict(data)
        eligible = values.pop("eligible_leagues", None)
        limits = values.pop("transfer_limits", None) or ()
        values["right_type"] = RightType(values["right_type"])
        if values.get("pollutant") is not None:
            values["pollutant"] = Pollutant(values["pollutant"])
        if "status" in values:
            values["status"] = MarketStatus(values["status"])
        return cls(
            **values,
            eligible_leagues=None
            if eligible is None
            else tuple(EligibleLeague(e["league"], e.get("zone")) for e in eligible),
            transfer_limits=tuple(
                TransferLimitSpec(
                    link["from_zone"] if "from_zone" in link else link["from"],
                    link["to_zone"] if "to_zone" in link else link["to"],
                    link.get("capacity"),
                    link.get("loss_permille", link.get("loss", 0)) or 0,
                )
                for link in limits
            ),
        )


@dataclass(frozen=True)
class PlaceOrder:
    """Enter a limit order for a league: buy or sell ``quantity`` at ``limit_price`` (fen)."""

    market_id: int
    side: Side
    quantity: int
    limit_price: int
    client_order_id: str
    validity: Validity = Validity.GOOD_TILL_CANCELLED

    @classmethod
    def from_data(cls, data: Mapping[str, Any]) -> PlaceOrder:
        """From validated data (``OrderCreateSchema``'s load; ``league`` is not part of it)."""
        return cls(
            market_id=data["market_id"],
            side=Side(data["side"]),
            quantity=data["quantity"],
            limit_price=data["limit_price"],
            client_order_id=data["client_order_id"],
            validity=Validity(data.get("validity") or Validity.GOOD_TILL_CANCELLED),
        )


@dataclass(frozen=True)
class Allocation:
    """Issue ``quantity`` rights of ``market`` (a code) to ``league`` under the market's cap."""

    league: str
    market: str
    quantity: int
    reference: str | None = None


@dataclass(frozen=True)
class Deposit:
    """Credit a league's cash account (fen), by the regulator."""

    league: str
    amount: int
    reference: str | None = None


@dataclass(frozen=True)
class Retire:
    """A league surrenders ``quantity`` of its available rights of ``market`` (a code)."""

    league: str
    market: str
    quantity: int
    reference: str | None = None
