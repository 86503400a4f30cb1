"""Surrender: a league gives up units of the period's vintage (and offsets) for good.

One ledger journal (kind ``surrender``) moves the units from the league's
available balance to the period's surrender account, which never gives
anything back (the ledger refuses any posting out of it). The period row is
locked first, so a surrender and the deadline snapshot never interleave: the
snapshot either counts a surrender or the surrender is refused. ``client_ref``
makes a retry harmless: the same request answers the first surrender again.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

import ledger
from exchange.compliance.commands import SurrenderUnits
from exchange.compliance.figures import figure_of
from exchange.compliance.periods import get_period, period_asset_owner
from exchange.compliance.status import surrendered_totals
from exchange.errors import Conflict, InvalidInput
from exchange.models import CompliancePeriod, PeriodStatus, Surrender
from exchange.services import enterprises
from exchange.services.ledger_ops import ledger_error


def surrender_json(row: Surrender) -> dict[str, Any]:
    return {
        "id": row.id,
        "period_id": row.period_id,
        "league": row.league_code,
        "quantity": row.quantity,
        "offsets": row.offsets,
        "client_ref": row.client_ref,
        "journal_id": row.journal_id,
        "created_at": row.created_at.isoformat(),
    }


def _existing(session: Session, command: SurrenderUnits) -> Surrender | None:
    return session.scalar(
        select(Surrender).where(
            Surrender.period_id == command.period_id,
            Surrender.league_code == command.league,
            Surrender.client_ref == command.client_ref,
        )
    )


def _check_limits(session: Session, period: CompliancePeriod, command: SurrenderUnits) -> None:
    if command.quantity + command.offsets <= 0:
        raise InvalidInput("surrender at least one unit or offset", field="quantity")
    figure = figure_of(session, period.id, command.league)
    if figure is None or figure.verified is None:
        raise Conflict(
            "there is no verified figure to surrender against yet", code="no_verified_figure"
        )
    units, offsets = surrendered_totals(session, period.id).get(command.league, (0, 0))
    due = figure.verified - units - offsets
    if command.quantity + command.offsets > due:
        raise Conflict(
            f"over-surrender: {due} remain due, {command.quantity + command.offsets} offered",
            code="over_surrender",
            field="quantity",
            details={"due": due},
        )
    if command.offsets:
        if period.offset_market_id is None:
            raise InvalidInput("this period accepts no offsets", field="offsets")
        limit = figure.verified * period.offset_percent // 100
        if offsets + command.offsets > limit:
            raise InvalidInput(
                f"offsets over the limit: at most {limit} ({period.offset_percent} % of the "
                f"verified figure), {offsets} already surrendered",
                field="offsets",
                code="offsets_over_limit",
            )


def surrender(session: Session, command: SurrenderUnits) -> tuple[Surrender, bool]:
    """Surrender for a league; returns the row and whether it is new (False: a retry)."""
    period = get_period(session, command.period_id, lock=True)
    existing = _existing(session, command)
    if existing is not None:
        if (existing.quantity, existing.offsets) != (command.quantity, command.offsets):
            raise Conflict(
                "client_ref was used for another surrender",
                code="client_ref_reused",
                field="client_ref",
            )
        return existing, False
    if period.status != PeriodStatus.OPEN:
        raise Conflict("the period is closed", code="period_closed")
    enterprises.require_state(session, command.league, enterprises.SURRENDER)
    if command.today > period.surrender_deadline:
        raise Conflict(
            f"the surrender deadline ({period.surrender_deadline.isoformat()}) has passed",
            code="deadline_passed",
        )
    _check_limits(session, period, command)
    owner = period_asset_owner(period)
    postings: list[ledger.PostingSpec] = []
    for market_id, amount in (
        (period.market_id, command.quantity),
        (period.offset_market_id, command.offsets),
    ):
        if amount and market_id is not None:
            asset = ledger.market_asset(market_id)
            postings += [
                ledger.PostingSpec(ledger.league_account(command.league, asset), -amount),
                ledger.PostingSpec(ledger.surrender_account(owner, asset), amount),
            ]
    reference = f"compliance:{period.id}:{command.league}:{command.client_ref}"
    try:
        journal_id = ledger.post_journal(
            session,
            ledger.JournalSpec(ledger.JournalKind.SURRENDER, reference, command.actor, postings),
        )
    except ledger.LedgerError as err:
        raise ledger_error(err) from None
    row = Surrender(
        period_id=period.id,
        league_code=command.league,
        quantity=command.quantity,
        offsets=command.offsets,
        client_ref=command.client_ref,
        journal_id=journal_id,
    )
    session.add(row)
    session.flush()
    return row, True
