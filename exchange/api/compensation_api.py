"""``/api/v1/compensation``: ecological compensation agreements, readings, settlements.

Reads are public (what the public report shows); writes are the regulator's.
Amounts are fen, concentrations integer micrograms per litre; a settlement's
``total`` > 0 means the downstream side paid the upstream side. A second
settlement request for a settled period answers 200 with the first settlement.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from exchange.api.access import Role, require_roles
from exchange.api.schemas import strict_int
from exchange.compensation import agreements, formula, settlement
from exchange.compensation.commands import EnterReading, RegisterAgreement, Settle
from exchange.compensation.periods import MAX_YEAR, MIN_YEAR
from exchange.extensions import db
from exchange.models import CompensationAgreement, CompensationSettlement
from exchange.uow import unit_of_work

MAX_CASH = 10**15
MAX_CONCENTRATION = agreements.MAX_CONCENTRATION
PERIOD = validate.Regexp(r"^[0-9]{4}(-[0-9]{2})?\Z", error="YYYY (a year) or YYYY-MM (a month)")
TEXT = validate.Regexp(r"^[^\x00-\x1f\x7f]{1,128}\Z", error="1-128 characters, no control ones")
INDICATOR = validate.OneOf(formula.INDICATORS)

blp = Blueprint(
    "compensation",
    __name__,
    url_prefix="/api/v1/compensation",
    description="Ecological compensation between upstream and downstream leagues",
)


def _indicators(minimum: int, description: str, **kwargs: Any) -> fields.Dict:
    return fields.Dict(
        keys=fields.String(validate=INDICATOR),
        values=strict_int(minimum, MAX_CONCENTRATION),
        validate=validate.Length(1, len(formula.INDICATORS)),
        metadata={"description": description, "example": {"COD": 16000, "NH3-N": 500}},
        **kwargs,
    )


class AgreementCreateSchema(Schema):
    upstream = fields.String(required=True, validate=validate.Length(1, 32))
    downstream = fields.String(required=True, validate=validate.Length(1, 32))
    section = fields.String(required=True, validate=TEXT)
    target_class = strict_int(1, 6, required=True, metadata={"description": "I-V as 1-5, 6: >V"})
    amount_per_class = strict_int(0, MAX_CASH, required=True, metadata={"description": "Fen."})
    indicators = _indicators(1, "Indicator -> baseline concentration, integer ug/L.", required=True)
    amount_per_point = strict_int(0, MAX_CASH, required=True, metadata={"description": "Fen."})
    index_cap = strict_int(0, MAX_CASH, required=True, metadata={"description": "Fen."})
    assessment = fields.String(required=True, validate=validate.OneOf(formula.ASSESSMENTS))
    first_year = strict_int(MIN_YEAR, MAX_YEAR, required=True)
    last_year = strict_int(MIN_YEAR, MAX_YEAR, required=True)
    deposit = strict_int(
        0, MAX_CASH, load_default=0, metadata={"description": "Fen, from each side at signing."}
    )

    @validates_schema
    def _check(self, data: dict[str, Any], **_kwargs: Any) -> None:
        first, last = data.get("first_year"), data.get("last_year")
        if first is not None and last is not None and last < first:
            raise ValidationError(f"last_year {last} is before first_year {first}", "last_year")
        if data.get("upstream") is not None and data.get("upstream") == data.get("downstream"):
            raise ValidationError("upstream and downstream must differ", "downstream")


class ReadingCreateSchema(Schema):
    period = fields.String(required=True, validate=PERIOD, metadata={"example": "2024-07"})
    measured_class = strict_int(
        1, 6, required=True, data_key="class", metadata={"description": "I-V as 1-5, 6: >V"}
    )
    indicators = _indicators(0, "Indicator -> concentration, integer ug/L.", required=True)


class SettlementCreateSchema(Schema):
    period = fields.String(required=True, validate=PERIOD, metadata={"example": "2024"})


class ReadingSchema(Schema):
    id = fields.Integer()
    period = fields.String()
    measured_class = fields.Integer(data_key="class")
    indicators = fields.Dict(attribute="concentrations")
    supersedes = fields.Integer(attribute="supersedes_id", allow_none=True)
    entered_at = fields.DateTime()


class AgreementSchema(Schema):
    id = fields.Integer()
    upstream = fields.String()
    downstream = fields.String()
    section = fields.String()
    target_class = fields.Integer()
    amount_per_class = fields.Integer()
    indicators = fields.Dict()
    amount_per_point = fields.Integer()
    index_cap = fields.Integer()
    assessment = fields.String()
    first_year = fields.Integer()
    last_year = fields.Integer()
    deposit = fields.Integer()
    created_at = fields.DateTime()


class AgreementDetailSchema(AgreementSchema):
    readings = fields.List(
        fields.Nested(ReadingSchema),
        metadata={"description": "Every entry, corrections included (newest per period counts)."},
    )


class SettlementSchema(Schema):
    id = fields.Integer()
    agreement_id = fields.Integer()
    period = fields.String()
    measured_class = fields.Integer()
    class_term = fields.Integer()
    index_term = fields.Integer()
    total = fields.Integer(metadata={"description": "> 0: downstream paid upstream (fen)."})
    payer = fields.String(allow_none=True)
    payee = fields.String(allow_none=True)
    from_deposit = fields.Integer()
    from_cash = fields.Integer()
    claimed = fields.Integer(metadata={"description": "Left unpaid as a claim (fen)."})
    journal_id = fields.Integer(allow_none=True)
    breakdown = fields.Dict()
    trigger = fields.String()
    settled_at = fields.DateTime()


@blp.route("/agreements")
class Agreements(MethodView):
    @blp.response(200, AgreementSchema(many=True))
    def get(self) -> Sequence[CompensationAgreement]:
        """Every compensation agreement (public)."""
        return agreements.list_agreements(db.session)

    @blp.arguments(AgreementCreateSchema)
    @blp.response(201, AgreementSchema)
    @blp.alt_response(409, description="A side cannot pay its deposit")
    @blp.alt_response(422, description="Unknown participant or indicator")
    def post(self, data: dict[str, Any]) -> CompensationAgreement:
        """Register an agreement and take the deposits (regulator)."""
        actor = require_roles(Role.REGULATOR)
        with unit_of_work(db.session) as session:
            return agreements.register_agreement(
                session, RegisterAgreement(actor=actor.username, **data)
            )


@blp.route("/agreements/<int:agreement_id>")
class AgreementById(MethodView):
    @blp.response(200, AgreementDetailSchema)
    @blp.alt_response(404, description="No such agreement")
    def get(self, agreement_id: int) -> dict[str, Any]:
        """One agreement with its readings (public)."""
        agreement = agreements.get_agreement(db.session, agreement_id)
        data = {name: getattr(agreement, name) for name in AgreementSchema().fields}
        data["readings"] = agreements.readings(db.session, agreement_id)
        return data


@blp.route("/agreements/<int:agreement_id>/readings")
class Readings(MethodView):
    @blp.arguments(ReadingCreateSchema)
    @blp.response(201, ReadingSchema)
    @blp.alt_response(404, description="No such agreement")
    @blp.alt_response(409, description="The period is settled")
    @blp.alt_response(422, description="Period outside the term or not ended, bad indicators")
    def post(self, data: dict[str, Any], agreement_id: int) -> Any:
        """Enter a period's reading; one for a period with a reading supersedes it (regulator)."""
        actor = require_roles(Role.REGULATOR)
        with unit_of_work(db.session) as session:
            return agreements.enter_reading(
                session,
                EnterReading(
                    agreement_id=agreement_id,
                    period=data["period"],
                    measured_class=data["measured_class"],
                    concentrations=data["indicators"],
                    actor=actor.username,
                ),
            )


