"""The price band of a day and the day's open/high/low/close from its trades.

Integer rules (prices in fen, ``tick`` the price grid):

- band: ``low = ceil(ref * (100 - p) / 100)`` rounded **up** to the tick grid and
  ``high = floor(ref * (100 + p) / 100)`` rounded **down** to it, so every price in the band is
  within p % of the reference, exactly;
- close: the volume-weighted average price ``sum(price * qty) / sum(qty)`` of the listed
  trades, rounded to the **nearest** multiple of ``tick``, halves rounded **up**; the previous
  close when there is no trade.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Protocol

from .._types import MAX_PRICE, InvalidBook
from ._values import Band


def _int(value: object, fld: str) -> int:
    if not isinstance(value, int) or isinstance(value, bool):
        raise InvalidBook(f"{fld} must be an integer, got {value!r}", field=fld)
    return value


def price_band(reference: int, percent: int, tick: int = 1) -> Band:
    """The band of limit prices within ``percent`` % of ``reference`` (e.g. the previous
    close), on the tick grid: ``low = tick * ceil(ref * (100 - p) / (100 * tick))``,
    ``high = tick * floor(ref * (100 + p) / (100 * tick))``.

    ``reference`` must be positive, ``percent`` in 0..100 and ``tick`` >= 1. Raises
    ``InvalidBook`` if the band holds no tick price (a reference off the grid with a band
    narrower than a tick).
    """
    ref = _int(reference, "reference")
    pct = _int(percent, "percent")
    t = _int(tick, "tick")
    if not 0 < ref <= MAX_PRICE:
        raise InvalidBook(f"reference must be between 1 and {MAX_PRICE}, got {ref}",
                          field="reference")  # fmt: skip
    if not 0 <= pct <= 100:
        raise InvalidBook(f"percent must be between 0 and 100, got {pct}", field="percent")
    if t < 1:
        raise InvalidBook(f"tick must be >= 1, got {t}", field="tick")
    low = -((-ref * (100 - pct)) // (100 * t)) * t
    high = (ref * (100 + pct)) // (100 * t) * t
    if low > high:
        raise InvalidBook(
            f"the band of {pct} % around {ref} holds no price on the tick grid (tick {t})",
            field="percent",
        )
    return Band(low, high)


class PricedQuantity(Protocol):
    """Anything with an integer ``price`` and ``quantity`` (a :class:`Trade`, a DB row)."""

    @property
    def price(self) -> int: ...

    @property
    def quantity(self) -> int: ...


@dataclass(frozen=True, slots=True)
class DaySummary:
    """The day's figures from its listed trades: ``open``/``high``/``low`` are ``None``
    without trades, and ``close`` is then the previous close. ``turnover`` is
    ``sum(price * quantity)`` in fen; the exact average price is ``turnover / volume``."""

    open: int | None
    high: int | None
    low: int | None
    close: int | None
    volume: int
    turnover: int
    trades: int


def vwap_close(turnover: int, volume: int, tick: int = 1) -> int:
    """``turnover / volume`` rounded to the nearest multiple of ``tick``, halves up:
    ``tick * floor((2 * turnover + volume * tick) / (2 * volume * tick))``."""
    if volume <= 0 or tick < 1:
        raise ValueError("volume must be positive and tick >= 1")
    return (2 * turnover + volume * tick) // (2 * volume * tick) * tick


def day_summary(
    trades: Iterable[PricedQuantity], previous_close: int | None, tick: int = 1
) -> DaySummary:
    """Open (first trade), high, low, volume, turnover and close of a day's listed trades,
    given in execution order. Block trades must not be passed: they are not part of the
    close. The close is :func:`vwap_close`, or ``previous_close`` without trades."""
    t = _int(tick, "tick")
    if t < 1:
        raise InvalidBook(f"tick must be >= 1, got {t}", field="tick")
    if previous_close is not None:
        _int(previous_close, "previous_close")
    first: int | None = None
    high = low = 0
    volume = turnover = count = 0
    for tr in trades:
        price = _int(tr.price, "price")
        qty = _int(tr.quantity, "quantity")
        if qty <= 0:
            raise InvalidBook(f"trade quantity must be positive, got {qty}", field="quantity")
        if first is None:
            first = high = low = price
        else:
            high = max(high, price)
            low = min(low, price)
        volume += qty
        turnover += price * qty
        count += 1
    if first is None:
        return DaySummary(None, None, None, previous_close, 0, 0, 0)
    return DaySummary(first, high, low, vwap_close(turnover, volume, t), volume, turnover, count)
