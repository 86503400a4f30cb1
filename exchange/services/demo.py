"""Seed the demo registry (idempotent): basins, the 12 leagues and the demo markets."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from exchange.api.schemas import MarketCreateSchema
from exchange.data import demo_registry
from exchange.db import transaction
from exchange.models import Basin, League, Market, Region
from exchange.services.registry import create_market


def seed_registry(session: Session) -> bool:
    """Insert the demo basins, leagues and markets unless leagues exist; True if seeded."""
    if session.scalar(select(func.count()).select_from(League)):
        return False
    with transaction(session):
        session.add_all(Basin(**basin) for basin in demo_registry.BASINS)
        session.flush()
        basins = {b.code: b for b in session.scalars(select(Basin))}
        for item in demo_registry.LEAGUES:
            session.add(
                League(
                    code=item["code"],
                    name_zh=item["name_zh"],
                    name_en=item["name_en"],
                    region=Region(item["region"]),
                    basins=[basins[code] for code in item["basins"]],
                )
            )
    schema = MarketCreateSchema()
    for item in demo_registry.MARKETS:
        if session.scalar(select(Market.id).where(Market.code == item["code"])) is None:
            create_market(session, schema.load(item))
    return True
