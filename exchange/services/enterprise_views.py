"""The local authority's read-only view of an enterprise: what it holds and where it
stands in each compliance period (never its orders: those are sealed bids).

Seen by the regulator and auditors, by the officials of the enterprise's league, and by
the enterprise's own representatives (any rights); another league's users get 404.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

import ledger
from exchange.errors import NotFound
from exchange.identity.actor import Actor
from exchange.models import League, Market, ParticipantKind, Role


def may_view(actor: Actor, participant: League) -> bool:
    """Who sees an enterprise's holdings and compliance status."""
    if actor.role in (Role.REGULATOR, Role.AUDITOR):
        return True
    if actor.role is Role.LEAGUE:
        return actor.league_code in (participant.code, participant.parent_code)
    return actor.role is Role.REPRESENTATIVE and actor.participant == participant.code


def holdings(
    session: Session,
    actor: Actor,
    code: str,
    today: date,
    statuses: Callable[[Session, str, date], list[dict[str, Any]]],
) -> dict[str, Any]:
    """``{participant, league, status, balances, compliance}`` of ``code``; ``statuses``
    gives its compliance status per period (``exchange.compliance.status.statuses_of``,
    passed in: compliance builds on the services, not the other way round)."""
    participant = session.get(League, code)
    if participant is None or not may_view(actor, participant):
        raise NotFound(f"no participant {code!r}", field="code")
    markets = {ledger.market_asset(m.id): m.code for m in session.scalars(select(Market))}
    balances = [
        {
            "asset": b.asset,
            "market": markets.get(b.asset),
            "posted": b.posted,
            "held": b.held,
            "available": b.available,
        }
        for b in ledger.balances(session, code)
    ]
    return {
        "participant": code,
        "kind": participant.kind,
        "league": participant.parent_code,
        "status": participant.status,
        "balances": balances,
        "compliance": statuses(session, code, today),
    }


def league_overview(
    session: Session,
    actor: Actor,
    league: str,
    today: date,
    statuses: Callable[[Session, str, date], list[dict[str, Any]]],
) -> list[Any]:
    """The holdings of every enterprise of ``league`` (its officials' page)."""
    codes = session.scalars(
        select(League.code)
        .where(League.parent_code == league, League.kind == ParticipantKind.ENTERPRISE.value)
        .order_by(League.code)
    ).all()
    return [holdings(session, actor, code, today, statuses) for code in codes]


def enterprises_of(session: Session, league: str) -> list[League]:
    """A league's enterprises, by code."""
    return list(
        session.scalars(select(League).where(League.parent_code == league).order_by(League.code))
    )
