"""Compliance pages: the public report, the league's compliance desk, the regulator's console.

- ``/compliance`` and ``/compliance/<id>``: every period; one period's public table
  (verified figure, surrendered, status per league; CSV from the API);
- ``/desk/compliance``: a league's status, forecast (with its chart) and surrender
  form for each open period, and its monthly figures;
- ``/regulator/compliance/<id>``: every league by risk, verified-figure entry and the
  objections to decide (regulator; the auditor reads).
"""

from __future__ import annotations

import secrets
from datetime import UTC, datetime
from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_wtf import FlaskForm
from werkzeug.wrappers import Response as BaseResponse
from wtforms import HiddenField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from exchange.api.access import Actor, Role
from exchange.compliance import figures, figures_csv, forecast, periods, report, surrenders
from exchange.compliance.commands import (
    DecideObjection,
    EnterFigure,
    FileObjection,
    ReportMonthly,
    SurrenderUnits,
)
from exchange.errors import ExchangeError
from exchange.extensions import db
from exchange.models import PeriodStatus
from exchange.uow import unit_of_work
from exchange.web.access import pages_for
from exchange.web.compliance_chart import forecast_chart, risk_chart
from exchange.web.errors import html_errors
from exchange.web.formatting import parse_quantity, quantity
from exchange.web.names import league_name

compliance_pages = Blueprint("compliance_pages", __name__)
html_errors(compliance_pages)


class SurrenderForm(FlaskForm):  # type: ignore[misc]
    quantity = StringField("quantity", validators=[DataRequired(), Length(1, 24)])
    offsets = StringField("offsets", validators=[Optional(), Length(1, 24)])
    # drawn when the form is shown: a form sent twice (a double click, a resend) is one
    # surrender, found again by this reference
    client_ref = HiddenField("client_ref", validators=[Optional(), Length(1, 64)])


def _surrender_form(period_id: int) -> SurrenderForm:
    form = SurrenderForm(formdata=None, prefix=f"p{period_id}")
    form.client_ref.data = f"desk-{secrets.token_hex(12)}"
    return form


class MonthlyForm(FlaskForm):  # type: ignore[misc]
    month = SelectField("month", choices=[str(m) for m in range(1, 13)])
    quantity = StringField("quantity", validators=[DataRequired(), Length(1, 24)])


class ObjectionForm(FlaskForm):  # type: ignore[misc]
    reason = StringField("reason", validators=[DataRequired(), Length(1, 1000)])
    proposed = StringField("proposed", validators=[Optional(), Length(1, 24)])


class FigureForm(FlaskForm):  # type: ignore[misc]
    league = SelectField("league", validators=[DataRequired()])
    verified = StringField("verified", validators=[DataRequired(), Length(1, 24)])
    evidence = StringField("evidence", validators=[Optional(), Length(1, 500)])


class FiguresCsvForm(FlaskForm):  # type: ignore[misc]
    csv = TextAreaField("csv", validators=[DataRequired(), Length(1, 200_000)])


class DecisionForm(FlaskForm):  # type: ignore[misc]
    decision = SelectField("decision", choices=["accepted", "rejected"])
    verified = StringField("verified", validators=[Optional(), Length(1, 24)])


def _today() -> Any:
    return datetime.now(UTC).date()


def refusal_text(exc: ExchangeError) -> str:
    """A compliance refusal in the page's language, by its stable code."""
    texts = {
        "over_surrender": _("That is more than remains due for this period."),
        "offsets_over_limit": _("Offsets over the period's limit."),
        "no_verified_figure": _("There is no verified figure to surrender against yet."),
        "period_closed": _("The period is closed."),
        "deadline_passed": _("The surrender deadline has passed."),
        "insufficient_funds": _("You do not hold that many available units."),
        "figure_final": _("The verified figure is final."),
        "objection_pending": _("An objection to this figure is pending: decide it instead."),
        "objection_decided": _("This objection has been decided."),
        "objection_window_closed": _("The objection window has closed."),
        "objection_exists": _("This figure has been objected to already."),
        "not_obligated": _("This league has no obligation in this period."),
        "duplicate": _("This league appears twice."),
        "not_a_number": _("Not a whole number of units."),
        "evidence_too_long": _("Evidence: at most 500 characters."),
    }
    return texts.get(exc.code, _("The request was refused (%(code)s).", code=exc.code))


