"""Compliance cycles: periods, verified figures, objections, surrenders, status, report.

Who may do what: the regulator creates periods, enters verified figures and
decides objections; a league objects to, reports for and surrenders for itself
only; the status and the public report of a period are public (as the EU
transaction log's compliance table is); the forecast is the league's own, or
every league's for the regulator and the auditor.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from flask import Response
from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate

from exchange.api.access import Role, current_actor, require_league_access, require_roles
from exchange.api.schemas import MAX_QUANTITY, strict_int
from exchange.compliance import (
    closing,
    figures,
    figures_csv,
    forecast,
    periods,
    report,
    status,
    surrenders,
)
from exchange.compliance.commands import (
    ClosePeriod,
    CreatePeriod,
    DecideObjection,
    EnterFigure,
    FileObjection,
    ReportMonthly,
    SurrenderUnits,
)
from exchange.errors import Forbidden, InvalidInput
from exchange.extensions import db
from exchange.services import participants
from exchange.uow import unit_of_work

MAX_FINE = 10**13  # fen: 100 billion yuan
CODE = validate.Length(1, 32)
FAMILY = validate.Regexp(r"^[a-z]+(:[A-Za-z0-9_-]{1,28})?$", error="e.g. carbon, pollutant:COD")
CLIENT_REF = validate.Regexp(r"^[A-Za-z0-9._:-]{1,64}$", error="1-64 of A-Z a-z 0-9 . _ : -")

blp = Blueprint(
    "compliance", __name__, url_prefix="/api/v1/compliance", description="Compliance cycles"
)


def today() -> date:
    """The current day (UTC); tests replace it."""
    return datetime.now(UTC).date()


class PeriodInSchema(Schema):
    market_family = fields.String(required=True, validate=FAMILY, metadata={"example": "carbon"})
    year = strict_int(2000, 2100, required=True)
    reporting_deadline = fields.Date(required=True)
    verification_deadline = fields.Date(required=True)
    surrender_deadline = fields.Date(required=True)
    objection_days = strict_int(1, 60, load_default=7)
    decision_days = strict_int(1, 60, load_default=10)
    offset_percent = strict_int(0, 100, load_default=5)
    offset_market = fields.String(validate=validate.Length(1, 64), load_default=None)
    penalty_fixed = strict_int(0, MAX_FINE, load_default=0, metadata={"description": "Fen."})
    penalty_price_multiple = strict_int(0, 10, load_default=0)
    deduct_shortfall = fields.Boolean(load_default=False)


class PeriodSchema(Schema):
    id = fields.Integer()
    market_family = fields.String()
    year = fields.Integer()
    market = fields.String(allow_none=True)
    unit = fields.String(allow_none=True)
    offset_market = fields.String(allow_none=True)
    reporting_deadline = fields.String()
    verification_deadline = fields.String()
    surrender_deadline = fields.String()
    objection_days = fields.Integer()
    decision_days = fields.Integer()
    offset_percent = fields.Integer()
    penalty_fixed = fields.Integer(metadata={"description": "Fen."})
    penalty_price_multiple = fields.Integer()
    deduct_shortfall = fields.Boolean()
    status = fields.String(metadata={"description": "open or closed"})
    closed_as_of = fields.String(allow_none=True)


class FigureInSchema(Schema):
    verified = strict_int(0, MAX_QUANTITY, load_default=None, allow_none=True)
    evidence = fields.String(validate=validate.Length(0, 500), load_default="")
    excluded = fields.Boolean(load_default=False)


class FigureSchema(Schema):
    period_id = fields.Integer()
    league = fields.String()
    verified = fields.Integer(allow_none=True)
    excluded = fields.Boolean()
    evidence = fields.String()
    entered_on = fields.String()
    objection_deadline = fields.String()


class FigureImportInSchema(Schema):
    csv = fields.String(
        required=True,
        validate=validate.Length(1, 200_000),
        metadata={"description": "league,verified[,evidence] with a header line"},
    )
    dry_run = fields.Boolean(load_default=True, metadata={"description": "Only check (preview)."})


class FigureRowSchema(Schema):
    line = fields.Integer()
    league = fields.String()
    verified = fields.Integer(allow_none=True)
    evidence = fields.String()
    error = fields.String(allow_none=True)


class FigureImportSchema(Schema):
    imported = fields.Boolean()
    rows = fields.List(fields.Nested(FigureRowSchema))


class ObjectionInSchema(Schema):
    league = fields.String(
        validate=CODE, load_default=None, metadata={"description": "Default: the caller's."}
    )
    reason = fields.String(required=True, validate=validate.Length(1, 1000))
    proposed = strict_int(0, MAX_QUANTITY, load_default=None, allow_none=True)


class ObjectionSchema(Schema):
    id = fields.Integer()
    league = fields.String()
    reason = fields.String()
    proposed = fields.Integer(allow_none=True)
    filed_on = fields.String()
    decision_due = fields.String()
    decision = fields.String(allow_none=True)
    decided_on = fields.String(allow_none=True)
    late = fields.Boolean()


class DecisionInSchema(Schema):
    decision = fields.String(required=True, validate=validate.OneOf(["accepted", "rejected"]))
    verified = strict_int(0, MAX_QUANTITY, load_default=None, allow_none=True)


class MonthlyInSchema(Schema):
    quantity = strict_int(0, MAX_QUANTITY, required=True)


class MonthlySchema(Schema):
    league = fields.String()
    month = fields.Integer()
    quantity = fields.Integer()


class SurrenderInSchema(Schema):
    league = fields.String(
        validate=CODE, load_default=None, metadata={"description": "Default: the caller's."}
    )
    quantity = strict_int(0, MAX_QUANTITY, required=True)
    offsets = strict_int(0, MAX_QUANTITY, load_default=0)
    client_ref = fields.String(required=True, validate=CLIENT_REF)


class SurrenderSchema(Schema):
    id = fields.Integer()
    period_id = fields.Integer()
    league = fields.String()
    quantity = fields.Integer()
    offsets = fields.Integer()
    client_ref = fields.String()
    journal_id = fields.Integer()
    created_at = fields.String()


class LeagueStatusSchema(Schema):
    league = fields.String()
    status = fields.String(metadata={"description": "A, B, C, EXCLUDED or NOT_APPLICABLE"})
    verified = fields.Integer(allow_none=True)
    surrendered = fields.Integer()
    offsets = fields.Integer()
    shortfall = fields.Integer()


class StatusSchema(Schema):
    period = fields.Nested(PeriodSchema)
    as_of = fields.String()
    frozen = fields.Boolean(metadata={"description": "True: the snapshot taken at the deadline."})
    leagues = fields.List(fields.Nested(LeagueStatusSchema))


class CloseInSchema(Schema):
    as_of = fields.Date(required=True)


class ForecastQuerySchema(Schema):
    league = fields.String(validate=CODE)


def _acting_league(data: dict[str, Any]) -> dict[str, Any]:
    """``data`` with ``league`` set: as given, or the calling league user's own."""
    if data.get("league") is None:
        actor = current_actor()
        if actor.role is not Role.LEAGUE:
            require_roles(Role.LEAGUE)  # 401 anonymous, 403 other roles
        data = {**data, "league": actor.league_code}
    return data


