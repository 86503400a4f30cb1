"""Shortfall deductions, applied when a league's next allocation is made.

A compliance penalty with ``deduction > deducted`` (its period's rule deducts
shortfalls) takes units from the league's next allocations of the same market
family with a later vintage, oldest penalty first: one ``deduction`` journal
moves them from the league's fresh units to the old period's surrender account
(never to come back). Called once, by ``ledger_ops.allocate_many``, inside its
transaction. It lives here rather than in ``exchange.compliance`` because the
allocation service calls it, and ``exchange.compliance`` depends on
``exchange.services`` (no cycles between packages).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

import ledger
from exchange.models import CompliancePeriod, Deduction, Market, Penalty
from exchange.services.families import family_of


def _pending(session: Session, league: str, family: str, year: int) -> list[Penalty]:
    return list(
        session.scalars(
            select(Penalty)
            .join(CompliancePeriod, CompliancePeriod.id == Penalty.period_id)
            .where(
                Penalty.league_code == league,
                Penalty.deducted < Penalty.deduction,
                CompliancePeriod.market_family == family,
                CompliancePeriod.year < year,
            )
            .order_by(CompliancePeriod.year, Penalty.id)
            .with_for_update(of=Penalty)
        )
    )


def apply_compliance_deductions(
    session: Session, results: list[dict[str, Any]], *, actor: str
) -> None:
    """Deduct pending shortfalls from the allocations just issued (``results`` of
    ``allocate_many``); each result gains ``deducted`` (units taken back)."""
    markets: dict[str, Market | None] = {}
    for result in results:
        code = result["market"]
        if code not in markets:
            markets[code] = session.scalar(select(Market).where(Market.code == code))
        market = markets[code]
        result["deducted"] = 0
        if market is None or not market.vintage.isdigit():
            continue
        remaining = int(result["quantity"])
        asset = ledger.market_asset(market.id)
        for penalty in _pending(session, result["league"], family_of(market), int(market.vintage)):
            take = min(penalty.deduction - penalty.deducted, remaining)
            if take <= 0:
                break
            journal_id = ledger.post_journal(
                session,
                ledger.JournalSpec(
                    ledger.JournalKind.DEDUCTION,
                    f"compliance:{penalty.period_id}:{penalty.league_code}:deduction:"
                    f"{result['journal_id']}",
                    actor,
                    (
                        ledger.PostingSpec(
                            ledger.league_account(penalty.league_code, asset), -take
                        ),
                        ledger.PostingSpec(
                            ledger.surrender_account(f"period:{penalty.period_id}", asset), take
                        ),
                    ),
                ),
            )
            penalty.deducted += take
            session.add(
                Deduction(
                    penalty_id=penalty.id, market_id=market.id, quantity=take, journal_id=journal_id
                )
            )
            remaining -= take
            result["deducted"] += take
    session.flush()