@compliance_pages.get("/compliance")
def index() -> str:
    """Every compliance period, newest first (public)."""
    session = db.session
    rows = [periods.period_json(session, p) for p in periods.list_periods(session)]
    return render_template("compliance/index.html", periods=rows)


@compliance_pages.get("/compliance/<int:period_id>")
def public_report(period_id: int) -> str:
    """One period's public compliance table (the EU transaction log's compliance table)."""
    data = report.public_report(db.session, period_id, _today())
    return render_template("compliance/report.html", data=data)


def _desk_periods(league: str) -> list[dict[str, Any]]:
    session = db.session
    items = []
    for period in periods.list_periods(session):
        if period.status != PeriodStatus.OPEN:
            continue
        if league not in figures.obligated_leagues(session, period):
            continue
        row = forecast.forecast(session, period.id, league, _today())["leagues"][0]
        figure = figures.figure_of(session, period.id, league)
        objections = figures.list_objections(session, period.id, league)
        can_object = (
            figure is not None
            and not figure.excluded
            and not objections
            and not figures.is_final(period, figure, None, _today())
        )
        items.append(
            {
                "period": periods.period_json(session, period),
                "forecast": row,
                "chart": forecast_chart(row),
                "form": _surrender_form(period.id),
                "monthly_form": MonthlyForm(formdata=None, prefix=f"m{period.id}"),
                "objection_form": ObjectionForm(formdata=None, prefix=f"o{period.id}"),
                "objections": objections,
                "objection_deadline": (
                    figures.objection_deadline(period, figure).isoformat()
                    if can_object and figure
                    else None
                ),
            }
        )
    return items


@compliance_pages.get("/desk/compliance")
@pages_for(Role.LEAGUE)
def desk(actor: Actor) -> str:
    """The league's open periods: status, forecast, surrender."""
    from exchange.web.paid_use_pages import desk_bills

    league = actor.league_code or ""
    return render_template(
        "compliance/desk.html", items=_desk_periods(league), bills=desk_bills(league)
    )


@compliance_pages.post("/desk/compliance/<int:period_id>/surrender")
@pages_for(Role.LEAGUE)
def surrender(period_id: int, actor: Actor) -> BaseResponse | str:
    """Surrender units (and offsets) against a period: gone for good."""
    form = SurrenderForm(prefix=f"p{period_id}")
    if form.validate():
        try:
            units = parse_quantity(form.quantity.data)
            offsets = parse_quantity(form.offsets.data) if form.offsets.data else 0
        except ValueError as exc:
            flash(str(exc), "error")
            return redirect(url_for("compliance_pages.desk"))
        ref = form.client_ref.data or f"desk-{secrets.token_hex(12)}"
        command = SurrenderUnits(
            period_id, actor.league_code or "", units, offsets, ref[:64], actor.username,
            _today(),
        )  # fmt: skip
        try:
            with unit_of_work(db.session) as session:
                row, _created = surrenders.surrender(session, command)
        except ExchangeError as exc:
            flash(refusal_text(exc), "error")
        else:
            flash(
                _(
                    "Surrendered %(quantity)s units and %(offsets)s offsets for good "
                    "(journal %(journal)s).",
                    quantity=quantity(row.quantity),
                    offsets=quantity(row.offsets),
                    journal=row.journal_id,
                ),
                "success",
            )
    else:
        flash(_("Please correct the fields marked below."), "error")
    return redirect(url_for("compliance_pages.desk"))


@compliance_pages.post("/desk/compliance/<int:period_id>/monthly")
@pages_for(Role.LEAGUE)
def report_monthly(period_id: int, actor: Actor) -> BaseResponse:
    """Report (or correct) the league's unverified figure for one month."""
    form = MonthlyForm(prefix=f"m{period_id}")
    if not form.validate():
        flash(_("Please correct the fields marked below."), "error")
        return redirect(url_for("compliance_pages.desk"))
    try:
        value = parse_quantity(form.quantity.data)
        command = ReportMonthly(period_id, actor.league_code or "", int(form.month.data), value)
        with unit_of_work(db.session) as session:
            figures.report_monthly(session, command)
    except ValueError as exc:
        flash(str(exc), "error")
    except ExchangeError as exc:
        flash(refusal_text(exc), "error")
    else:
        flash(_("Monthly figure saved."), "success")
    return redirect(url_for("compliance_pages.desk"))