def _figure_json(period_id: int, league: str) -> dict[str, Any]:
    session = db.session
    period = periods.get_period(session, period_id)
    figure = figures.figure_of(session, period_id, league)
    assert figure is not None
    return {
        "period_id": period_id,
        "league": league,
        "verified": figure.verified,
        "excluded": figure.excluded,
        "evidence": figure.evidence,
        "entered_on": figure.entered_on.isoformat(),
        "objection_deadline": figures.objection_deadline(period, figure).isoformat(),
    }


@blp.route("/periods")
class Periods(MethodView):
    @blp.response(200, PeriodSchema(many=True))
    def get(self) -> list[dict[str, Any]]:
        """Every compliance period (public)."""
        return [periods.period_json(db.session, p) for p in periods.list_periods(db.session)]

    @blp.arguments(PeriodInSchema)
    @blp.response(201, PeriodSchema)
    @blp.alt_response(409, description="A period for this family and year exists")
    @blp.alt_response(422, description="Unknown family, no vintage market, deadlines out of order")
    def post(self, data: dict[str, Any]) -> dict[str, Any]:
        """Open a compliance period for a market family and year (regulator)."""
        require_roles(Role.REGULATOR)
        with unit_of_work(db.session) as session:
            period = periods.create_period(session, CreatePeriod(**data))
            return periods.period_json(session, period)


