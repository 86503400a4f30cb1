"""Market families: the same right traded in one market per vintage (year).

A family is named by the right and what narrows it: ``water:<basin>`` (e.g.
``water:yellow``), ``pollutant:<pollutant>`` (e.g. ``pollutant:COD``),
``carbon`` and ``energy`` (or ``carbon:<basin>`` when a market is basin-scoped).
Transfers of water for a term of years and compliance periods name a family and
a year; this module is the one place that maps them to markets.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from exchange.errors import InvalidInput
from exchange.models import Market, Pollutant, RightType


def family_of(market: Market) -> str:
    """The family code of ``market`` (``water:yellow``, ``pollutant:COD``, ``carbon``)."""
    if market.right_type is RightType.POLLUTANT and market.pollutant is not None:
        return f"pollutant:{market.pollutant.value}"
    if market.basin_code:
        return f"{market.right_type.value}:{market.basin_code}"
    return market.right_type.value


def check_family(family: str, *, field: str = "market_family") -> str:
    """``family`` if it is well formed (a known right, and a pollutant for pollutant rights)."""
    right, _, rest = family.partition(":")
    if right not in {r.value for r in RightType}:
        raise InvalidInput(f"unknown right in market family {family!r}", field=field)
    if right == RightType.POLLUTANT.value and rest not in {p.value for p in Pollutant}:
        raise InvalidInput(f"unknown pollutant in market family {family!r}", field=field)
    return family


def family_markets(session: Session, family: str) -> Sequence[Market]:
    """Every market of ``family``, by vintage."""
    right, _, rest = check_family(family).partition(":")
    query = select(Market).where(Market.right_type == RightType(right))
    if right == RightType.POLLUTANT.value:
        query = query.where(Market.pollutant == Pollutant(rest))
    elif rest:
        query = query.where(Market.basin_code == rest)
    else:
        query = query.where(Market.basin_code.is_(None))
    return session.scalars(query.order_by(Market.vintage, Market.id)).all()


def vintage_market(session: Session, family: str, year: int) -> Market | None:
    """The market of ``family`` for vintage ``year``, or ``None`` if none is registered."""
    for market in family_markets(session, family):
        if market.vintage == str(year):
            return market
    return None