@compliance_pages.post("/desk/compliance/<int:period_id>/objections")
@pages_for(Role.LEAGUE)
def object_to_figure(period_id: int, actor: Actor) -> BaseResponse:
    """Object to the league's verified figure: once, within the window."""
    form = ObjectionForm(prefix=f"o{period_id}")
    if not form.validate():
        flash(_("Please correct the fields marked below."), "error")
        return redirect(url_for("compliance_pages.desk"))
    try:
        proposed = parse_quantity(form.proposed.data) if form.proposed.data else None
        command = FileObjection(
            period_id, actor.league_code or "", form.reason.data, _today(), proposed
        )
        with unit_of_work(db.session) as session:
            figures.file_objection(session, command)
    except ValueError as exc:
        flash(str(exc), "error")
    except ExchangeError as exc:
        flash(refusal_text(exc), "error")
    else:
        flash(_("Objection filed; the regulator decides."), "success")
    return redirect(url_for("compliance_pages.desk"))


def _console(
    period_id: int,
    actor: Actor,
    figure_form: FigureForm | None = None,
    csv_form: FiguresCsvForm | None = None,
    preview: list[dict[str, Any]] | None = None,
) -> str:
    session = db.session
    period = periods.get_period(session, period_id)
    data = forecast.forecast(session, period_id, None, _today())
    form = figure_form or FigureForm(formdata=None)
    form.league.choices = figures.obligated_leagues(session, period)
    objections = figures.list_objections(session, period_id)
    return render_template(
        "compliance/console.html",
        data=data,
        form=form,
        objections=objections,
        decision_form=DecisionForm(formdata=None),
        csv_form=csv_form or FiguresCsvForm(formdata=None),
        risk_svg=risk_chart(data["leagues"], league_name),
        preview=preview,
        can_write=actor.role is Role.REGULATOR,
    )


@compliance_pages.get("/regulator/compliance/<int:period_id>")
@pages_for(Role.REGULATOR, Role.AUDITOR)
def console(period_id: int, actor: Actor) -> str:
    """Every league of the period by risk, figures and objections."""
    return _console(period_id, actor)


@compliance_pages.post("/regulator/compliance/<int:period_id>/figures")
@pages_for(Role.REGULATOR)
def enter_figure(period_id: int, actor: Actor) -> BaseResponse | str:
    """Enter a league's verified figure."""
    form = FigureForm()
    form.league.choices = figures.obligated_leagues(
        db.session, periods.get_period(db.session, period_id)
    )
    if form.validate():
        try:
            verified = parse_quantity(form.verified.data)
            command = EnterFigure(
                period_id, form.league.data, verified, form.evidence.data or "", actor.username,
                _today(),
            )  # fmt: skip
            with unit_of_work(db.session) as session:
                figures.enter_figure(session, command)
        except ValueError as exc:
            form.verified.errors = [str(exc)]
        except ExchangeError as exc:
            form.verified.errors = [refusal_text(exc)]
        else:
            flash(_("Verified figure saved."), "success")
            return redirect(url_for("compliance_pages.console", period_id=period_id))
    flash(_("Please correct the fields marked below."), "error")
    return _console(period_id, actor, form)