@blp.route("/periods/<int:period_id>")
class PeriodView(MethodView):
    @blp.response(200, PeriodSchema)
    @blp.alt_response(404, description="No such period")
    def get(self, period_id: int) -> dict[str, Any]:
        """One compliance period (public)."""
        return periods.period_json(db.session, periods.get_period(db.session, period_id))


@blp.route("/periods/<int:period_id>/figures/<league>")
class FigureView(MethodView):
    @blp.arguments(FigureInSchema)
    @blp.response(200, FigureSchema)
    @blp.alt_response(409, description="The figure is final, or an objection is pending")
    def put(self, data: dict[str, Any], period_id: int, league: str) -> dict[str, Any]:
        """Enter a league's verified figure, or exclude it (regulator)."""
        actor = require_roles(Role.REGULATOR)
        command = EnterFigure(period_id, league, actor=actor.username, today=today(), **data)
        with unit_of_work(db.session) as session:
            figures.enter_figure(session, command)
        return _figure_json(period_id, league)


@blp.route("/periods/<int:period_id>/figures/import")
class FigureImport(MethodView):
    @blp.arguments(FigureImportInSchema)
    @blp.response(200, FigureImportSchema)
    @blp.alt_response(404, description="No such period")
    @blp.alt_response(422, description="A row is refused (the import enters none)")
    def post(self, data: dict[str, Any], period_id: int) -> dict[str, Any]:
        """Verified figures from CSV: a checked preview (dry_run), or all rows or none."""
        actor = require_roles(Role.REGULATOR)
        if data["dry_run"]:
            rows = figures_csv.preview(db.session, period_id, data["csv"], today())
            return {"imported": False, "rows": [r.as_json() for r in rows]}
        with unit_of_work(db.session) as session:
            rows = figures_csv.import_figures(
                session, period_id, data["csv"], actor=actor.username, today=today()
            )
            return {"imported": True, "rows": [r.as_json() for r in rows]}


@blp.route("/periods/<int:period_id>/objections")
class Objections(MethodView):
    @blp.response(200, ObjectionSchema(many=True))
    def get(self, period_id: int) -> list[dict[str, Any]]:
        """Objections of the period: all (regulator, auditor) or the league's own."""
        actor = current_actor()
        if actor.role is Role.LEAGUE:
            return figures.list_objections(db.session, period_id, actor.league_code)
        require_roles(Role.REGULATOR, Role.AUDITOR)
        return figures.list_objections(db.session, period_id)

    @blp.arguments(ObjectionInSchema)
    @blp.response(201, ObjectionSchema)
    @blp.alt_response(409, description="Objected already, or the window has closed")
    def post(self, data: dict[str, Any], period_id: int) -> dict[str, Any]:
        """Object to the league's verified figure: once, within the window (the league)."""
        data = _acting_league(data)
        require_league_access(data["league"], write=True)
        with unit_of_work(db.session) as session:
            objection = figures.file_objection(
                session, FileObjection(period_id, today=today(), **data)
            )
            period = periods.get_period(session, period_id)
            return figures.objection_json(period, objection)


@blp.route("/periods/<int:period_id>/objections/<int:objection_id>/decision")
class Decision(MethodView):
    @blp.arguments(DecisionInSchema)
    @blp.response(200, ObjectionSchema)
    @blp.alt_response(409, description="Decided already")
    def post(self, data: dict[str, Any], period_id: int, objection_id: int) -> dict[str, Any]:
        """Decide an objection; the figure is final afterwards (regulator)."""
        actor = require_roles(Role.REGULATOR)
        command = DecideObjection(
            period_id, objection_id, actor=actor.username, today=today(), **data
        )
        with unit_of_work(db.session) as session:
            objection = figures.decide_objection(session, command)
            period = periods.get_period(session, period_id)
            return figures.objection_json(period, objection)


