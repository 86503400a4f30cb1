"""Registry use cases: leagues, basins and markets."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from exchange.db import transaction
from exchange.errors import Conflict, InvalidInput, NotFound
from exchange.models import (
    Basin,
    League,
    LeagueBasin,
    Market,
    MarketLeague,
    MarketStatus,
    RightType,
    TransferLimit,
)


def list_leagues(session: Session) -> Sequence[League]:
    """All leagues, ordered by region then code."""
    return session.scalars(select(League).order_by(League.region, League.code)).all()


def get_league(session: Session, code: str) -> League:
    """One league by code, or ``NotFound``."""
    league = session.get(League, code)
    if league is None:
        raise NotFound(f"no league with code {code!r}", field="code")
    return league


def list_basins(session: Session) -> Sequence[Basin]:
    """All basins."""
    return session.scalars(select(Basin).order_by(Basin.code)).all()


def list_markets(
    session: Session,
    *,
    right_type: RightType | None = None,
    basin: str | None = None,
    status: MarketStatus | None = None,
) -> Sequence[Market]:
    """Markets, optionally filtered, ordered by id."""
    query = select(Market).order_by(Market.id)
    if right_type is not None:
        query = query.where(Market.right_type == right_type)
    if basin is not None:
        query = query.where(Market.basin_code == basin)
    if status is not None:
        query = query.where(Market.status == status)
    return session.scalars(query).all()


def get_market(session: Session, market_id: int) -> Market:
    """One market by id, or ``NotFound``."""
    market = session.get(Market, market_id)
    if market is None:
        raise NotFound(f"no market with id {market_id}", field="market_id")
    return market


def get_market_by_code(session: Session, code: str) -> Market:
    """One market by its code, or ``NotFound``."""
    market = session.scalar(select(Market).where(Market.code == code))
    if market is None:
        raise NotFound(f"no market with code {code!r}", field="market")
    return market


def create_market(session: Session, data: dict[str, Any]) -> Market:
    """Register a market from validated schema data; checks what needs the database.

    Eligible leagues default to the leagues of the market's basin (or all leagues);
    each league's zone defaults to its own code. Transfer limits must join zones
    of eligible leagues.
    """
    with transaction(session):
        if session.scalar(select(Market.id).where(Market.code == data["code"])) is not None:
            raise Conflict(f"a market with code {data['code']!r} exists", field="code")
        basin = data.get("basin")
        if basin is not None and session.get(Basin, basin) is None:
            raise InvalidInput(f"unknown basin {basin!r}", field="basin")

        eligibility = _eligibility(session, data.get("eligible_leagues"), basin)
        zones = {zone for _, zone in eligibility}
        links = []
        seen: set[tuple[str, str]] = set()
        for index, link in enumerate(data.get("transfer_limits") or []):
            for end in ("from_zone", "to_zone"):
                if link[end] not in zones:
                    raise InvalidInput(
                        f"transfer_limits[{index}]: zone {link[end]!r} is not a zone of an "
                        f"eligible league ({', '.join(sorted(zones))})",
                        field="transfer_limits",
                    )
            key = (link["from_zone"], link["to_zone"])
            if key[0] == key[1]:
                raise InvalidInput(
                    f"transfer_limits[{index}]: a link joins two different zones",
                    field="transfer_limits",
                )
            if key in seen:
                raise InvalidInput(
                    f"transfer_limits[{index}]: link {key[0]}->{key[1]} given twice",
                    field="transfer_limits",
                )
            seen.add(key)
            links.append(
                TransferLimit(from_zone=key[0], to_zone=key[1], capacity=link.get("capacity"))
            )

        market = Market(
            code=data["code"],
            name_zh=data["name_zh"],
            name_en=data["name_en"],
            right_type=data["right_type"],
            pollutant=data.get("pollutant"),
            basin_code=basin,
            vintage=data["vintage"],
            unit=data["unit"],
            lot=data["lot"],
            tick=data["tick"],
            price_floor=data.get("price_floor", 0),
            price_ceiling=data.get("price_ceiling"),
            cap=data["cap"],
            clearing_schedule=data["clearing_schedule"],
            status=data.get("status", MarketStatus.OPEN),
            description=data.get("description", ""),
            description_zh=data.get("description_zh", ""),
            eligibility=[MarketLeague(league_code=c, zone=z) for c, z in eligibility],
            links=links,
        )
        session.add(market)
        session.flush()
    return market


def _eligibility(
    session: Session, requested: list[dict[str, str]] | None, basin: str | None
) -> list[tuple[str, str]]:
    known = set(session.scalars(select(League.code)))
    if requested is None:
        query = select(League.code).order_by(League.code)
        if basin is not None:
            query = query.join(LeagueBasin).where(LeagueBasin.basin_code == basin)
        codes = list(session.scalars(query))
        if not codes:
            raise InvalidInput(
                "no league lies in this basin; list eligible_leagues", field="eligible_leagues"
            )
        return [(code, code) for code in codes]
    result: list[tuple[str, str]] = []
    for index, item in enumerate(requested):
        code = item["league"]
        if code not in known:
            raise InvalidInput(
                f"eligible_leagues[{index}]: unknown league {code!r}", field="eligible_leagues"
            )
        if any(code == c for c, _ in result):
            raise InvalidInput(
                f"eligible_leagues[{index}]: league {code!r} given twice", field="eligible_leagues"
            )
        result.append((code, item.get("zone") or code))
    return result
