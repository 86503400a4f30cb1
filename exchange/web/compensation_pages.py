"""Ecological compensation pages: the public report of each agreement (table, charts,
CSV) and the regulator's page to register agreements, enter readings and settle."""

from __future__ import annotations

import io
from decimal import Decimal, InvalidOperation
from typing import Any

from flask import Blueprint, Response, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_wtf import FlaskForm
from werkzeug.wrappers import Response as BaseResponse
from wtforms import SelectField, StringField
from wtforms.validators import DataRequired, Length, Optional

from exchange.api.access import Actor, Role
from exchange.compensation import agreements, formula, settlement
from exchange.compensation.commands import EnterReading, RegisterAgreement, Settle
from exchange.compensation.report import Report, build_report
from exchange.csv_safe import SafeWriter
from exchange.errors import ExchangeError
from exchange.extensions import db
from exchange.services import registry
from exchange.uow import unit_of_work
from exchange.web.access import pages_for
from exchange.web.compensation_charts import ROMAN, class_chart, cumulative_chart
from exchange.web.errors import html_errors
from exchange.web.formatting import page_language, paren, parse_yuan, yuan
from exchange.web.forms import UploadForm, choices
from exchange.web.messages import refusal
from exchange.web.names import league_name

compensation = Blueprint("compensation_pages", __name__)
html_errors(compensation)

FIELDS = {"COD": "cod", "NH3-N": "nh3n", "TP": "tp", "TN": "tn"}
"""Indicator -> form field (concentrations typed in mg/L, stored in ug/L)."""


def class_name(value: int | None) -> str:
    """A water-quality class as people write it: I-V, or "worse than V"."""
    if value is None:
        return "—"
    if value == formula.WORST_CLASS:
        return _("worse than V")
    return f"{ROMAN[value - 1]}类" if page_language() == "zh" else ROMAN[value - 1]


class _Indicators:
    cod = StringField("cod", validators=[Optional(), Length(1, 16)])
    nh3n = StringField("nh3n", validators=[Optional(), Length(1, 16)])
    tp = StringField("tp", validators=[Optional(), Length(1, 16)])
    tn = StringField("tn", validators=[Optional(), Length(1, 16)])


CLASS_CHOICES = [(str(c), c) for c in range(1, 7)]


class AgreementForm(_Indicators, FlaskForm):  # type: ignore[misc]
    upstream = SelectField("upstream", validators=[DataRequired()])
    downstream = SelectField("downstream", validators=[DataRequired()])
    section = StringField("section", validators=[DataRequired(), Length(1, 128)])
    target_class = SelectField("target_class", default="3")
    amount_per_class = StringField("amount_per_class", validators=[DataRequired()])
    amount_per_point = StringField("amount_per_point", validators=[DataRequired()])
    index_cap = StringField("index_cap", validators=[DataRequired()])
    assessment = SelectField("assessment", default="annual")
    first_year = StringField("first_year", validators=[DataRequired(), Length(4, 4)])
    last_year = StringField("last_year", validators=[DataRequired(), Length(4, 4)])
    deposit = StringField("deposit", validators=[Optional()])


class ReadingForm(_Indicators, FlaskForm):  # type: ignore[misc]
    agreement = SelectField("agreement", validators=[DataRequired()])
    period = StringField("period", validators=[DataRequired(), Length(4, 7)])
    measured_class = SelectField("measured_class", default="3")


class SettleForm(FlaskForm):  # type: ignore[misc]
    agreement = SelectField("agreement", validators=[DataRequired()])
    period = StringField("period", validators=[DataRequired(), Length(4, 7)])


def parse_mg(text: str) -> int:
    """``"16.5"`` mg/L -> 16500 ug/L exactly; ``ValueError`` with a reason otherwise."""
    cleaned = text.strip()
    try:
        value = Decimal(cleaned) if cleaned.isascii() else Decimal("nan")
    except InvalidOperation:
        value = Decimal("nan")
    if not value.is_finite() or value < 0 or value * 1000 != int(value * 1000):
        raise ValueError(_("Enter mg/L with at most three decimals, e.g. 0.125."))
    if value > 1_000_000:
        raise ValueError(_("This value is too large."))
    return int(value * 1000)


def _year(text: str) -> int:
    if not (text.isascii() and text.isdigit()):
        raise ValueError(_("Enter a year, e.g. 2024."))
    return int(text)


def _indicator_values(form: Any) -> dict[str, int]:
    values = {}
    for name, attr in FIELDS.items():
        raw = getattr(form, attr).data
        if raw and raw.strip():
            try:
                values[name] = parse_mg(raw)
            except ValueError as exc:
                getattr(form, attr).errors.append(str(exc))
    return values


# --- public ---------------------------------------------------------------------------


@compensation.get("/compensation")
def index() -> str:
    """Every agreement with its sides, section, target and term."""
    return render_template(
        "compensation/index.html",
        agreements=agreements.list_agreements(db.session),
        class_name=class_name,
    )


