"""Seed the demo's synthetic enterprises (``exchange.data.demo_enterprises``).

Each is requested by one demo official and approved by another (the same four-eyes
path as the API), then receives part of its league's demo allocation (a league passes
quota down to its enterprises: a ledger transfer from the league's account) and cash.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

import ledger
from exchange.data import demo_enterprises
from exchange.identity.actor import Actor
from exchange.models import League, Market, ParticipantKind, Role
from exchange.services import enterprises

REQUESTER = Actor(username="demo-registrar", role=Role.REGULATOR)
APPROVER = Actor(username="demo-approver", role=Role.REGULATOR)


def seed_demo_enterprises(session: Session) -> str | None:
    """Open the demo enterprises unless any enterprise exists; a line for the CLI."""
    exists = session.scalar(
        select(League.code).where(League.kind == ParticipantKind.ENTERPRISE.value).limit(1)
    )
    if exists is not None or session.get(League, "ordos") is None:
        return None
    markets = {m.code: m for m in session.scalars(select(Market))}
    for item in demo_enterprises.ENTERPRISES:
        command = enterprises.OpenEnterprise(
            item["code"], item["league"], item["name_zh"], item["name_en"], item["sector"],
            item["credit_code"], synthetic=True,
        )  # fmt: skip
        enterprises.request_enterprise(session, REQUESTER, command)
        enterprises.approve_enterprise(session, APPROVER, item["code"])
        for market_code, quantity in item["holdings"].items():
            market = markets.get(market_code)
            if market is None:
                continue
            asset = ledger.market_asset(market.id)
            ledger.transfer(
                session,
                source=ledger.league_account(item["league"], asset),
                target=ledger.league_account(item["code"], asset),
                amount=quantity,
                reference=f"sub-allocation:demo:{item['code']}",
                actor="demo",
            )
        ledger.deposit_cash(
            session, league=item["code"], amount=item["cash"], reference="deposit:demo",
            actor="demo",
        )  # fmt: skip
    return f"enterprises: {len(demo_enterprises.ENTERPRISES)} synthetic enterprises opened"
