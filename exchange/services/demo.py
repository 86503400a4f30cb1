"""Seed the demo (idempotent): registry first, then each later area's demo data."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from exchange.data import demo_registry
from exchange.models import Basin, League, Market, Region
from exchange.services.commands import CreateMarket
from exchange.services.registry import create_market


def seed_registry(session: Session) -> bool:
    """Insert the demo basins, leagues and markets unless leagues exist; True if seeded."""
    if session.scalar(select(func.count()).select_from(League)):
        return False
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
    session.flush()
    for item in demo_registry.MARKETS:
        if session.scalar(select(Market.id).where(Market.code == item["code"])) is None:
            create_market(session, CreateMarket.from_data(item))
    return True


def seed_demo(session: Session, credentials_path: str | Path | None = None) -> list[str]:
    """Seed every part of the demo that is absent; returns what was done, for the CLI.

    With ``credentials_path``, also the demo users (one per league, a regulator,
    an auditor, an admin) and their logins and API tokens written to that file.
    """
    done = []
    if seed_registry(session):
        done.append(
            f"registry: {len(demo_registry.BASINS)} basins, {len(demo_registry.LEAGUES)} "
            f"leagues, {len(demo_registry.MARKETS)} markets"
        )
    from exchange.services.demo_ledger import seed_demo_ledger

    if allocations := seed_demo_ledger(session):
        done.append(allocations)
    from exchange.services.demo_stability import seed_demo_stability

    if rules := seed_demo_stability(session):
        done.append(rules)
    from exchange.compensation.demo import seed_demo_compensation

    if compensation := seed_demo_compensation(session):
        done.append(compensation)
    from exchange.services.demo_transfers import seed_demo_diversion, seed_demo_transfers

    if demo_transfers := seed_demo_transfers(session):
        done.append(demo_transfers)
    if diversion := seed_demo_diversion(session):
        done.append(diversion)
    from exchange.services.demo_enterprises import seed_demo_enterprises

    if opened := seed_demo_enterprises(session):
        done.append(opened)
    if credentials_path is not None:
        from exchange.identity.demo import seed_identity

        users = seed_identity(session, credentials_path)
        if users:
            done.append(users)
    return done