@blp.route("/agreements/<int:agreement_id>/settlements")
class Settlements(MethodView):
    @blp.response(200, SettlementSchema(many=True))
    @blp.alt_response(404, description="No such agreement")
    def get(self, agreement_id: int) -> Sequence[CompensationSettlement]:
        """An agreement's settlements by period, with their breakdowns (public)."""
        agreements.get_agreement(db.session, agreement_id)
        return settlement.list_settlements(db.session, agreement_id)

    @blp.arguments(SettlementCreateSchema)
    @blp.response(201, SettlementSchema)
    @blp.alt_response(200, schema=SettlementSchema, description="Already settled: the first")
    @blp.alt_response(404, description="No such agreement")
    @blp.alt_response(409, description="Readings missing")
    @blp.alt_response(422, description="Period outside the term, of the wrong kind, not ended")
    def post(self, data: dict[str, Any], agreement_id: int) -> Any:
        """Settle a closed period once; a repeat returns the first settlement (regulator)."""
        actor = require_roles(Role.REGULATOR)
        command = Settle(agreement_id=agreement_id, period=data["period"], actor=actor.username)
        with unit_of_work(db.session) as session:
            outcome = settlement.settle_once(session, command)
        settlement.after_commit(db.session_factory, outcome)
        return outcome.settlement, 201 if outcome.created else 200
