"""SQLAlchemy models of the exchange (the ledger's tables live in ``ledger``)."""

from exchange.models.base import Base, utcnow
from exchange.models.registry import (
    UNITS,
    Basin,
    League,
    LeagueBasin,
    Market,
    MarketLeague,
    MarketStatus,
    Pollutant,
    Region,
    RightType,
    TransferLimit,
)

__all__ = [
    "UNITS",
    "Base",
    "Basin",
    "League",
    "LeagueBasin",
    "Market",
    "MarketLeague",
    "MarketStatus",
    "Pollutant",
    "Region",
    "RightType",
    "TransferLimit",
    "utcnow",
]
