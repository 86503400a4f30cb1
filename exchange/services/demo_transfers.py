"""The demo's negotiated transfers of Yellow River water, one in each stage of their life.

Figures after the region's practice (FACTS.md, Water): the Hetao irrigation district's
saved water sold to industry at about 1.03 yuan per m3 per year, idle quota moved between
leagues. Years after 2027 have no market yet: they are delivered when allocated.
"""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from exchange.identity.actor import Actor
from exchange.models import Payment, Role, Transfer
from exchange.services import families, transfers

FAMILY = "water:yellow"
REVIEWER = Actor("demo-reviewer", Role.REGULATOR)
APPROVER = Actor("demo-approver", Role.REGULATOR)

# (seller, buyer, proposer, m3 per year, first, last, fen per m3 per year, payment, stage)
DEMO_TRANSFERS = (
    ("bayannur", "ordos", "ordos", 5_000_000, 2027, 2031, 103, Payment.YEARLY, "active"),
    ("alxa", "wuhai", "wuhai", 1_000_000, 2027, 2029, 95, Payment.UPFRONT, "reviewed"),
    ("bayannur", "baotou", "baotou", 2_000_000, 2027, 2029, 100, Payment.YEARLY, "accepted"),
    ("baotou", "hohhot", "baotou", 500_000, 2027, 2028, 110, Payment.YEARLY, "proposed"),
    ("ordos", "alxa", "ordos", 300_000, 2027, 2027, 90, Payment.YEARLY, "withdrawn"),
    ("wuhai", "ordos", "ordos", 400_000, 2027, 2028, 60, Payment.YEARLY, "rejected"),
)
STAGES = ("proposed", "accepted", "reviewed", "active")


def _league_actor(code: str) -> Actor:
    return Actor(f"demo-{code}", Role.LEAGUE, league_code=code)


def seed_demo_transfers(session: Session) -> str | None:
    """Add the demo transfers unless some transfer exists (or there is no Yellow River market)."""
    if session.scalar(select(func.count()).select_from(Transfer)):
        return None
    if families.vintage_market(session, FAMILY, 2027) is None:
        return None
    for index, row in enumerate(DEMO_TRANSFERS):
        seller, buyer, proposer, quantity, first, last, price, payment, stage = row
        transfer, _created = transfers.propose(
            session,
            transfers.ProposeTransfer(
                FAMILY, seller, buyer, quantity, first, last, price, payment, f"demo-{index + 1}"
            ),
            _league_actor(proposer),
        )
        counterparty = _league_actor(transfer.counterparty)
        action = transfers.TransferAction(transfer.id)
        if stage == "withdrawn":
            transfers.withdraw(session, action, _league_actor(proposer))
            continue
        if stage == "rejected":
            transfers.accept(session, action, counterparty)
            reason = transfers.TransferAction(transfer.id, "price far below the reference")
            transfers.reject(session, reason, REVIEWER)
            continue
        reached = STAGES.index(stage)
        if reached >= 1:
            transfers.accept(session, action, counterparty)
        if reached >= 2:
            transfers.review(session, action, REVIEWER)
        if reached >= 3:
            transfers.approve(session, action, APPROVER)
    return f"transfers: {len(DEMO_TRANSFERS)} Yellow River water transfers in various states"
