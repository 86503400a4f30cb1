"""Display of integers: fen as yuan with two decimals, quantities with separators, times.

Data stay integers everywhere; only these filters turn them into text. Parsing of
yuan typed into a form goes the other way, exactly (``Decimal``, no float).
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from flask import Flask

from exchange.schedule import EXCHANGE_TZ

MAX_YUAN_DIGITS = 16


def yuan(fen: int | None) -> str:
    """``123456`` -> ``"1,234.56"``; ``None`` -> ``"—"``. Exact for any integer."""
    if fen is None:
        return "—"
    sign = "-" if fen < 0 else ""
    whole, cents = divmod(abs(int(fen)), 100)
    return f"{sign}{whole:,}.{cents:02d}"


def run_price(run: Any) -> str | None:
    """The price of a clearing run as people read it: the uniform price, or for a zonal run
    the range over its zones (``"1.20–1.45"``, one figure when all zones agree); ``None``
    when nothing traded."""
    if run is None:
        return None
    if run.price is not None:
        return yuan(run.price)
    zone_prices = [p for p in (run.zone_prices or {}).values() if p is not None]
    if not zone_prices:
        return None
    low, high = min(zone_prices), max(zone_prices)
    return yuan(low) if low == high else f"{yuan(low)}–{yuan(high)}"


def quantity(value: int | None) -> str:
    """``1234567`` -> ``"1,234,567"``; ``None`` -> ``"—"``."""
    if value is None:
        return "—"
    return f"{int(value):,}"


def local_time(value: datetime | None, seconds: bool = False) -> str:
    """A timestamp in Beijing time, e.g. ``2027-03-01 10:05`` (the exchange's zone)."""
    if value is None:
        return "—"
    return value.astimezone(EXCHANGE_TZ).strftime(
        "%Y-%m-%d %H:%M:%S" if seconds else "%Y-%m-%d %H:%M"
    )


def parse_yuan(text: str) -> int:
    """``"1,234.5"`` -> ``123450`` fen, exactly; ``ValueError`` with a reason otherwise."""
    cleaned = text.strip().replace(",", "").replace("，", "")
    if not cleaned:
        raise ValueError("enter an amount in yuan, e.g. 12.50")
    if not cleaned.isascii() or not all(c.isdigit() or c == "." for c in cleaned):
        raise ValueError("enter a non-negative amount with digits and a point, e.g. 12.50")
    try:
        amount = Decimal(cleaned)
    except InvalidOperation:
        raise ValueError(f"{text.strip()!r} is not an amount in yuan, e.g. 12.50") from None
    if not amount.is_finite() or amount < 0:
        raise ValueError("enter a non-negative amount in yuan")
    fen = amount * 100
    if fen != fen.to_integral_value():
        raise ValueError("at most two decimals (fen)")
    if len(str(int(fen))) > MAX_YUAN_DIGITS:
        raise ValueError("amount too large")
    return int(fen)


def parse_quantity(text: str) -> int:
    """A whole number of units typed in a form (ASCII digits, separators allowed)."""
    cleaned = text.strip().replace(",", "").replace("_", "")
    if not cleaned or not cleaned.isascii() or not cleaned.isdigit():
        raise ValueError("enter a whole number of units, e.g. 1000")
    if len(cleaned) > MAX_YUAN_DIGITS:
        raise ValueError("quantity too large")
    return int(cleaned)


def init_formatting(app: Flask) -> None:
    """Register the filters ``yuan``, ``qty``, ``bjt`` (Beijing time) and ``run_price``."""
    app.add_template_filter(yuan, "yuan")
    app.add_template_filter(quantity, "qty")
    app.add_template_filter(local_time, "bjt")
    app.add_template_filter(run_price, "run_price")
