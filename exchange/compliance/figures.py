"""Verified figures (the regulator's), objections (the league's, once) and monthly reports.

A figure is *final* once the regulator has decided an objection to it, or once
its objection window (``objection_days`` working days after it was entered)
has passed without one. The regulator may re-enter a figure until then, unless
an objection is pending: that is answered by a decision.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from exchange.compliance.calendar import add_working_days
from exchange.compliance.commands import DecideObjection, EnterFigure, FileObjection, ReportMonthly
from exchange.compliance.periods import get_period
from exchange.errors import Conflict, InvalidInput, NotFound
from exchange.models import (
    CompliancePeriod,
    League,
    MarketLeague,
    MonthlyFigure,
    Objection,
    PeriodStatus,
    VerifiedFigure,
)


def obligated_leagues(session: Session, period: CompliancePeriod) -> list[str]:
    """The leagues with an obligation: those eligible for the period's vintage market."""
    return sorted(
        session.scalars(
            select(MarketLeague.league_code).where(MarketLeague.market_id == period.market_id)
        )
    )


def _open_period(session: Session, period_id: int) -> CompliancePeriod:
    period = get_period(session, period_id, lock=True)
    if period.status != PeriodStatus.OPEN:
        raise Conflict("the period is closed", code="period_closed")
    return period


def _obligated(session: Session, period: CompliancePeriod, league: str) -> None:
    if session.get(League, league) is None:
        raise NotFound(f"unknown league {league!r}", code="league_not_found")
    if league not in obligated_leagues(session, period):
        raise InvalidInput(f"league {league!r} has no obligation in this period", field="league")


def figure_of(session: Session, period_id: int, league: str) -> VerifiedFigure | None:
    return session.scalar(
        select(VerifiedFigure).where(
            VerifiedFigure.period_id == period_id, VerifiedFigure.league_code == league
        )
    )


def objection_of(session: Session, figure: VerifiedFigure) -> Objection | None:
    return session.scalar(select(Objection).where(Objection.figure_id == figure.id))


def objection_deadline(period: CompliancePeriod, figure: VerifiedFigure) -> date:
    """The last day the league may object to ``figure``."""
    return add_working_days(figure.entered_on, period.objection_days)


def is_final(
    period: CompliancePeriod, figure: VerifiedFigure, objection: Objection | None, today: date
) -> bool:
    if figure.final:
        return True
    return objection is None and today > objection_deadline(period, figure)


def enter_figure(session: Session, command: EnterFigure) -> VerifiedFigure:
    """The regulator enters (or, before it is final, corrects) a league's verified figure."""
    period = _open_period(session, command.period_id)
    _obligated(session, period, command.league)
    if command.verified is None and not command.excluded:
        raise InvalidInput(
            "a verified figure is needed unless the league is excluded", field="verified"
        )
    figure = figure_of(session, period.id, command.league)
    if figure is None:
        figure = VerifiedFigure(period_id=period.id, league_code=command.league)
        session.add(figure)
    else:
        objection = objection_of(session, figure)
        if is_final(period, figure, objection, command.today):
            raise Conflict("the verified figure is final", code="figure_final")
        if objection is not None:
            raise Conflict(
                "an objection to this figure is pending: decide it instead",
                code="objection_pending",
            )
    figure.verified = None if command.excluded else command.verified
    figure.excluded = command.excluded
    figure.evidence = command.evidence
    figure.entered_on = command.today
    figure.entered_by = command.actor
    figure.final = False
    session.flush()
    return figure


def file_objection(session: Session, command: FileObjection) -> Objection:
    """The league objects to its verified figure: once, within the window."""
    period = _open_period(session, command.period_id)
    figure = figure_of(session, period.id, command.league)
    if figure is None or figure.excluded:
        raise InvalidInput("there is no verified figure to object to", field="league")
    if objection_of(session, figure) is not None:
        raise Conflict("this figure has been objected to already", code="objection_exists")
    deadline = objection_deadline(period, figure)
    if figure.final or command.today > deadline:
        raise Conflict(
            f"the objection window closed on {deadline.isoformat()}",
            code="objection_window_closed",
            details={"deadline": deadline.isoformat()},
        )
    objection = Objection(
        figure_id=figure.id,
        league_code=command.league,
        reason=command.reason,
        proposed=command.proposed,
        filed_on=command.today,
    )
    session.add(objection)
    session.flush()
    return objection


def decide_objection(session: Session, command: DecideObjection) -> Objection:
    """The regulator decides an objection; the figure is final afterwards."""
    period = _open_period(session, command.period_id)
    objection = session.get(Objection, command.objection_id, with_for_update=True)
    figure = None if objection is None else session.get(VerifiedFigure, objection.figure_id)
    if objection is None or figure is None or figure.period_id != period.id:
        raise NotFound(f"no objection {command.objection_id} in this period", code="not_found")
    if objection.decision is not None:
        raise Conflict("this objection has been decided", code="objection_decided")
    if command.decision == "accepted":
        if command.verified is None:
            raise InvalidInput(
                "an accepted objection needs the new verified figure", field="verified"
            )
        figure.verified = command.verified
    objection.decision = command.decision
    objection.decided_on = command.today
    objection.decided_by = command.actor
    figure.final = True
    session.flush()
    return objection


def objection_json(period: CompliancePeriod, objection: Objection) -> dict[str, Any]:
    due = add_working_days(objection.filed_on, period.decision_days)
    return {
        "id": objection.id,
        "league": objection.league_code,
        "reason": objection.reason,
        "proposed": objection.proposed,
        "filed_on": objection.filed_on.isoformat(),
        "decision_due": due.isoformat(),
        "decision": objection.decision,
        "decided_on": objection.decided_on.isoformat() if objection.decided_on else None,
        "late": objection.decided_on is not None and objection.decided_on > due,
    }


def list_objections(
    session: Session, period_id: int, league: str | None = None
) -> list[dict[str, Any]]:
    period = get_period(session, period_id)
    query = (
        select(Objection)
        .join(VerifiedFigure, VerifiedFigure.id == Objection.figure_id)
        .where(VerifiedFigure.period_id == period_id)
        .order_by(Objection.id)
    )
    if league is not None:
        query = query.where(Objection.league_code == league)
    return [objection_json(period, o) for o in session.scalars(query)]


def report_monthly(session: Session, command: ReportMonthly) -> MonthlyFigure:
    """The league reports (or corrects) its unverified figure for one month."""
    period = _open_period(session, command.period_id)
    _obligated(session, period, command.league)
    row = session.scalar(
        select(MonthlyFigure).where(
            MonthlyFigure.period_id == period.id,
            MonthlyFigure.league_code == command.league,
            MonthlyFigure.month == command.month,
        )
    )
    if row is None:
        row = MonthlyFigure(period_id=period.id, league_code=command.league, month=command.month)
        session.add(row)
    row.quantity = command.quantity
    session.flush()
    return row


def monthly_figures(session: Session, period_id: int, league: str) -> Sequence[MonthlyFigure]:
    return session.scalars(
        select(MonthlyFigure)
        .where(MonthlyFigure.period_id == period_id, MonthlyFigure.league_code == league)
        .order_by(MonthlyFigure.month)
    ).all()