@compliance_pages.post("/regulator/compliance/<int:period_id>/figures.csv")
@pages_for(Role.REGULATOR)
def figures_from_csv(period_id: int, actor: Actor) -> BaseResponse | str:
    """Verified figures from CSV: a checked preview first, then all rows or none."""
    form = FiguresCsvForm()
    if not form.validate():
        flash(_("Please correct the fields marked below."), "error")
        return _console(period_id, actor, csv_form=form)
    text = form.csv.data or ""
    try:
        rows = figures_csv.preview(db.session, period_id, text, _today())
    except ExchangeError as exc:
        form.csv.errors = [refusal_text(exc)]
        return _console(period_id, actor, csv_form=form)
    if request.form.get("confirm") and not any(r.error for r in rows):
        try:
            with unit_of_work(db.session) as session:
                figures_csv.import_figures(
                    session, period_id, text, actor=actor.username, today=_today()
                )
        except ExchangeError as exc:
            form.csv.errors = [refusal_text(exc)]
        else:
            flash(_("%(count)s verified figures saved.", count=len(rows)), "success")
            return redirect(url_for("compliance_pages.console", period_id=period_id))
    return _console(period_id, actor, csv_form=form, preview=[r.as_json() for r in rows])


@compliance_pages.post("/regulator/compliance/<int:period_id>/objections/<int:objection_id>")
@pages_for(Role.REGULATOR)
def decide(period_id: int, objection_id: int, actor: Actor) -> BaseResponse:
    """Decide an objection (the figure is final afterwards)."""
    form = DecisionForm()
    if form.validate():
        try:
            verified = parse_quantity(form.verified.data) if form.verified.data else None
            command = DecideObjection(
                period_id, objection_id, form.decision.data, actor.username, _today(), verified
            )
            with unit_of_work(db.session) as session:
                figures.decide_objection(session, command)
        except ValueError as exc:
            flash(str(exc), "error")
        except ExchangeError as exc:
            flash(refusal_text(exc), "error")
        else:
            flash(_("Decision recorded; the figure is final."), "success")
    return redirect(url_for("compliance_pages.console", period_id=period_id))


@compliance_pages.app_template_global("compliance_row_error")
def compliance_row_error(code: str) -> str:
    """A refused CSV row's reason in the page's language."""
    return refusal_text(ExchangeError(code, code=code))


@compliance_pages.app_template_global("compliance_status")
def compliance_status(code: str) -> str:
    """A status code (A, B, C, EXCLUDED, NOT_APPLICABLE) in words, in the page's language."""
    words = {
        "A": _("A: compliant"),
        "B": _("B: surrender missing"),
        "C": _("C: verified figure missing"),
        "EXCLUDED": _("Excluded"),
        "NOT_APPLICABLE": _("Not applicable"),
    }
    return words.get(code, code)


CALCULATOR_FIELDS = {
    "carbon": ("benchmark_milli", "output", "factor_permille"),
    "energy": ("new_use", "b_permille", "intensity_milli", "average_milli"),
}


def _calculate(kind: str, args: dict[str, str]) -> tuple[int | None, str | None]:
    """The calculator's result for the query ``args``, or the reason it cannot be computed."""
    from exchange.services import allocation_calculators

    values = {}
    for name in CALCULATOR_FIELDS[kind]:
        raw = (args.get(name) or "").strip()
        if not raw.isascii() or not raw.isdigit() or len(raw) > 12:
            return None, _("Enter whole numbers in every field.")
        values[name] = int(raw)
    try:
        if kind == "carbon":
            return allocation_calculators.carbon_intensity(**values), None
        return allocation_calculators.energy_use(**values), None
    except ExchangeError:
        return None, _("The adjustment factor is 300-1000 per mille; the average above zero.")


@compliance_pages.get("/regulator/calculators")
@pages_for(Role.REGULATOR)
def calculators(actor: Actor) -> str:
    """Allocation calculators; the result fills the console's allocation form (preview)."""
    from exchange.services import registry
    from exchange.web.forms import AllocationForm, choices
    from exchange.web.names import market_name

    kind = request.args.get("kind", "")
    result, error = (None, None)
    if kind in CALCULATOR_FIELDS:
        result, error = _calculate(kind, request.args.to_dict())
    form = AllocationForm(formdata=None, prefix="alloc", quantity=str(result or ""))
    form.league.choices = choices(
        [(lg.code, league_name(lg.code)) for lg in registry.list_leagues(db.session)]
    )
    form.market.choices = choices(
        [(m.code, f"{m.code} · {market_name(m.code)}") for m in registry.list_markets(db.session)]
    )
    return render_template(
        "compliance/calculators.html",
        kind=kind,
        args=request.args,
        result=result,
        error=error,
        allocation_form=form,
    )