def _chart_svgs(report: Report) -> dict[str, Any]:
    periods = [row.period for row in report.rows]
    return {
        "class_svg": class_chart(
            periods,
            [row.measured_class for row in report.rows],
            report.agreement.target_class,
            {
                "title": _("Water-quality class at the section"),
                "desc": _("Measured class per period against the target class; I is best."),
                "empty": _("No readings yet."),
                "period": _("Period"),
                "class": _("Class"),
                "measured": _("Measured class"),
                "target": _("Target class"),
            },
        ),
        "payments_svg": cumulative_chart(
            periods,
            [row.cumulative for row in report.rows],
            {
                "title": _("Cumulative payments"),
                "desc": _("Net paid by the downstream side to the upstream side, in yuan."),
                "empty": _("No periods yet."),
                "period": _("Period"),
                "amount": _("Yuan"),
                "line": _("Net paid downstream to upstream"),
            },
        ),
    }


@compensation.get("/compensation/<int:agreement_id>")
def report(agreement_id: int) -> str:
    """The public report: readings, classes against the target, payments, charts."""
    found = build_report(db.session, agreement_id)
    return render_template(
        "compensation/report.html",
        report=found,
        a=found.agreement,
        indicators=sorted(found.agreement.indicators),
        class_name=class_name,
        **_chart_svgs(found),
    )


CSV_COLUMNS = [
    "period", "target_class", "measured_class", "COD_ug_per_l", "NH3-N_ug_per_l",
    "TP_ug_per_l", "TN_ug_per_l", "class_term_fen", "index_term_fen", "total_fen", "payer",
    "payee", "from_deposit_fen", "from_cash_fen", "claimed_fen", "unpaid_fen", "cumulative_fen",
    "index_change_points", "settled_at_utc",
]  # fmt: skip


@compensation.get("/compensation/<int:agreement_id>/report.csv")
def report_csv(agreement_id: int) -> Response:
    """The report's rows as CSV (integers: fen, micrograms per litre)."""
    found = build_report(db.session, agreement_id)
    out = io.StringIO()
    writer = SafeWriter(out)
    writer.writerow(CSV_COLUMNS)
    for row in found.rows:
        s = row.settlement
        values = [row.concentrations.get(k, "") for k in ("COD", "NH3-N", "TP", "TN")]
        paid: list[Any] = (
            [s.class_term, s.index_term, s.total, s.payer or "", s.payee or "",
             s.from_deposit, s.from_cash, s.claimed, row.unpaid]
            if s else [""] * 9
        )  # fmt: skip
        writer.writerow(
            [row.period, row.target_class, row.measured_class or "", *values, *paid,
             row.cumulative, s.breakdown.get("index_change_points", "") if s else "",
             s.settled_at.isoformat() if s else ""]
        )  # fmt: skip
    return Response(
        out.getvalue(),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="compensation-{agreement_id}.csv"'},
    )


# --- regulator ------------------------------------------------------------------------


def _choices(forms: dict[str, Any]) -> dict[str, Any]:
    session = db.session
    leagues = choices(
        [(lg.code, paren(league_name(lg.code), lg.code)) for lg in registry.list_leagues(session)]
    )
    items = agreements.list_agreements(session)
    agreement_choices = choices(
        [
            (
                a.id,
                f"{a.id} · {a.section} · {league_name(a.upstream)} → {league_name(a.downstream)}",
            )
            for a in items
        ]
    )
    classes = choices([(v, class_name(c)) for v, c in CLASS_CHOICES])
    agreement = forms.get("agreement_form") or AgreementForm(formdata=None, prefix="agr")
    agreement.upstream.choices = leagues
    agreement.downstream.choices = leagues
    agreement.target_class.choices = classes
    agreement.assessment.choices = choices([("annual", _("annual")), ("monthly", _("monthly"))])
    reading = forms.get("reading_form") or ReadingForm(formdata=None, prefix="rd")
    reading.agreement.choices = agreement_choices
    reading.measured_class.choices = classes
    settle = forms.get("settle_form") or SettleForm(formdata=None, prefix="st")
    settle.agreement.choices = agreement_choices
    return {
        "agreement_form": agreement,
        "reading_form": reading,
        "settle_form": settle,
        "agreements": items,
    }


def _render(status: int = 200, **forms: Any) -> tuple[str, int]:
    return render_template(
        "compensation/console.html",
        class_name=class_name,
        upload_form=UploadForm(formdata=None, prefix="upload"),
        **_choices(forms),
    ), status


@compensation.get("/regulator/compensation")
@pages_for(Role.REGULATOR)
def console(actor: Actor) -> tuple[str, int]:
    """Register agreements, enter readings, settle periods."""
    return _render()


