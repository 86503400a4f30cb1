"""Continuous trading: a price-time priority limit order book, pure (no clock, no I/O).

See docs/matching.md, section "Continuous book".
"""

from ._book import OrderBook
from ._day import DaySummary, PricedQuantity, day_summary, price_band, vwap_close
from ._replay import (
    Rejection,
    ReplayResult,
    cancelled_to_json,
    depth_to_json,
    rejection_detail,
    replay,
    trade_to_json,
)
from ._values import (
    Band,
    BookRules,
    Cancel,
    Cancelled,
    CancelReason,
    Command,
    Depth,
    InvalidOrder,
    Level,
    LimitOrder,
    OutsideBand,
    RestingOrder,
    SubmitResult,
    Trade,
    UnknownOrder,
)

__all__ = [
    "Band",
    "BookRules",
    "Cancel",
    "CancelReason",
    "Cancelled",
    "Command",
    "DaySummary",
    "Depth",
    "InvalidOrder",
    "Level",
    "LimitOrder",
    "OrderBook",
    "OutsideBand",
    "PricedQuantity",
    "Rejection",
    "ReplayResult",
    "RestingOrder",
    "SubmitResult",
    "Trade",
    "UnknownOrder",
    "cancelled_to_json",
    "day_summary",
    "depth_to_json",
    "price_band",
    "rejection_detail",
    "replay",
    "trade_to_json",
    "vwap_close",
]
