"""Seed the demo's compensation agreement, its 24 monthly readings; settle them and return
what is left of the deposits (the term is over)."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from exchange.compensation.agreements import enter_reading, register_agreement
from exchange.compensation.commands import SCHEDULE, EnterReading, RegisterAgreement, Settle
from exchange.compensation.deposits import release_deposits
from exchange.compensation.settlement import settle
from exchange.data import demo_compensation as data
from exchange.models import CompensationAgreement, League

ACTOR = "demo"


def seed_demo_compensation(session: Session) -> str | None:
    """Once (no agreement yet, both leagues present): register, read, settle; a summary."""
    if session.scalar(select(func.count()).select_from(CompensationAgreement)):
        return None
    terms = data.AGREEMENT
    if any(session.get(League, terms[side]) is None for side in ("upstream", "downstream")):
        return None
    agreement = register_agreement(session, RegisterAgreement(actor=ACTOR, **terms))
    rows = data.readings()
    for row in rows:
        enter_reading(
            session,
            EnterReading(
                agreement_id=agreement.id,
                period=row["period"],
                measured_class=row["class"],
                concentrations=row["indicators"],
                actor=ACTOR,
            ),
        )
    total = 0
    for row in rows:
        outcome = settle(session, Settle(agreement.id, row["period"], ACTOR, trigger=SCHEDULE))
        total += outcome.settlement.total
    release_deposits(session, agreement.id, actor=ACTOR)  # the term (2024-2025) is over
    return (
        f"compensation: agreement {agreement.id} ({terms['upstream']} -> {terms['downstream']}), "
        f"{len(rows)} monthly readings settled, net {total / 100:,.2f} yuan downstream to upstream"
    )