def explain(exc: ExchangeError) -> str:
    """A refusal of the compensation services in the page's language."""
    if exc.code == "readings_missing":
        return _("The readings of this period are missing: %(reason)s", reason=exc.message)
    if exc.code == "period_settled":
        return _("This period is settled; its readings can no longer change.")
    if exc.field == "period":
        return _("Not a period of this agreement that has ended: %(reason)s", reason=exc.message)
    if exc.code == "insufficient_funds":
        return _("A side does not have the cash for its deposit.")
    return refusal(exc)


def _field_for(form: Any, exc: ExchangeError, default: str) -> Any:
    name = (exc.field or default).split(".")
    attr = FIELDS.get(name[1]) if name[0] == "indicators" and len(name) > 1 else name[0]
    if name[0] == "class":
        attr = "measured_class"
    return getattr(form, attr or default, None) or getattr(form, default)


def _agreement_command(form: AgreementForm, actor: Actor) -> RegisterAgreement | None:
    amounts: dict[str, int] = {}
    for name in ("amount_per_class", "amount_per_point", "index_cap", "deposit"):
        try:
            amounts[name] = parse_yuan(getattr(form, name).data or "0")
        except ValueError as exc:
            getattr(form, name).errors.append(str(exc))
    years: dict[str, int] = {}
    for name in ("first_year", "last_year"):
        try:
            years[name] = _year(getattr(form, name).data)
        except ValueError as exc:
            getattr(form, name).errors.append(str(exc))
    baseline = _indicator_values(form)
    if not baseline and not form.cod.errors:
        form.cod.errors.append(_("Enter the baseline of at least one indicator."))
    if any(f.errors for f in form):
        return None
    return RegisterAgreement(
        upstream=form.upstream.data,
        downstream=form.downstream.data,
        section=form.section.data.strip(),
        target_class=int(form.target_class.data),
        indicators=baseline,
        assessment=form.assessment.data,
        actor=actor.username,
        **amounts,
        **years,
    )


@compensation.post("/regulator/compensation/agreements")
@pages_for(Role.REGULATOR)
def register(actor: Actor) -> BaseResponse | tuple[str, int]:
    """Register an agreement (amounts typed in yuan, baselines in mg/L)."""
    form = AgreementForm(prefix="agr")
    _choices({"agreement_form": form})
    if form.validate() and (command := _agreement_command(form, actor)) is not None:
        try:
            with unit_of_work(db.session) as session:
                done = agreements.register_agreement(session, command)
        except ExchangeError as exc:
            field = _field_for(form, exc, "section")
            field.errors = [*field.errors, explain(exc)]
        else:
            flash(_("Agreement %(id)s registered.", id=done.id))
            return redirect(url_for("compensation_pages.report", agreement_id=done.id))
    return _render(422, agreement_form=form)


@compensation.post("/regulator/compensation/readings")
@pages_for(Role.REGULATOR)
def enter(actor: Actor) -> BaseResponse | tuple[str, int]:
    """Enter a period's reading; a second one for the period supersedes the first."""
    form = ReadingForm(prefix="rd")
    _choices({"reading_form": form})
    if form.validate():
        values = _indicator_values(form)
        if not any(f.errors for f in form):
            try:
                with unit_of_work(db.session) as session:
                    done = agreements.enter_reading(
                        session,
                        EnterReading(
                            agreement_id=int(form.agreement.data),
                            period=form.period.data.strip(),
                            measured_class=int(form.measured_class.data),
                            concentrations=values,
                            actor=actor.username,
                        ),
                    )
            except ExchangeError as exc:
                field = _field_for(form, exc, "period")
                field.errors = [*field.errors, explain(exc)]
            else:
                flash(_("Reading for %(period)s recorded.", period=done.period))
                return redirect(
                    url_for("compensation_pages.report", agreement_id=done.agreement_id)
                )
    return _render(422, reading_form=form)


@compensation.post("/regulator/compensation/settlements")
@pages_for(Role.REGULATOR)
def settle(actor: Actor) -> BaseResponse | tuple[str, int]:
    """Settle a closed period once (a repeat shows the first settlement)."""
    form = SettleForm(prefix="st")
    _choices({"settle_form": form})
    if form.validate():
        agreement_id = int(form.agreement.data)
        command = Settle(agreement_id, form.period.data.strip(), actor=actor.username)
        try:
            with unit_of_work(db.session) as session:
                outcome = settlement.settle_once(session, command)
            settlement.after_commit(db.session_factory, outcome)
        except ExchangeError as exc:
            form.period.errors = [*form.period.errors, explain(exc)]
        else:
            s = outcome.settlement
            message = (
                _(
                    "Period %(period)s settled: %(payer)s pays %(payee)s %(amount)s yuan.",
                    period=s.period,
                    payer=league_name(s.payer),
                    payee=league_name(s.payee),
                    amount=yuan(abs(s.total)),
                )
                if outcome.created and s.payer
                else _("Period %(period)s settled: no payment.", period=s.period)
                if outcome.created
                else _("Period %(period)s was already settled.", period=s.period)
            )
            flash(message)
            return redirect(url_for("compensation_pages.report", agreement_id=agreement_id))
    return _render(422, settle_form=form)
