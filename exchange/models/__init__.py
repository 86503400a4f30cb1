"""SQLAlchemy models of the exchange (the ledger's tables live in ``ledger``)."""

from exchange.models.base import Base, utcnow
from exchange.models.continuous import (
    BlockTrade,
    ContinuousEvent,
    ContinuousTrade,
    DailyClose,
)
from exchange.models.identity import ActionLog, ApiToken, Role, User
from exchange.models.jobs import BackgroundJob, JobEffect, JobRunner, JobStatus
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
from exchange.models.trading import (
    ClearingRun,
    ClearingSnapshot,
    Order,
    OrderStatus,
    RunStatus,
    RunTrigger,
    Side,
    Trade,
    Validity,
)

__all__ = [
    "UNITS",
    "ActionLog",
    "ApiToken",
    "BackgroundJob",
    "Base",
    "Basin",
    "BlockTrade",
    "ClearingRun",
    "ClearingSnapshot",
    "ContinuousEvent",
    "ContinuousTrade",
    "DailyClose",
    "Fill",
    "JobEffect",
    "JobRunner",
    "JobStatus",
    "League",
    "LeagueBasin",
    "Market",
    "MarketLeague",
    "MarketStatus",
    "Order",
    "OrderStatus",
    "Pollutant",
    "Region",
    "RightType",
    "Role",
    "RunStatus",
    "RunTrigger",
    "Side",
    "Trade",
    "TransferLimit",
    "User",
    "Validity",
    "utcnow",
]