@blp.route("/periods/<int:period_id>/monthly/<league>/<int:month>")
class Monthly(MethodView):
    @blp.arguments(MonthlyInSchema)
    @blp.response(200, MonthlySchema)
    def put(self, data: dict[str, Any], period_id: int, league: str, month: int) -> dict[str, Any]:
        """Report the league's unverified figure for a month (the league)."""
        require_league_access(league, write=True)
        if not 1 <= month <= 12:
            raise InvalidInput("month must be 1-12", field="month")
        with unit_of_work(db.session) as session:
            row = figures.report_monthly(
                session, ReportMonthly(period_id, league, month, data["quantity"])
            )
            return {"league": row.league_code, "month": row.month, "quantity": row.quantity}


@blp.route("/periods/<int:period_id>/surrenders")
class Surrenders(MethodView):
    @blp.arguments(SurrenderInSchema)
    @blp.response(201, SurrenderSchema)
    @blp.alt_response(200, schema=SurrenderSchema, description="A retry: the first surrender")
    @blp.alt_response(409, description="Over-surrender, closed period, not enough units")
    @blp.alt_response(422, description="Offsets over the limit")
    def post(self, data: dict[str, Any], period_id: int) -> tuple[dict[str, Any], int]:
        """Surrender units of the period's vintage (and offsets) for good (the league, or an
        enterprise's representative with initiate or surrender rights)."""
        actor = current_actor()
        if actor.role is Role.REPRESENTATIVE:
            data = {**data, "league": data.get("league") or actor.participant}
            if not participants.represents(actor, data["league"], participants.SURRENDERING_RIGHTS):
                raise Forbidden("a representative surrenders for its enterprise, with the right")
        else:
            data = _acting_league(data)
            actor = require_league_access(data["league"], write=True)
        command = SurrenderUnits(period_id, actor=actor.username, today=today(), **data)
        with unit_of_work(db.session) as session:
            row, created = surrenders.surrender(session, command)
            return surrenders.surrender_json(row), 201 if created else 200


@blp.route("/periods/<int:period_id>/status")
class StatusView(MethodView):
    @blp.response(200, StatusSchema)
    @blp.alt_response(404, description="No such period")
    def get(self, period_id: int) -> dict[str, Any]:
        """Every league's status: live while open, the deadline snapshot once closed (public)."""
        return status.period_status(db.session, period_id, today())


@blp.route("/periods/<int:period_id>/report.csv")
class ReportCsv(MethodView):
    @blp.response(200, description="CSV: league, names, status, verified, surrendered, ...")
    def get(self, period_id: int) -> Response:
        """The public compliance report of the period as CSV (public)."""
        body = "".join(report.report_csv(db.session, period_id, today()))
        return Response(
            body,
            mimetype="text/csv",
            headers={"Content-Disposition": f"attachment; filename=compliance-{period_id}.csv"},
        )


@blp.route("/periods/<int:period_id>/forecast")
class Forecast(MethodView):
    @blp.arguments(ForecastQuerySchema, location="query")
    @blp.response(200, description="Projected obligation, holdings, shortfall and cost per league")
    def get(self, query: dict[str, Any], period_id: int) -> dict[str, Any]:
        """The open period's forecast: the league's own, or all leagues by risk (regulator)."""
        actor = current_actor()
        league = query.get("league")
        if actor.role is Role.LEAGUE:
            league = actor.league_code
        elif league is None:
            require_roles(Role.REGULATOR, Role.AUDITOR)
        if league is not None:
            require_league_access(league)
        return forecast.forecast(db.session, period_id, league, today())


@blp.route("/periods/<int:period_id>/close")
class Close(MethodView):
    @blp.arguments(CloseInSchema)
    @blp.response(200, description="The snapshot was taken (closed: true) or had been")
    def post(self, data: dict[str, Any], period_id: int) -> dict[str, Any]:
        """Freeze the statuses and record the penalties as of a date (regulator)."""
        actor = require_roles(Role.REGULATOR)
        with unit_of_work(db.session) as session:
            return closing.close_period(
                session, ClosePeriod(period_id, data["as_of"], actor.username)
            )
