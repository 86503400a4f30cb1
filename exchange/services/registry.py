"""Registry use cases: leagues, basins and markets."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from exchange import mechanisms
from exchange.errors import Conflict, InvalidInput, NotFound
from exchange.mechanisms.call_auction import stability
from exchange.models import (
    Basin,
    League,
    LeagueBasin,
    Market,
    MarketLeague,
    MarketStatus,
    ParticipantKind,
    RightType,
    TransferLimit,
)
from exchange.services.commands import CreateMarket, EligibleLeague, TransferLimitSpec


def list_leagues(session: Session) -> Sequence[League]:
    """All leagues (and the reserve and other provinces' participants; enterprises are
    listed by ``/api/v1/participants``), ordered by region then code."""
    query = select(League).where(League.kind != ParticipantKind.ENTERPRISE.value)
    return session.scalars(query.order_by(League.region, League.code)).all()


def get_league(session: Session, code: str) -> League:
    """One league by code, or ``NotFound``."""
    league = session.get(League, code)
    if league is None or league.kind == ParticipantKind.ENTERPRISE.value:
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


def create_market(session: Session, command: CreateMarket) -> Market:
    """Register a market; checks what needs the database. Never commits.

    Eligible leagues default to the leagues of the market's basin (or all leagues);
    each league's zone defaults to its own code. Transfer limits must join zones
    of eligible leagues. The mechanism must be registered.
    """
    if command.mechanism not in mechanisms.names():
        raise InvalidInput(f"unknown mechanism {command.mechanism!r}", field="mechanism")
    terms = mechanisms.get(command.mechanism).market_terms(command)
    if session.scalar(select(Market.id).where(Market.code == command.code)) is not None:
        raise Conflict(f"a market with code {command.code!r} exists", field="code")
    basin = command.basin
    if basin is not None and session.get(Basin, basin) is None:
        raise InvalidInput(f"unknown basin {basin!r}", field="basin")
    eligibility = _eligibility(session, command.eligible_leagues, basin)
    rules = {k: getattr(command, k) for k in (*stability.SETTINGS, "reserve_code")}
    stability.check_settings(
        session, mechanism=command.mechanism, lot=command.lot, tick=command.tick,
        zonal=bool(command.transfer_limits), values=rules,
    )  # fmt: skip
    market = Market(
        code=command.code,
        name_zh=command.name_zh,
        name_en=command.name_en,
        right_type=command.right_type,
        pollutant=command.pollutant,
        basin_code=basin,
        vintage=command.vintage,
        unit=command.unit,
        lot=command.lot,
        tick=command.tick,
        price_floor=command.price_floor,
        price_ceiling=command.price_ceiling,
        cap=command.cap,
        mechanism=command.mechanism,
        status=command.status,
        description=command.description,
        description_zh=command.description_zh,
        eligibility=[MarketLeague(league_code=c, zone=z) for c, z in eligibility],
        links=_links(command.transfer_limits, {zone for _, zone in eligibility}),
        **rules,
        **terms,
    )
    session.add(market)
    session.flush()
    return market


def _links(limits: Sequence[TransferLimitSpec], zones: set[str]) -> list[TransferLimit]:
    links = []
    seen: set[tuple[str, str]] = set()
    for index, link in enumerate(limits):
        for end in (link.from_zone, link.to_zone):
            if end not in zones:
                raise InvalidInput(
                    f"transfer_limits[{index}]: zone {end!r} is not a zone of an "
                    f"eligible league ({', '.join(sorted(zones))})",
                    field="transfer_limits",
                )
        key = (link.from_zone, link.to_zone)
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
        if type(link.loss) is not int or not 0 <= link.loss < 1000:
            raise InvalidInput(
                f"transfer_limits[{index}]: loss is per mille, 0-999", field="transfer_limits"
            )
        links.append(
            TransferLimit(
                from_zone=key[0], to_zone=key[1], capacity=link.capacity, loss_permille=link.loss
            )
        )
    return links


def _eligibility(
    session: Session, requested: Sequence[EligibleLeague] | None, basin: str | None
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
        code = item.league
        if code not in known:
            raise InvalidInput(
                f"eligible_leagues[{index}]: unknown league {code!r}", field="eligible_leagues"
            )
        if any(code == c for c, _ in result):
            raise InvalidInput(
                f"eligible_leagues[{index}]: league {code!r} given twice", field="eligible_leagues"
            )
        result.append((code, item.zone or code))
    return result
