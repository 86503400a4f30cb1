"""Paid allocation (有偿使用) of discharge rights, and the allocation calculators.

The regulator issues discharge rights against their paid-use fee (the bill is made
with the issuance); a league sees and pays its own bills (instalments from 10
million yuan); the regulator and the auditor see every bill. The calculators are
pure arithmetic for the regulator's allocation preview.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate

from exchange.api.access import Role, current_actor, require_league_access, require_roles
from exchange.api.schemas import strict_int
from exchange.extensions import db
from exchange.services import allocation_calculators, paid_use
from exchange.uow import unit_of_work

MAX_CASH = 10**15
CODE = validate.Length(1, 64)

blp = Blueprint("paid_use", __name__, url_prefix="/api/v1", description="Paid allocation")


def today() -> date:
    """The current day (UTC); tests replace it."""
    return datetime.now(UTC).date()


class IssueInSchema(Schema):
    league = fields.String(required=True, validate=CODE)
    market = fields.String(required=True, validate=CODE, metadata={"example": "COD-2027"})
    quantity = strict_int(1, 10**9, required=True)
    reference = fields.String(
        validate=validate.Regexp(r"^[^|\x00-\x1f\x7f]{1,100}$"), load_default=None
    )


class BillSchema(Schema):
    id = fields.Integer()
    league = fields.String()
    market_id = fields.Integer()
    quantity = fields.Integer()
    years = fields.Integer()
    fee_per_t_year = fields.Integer(metadata={"description": "Fen per tonne and year."})
    amount = fields.Integer(metadata={"description": "Fen."})
    paid = fields.Integer()
    remaining = fields.Integer()
    instalments = fields.Boolean()
    minimum_first = fields.Integer(metadata={"description": "Least first payment (fen)."})
    issued_on = fields.String()
    expires_on = fields.String()
    status = fields.String(metadata={"description": "unpaid, partially_paid, paid, overdue"})


class IssueSchema(Schema):
    allocation = fields.Dict()
    bill = fields.Nested(BillSchema)


class PaymentInSchema(Schema):
    amount = strict_int(1, MAX_CASH, required=True, metadata={"description": "Fen."})
    client_ref = fields.String(required=True, validate=validate.Regexp(r"^[A-Za-z0-9._:-]{1,64}$"))


class PaymentSchema(Schema):
    id = fields.Integer()
    bill = fields.Nested(BillSchema)
    amount = fields.Integer()
    journal_id = fields.Integer()


class CarbonInSchema(Schema):
    benchmark_milli = strict_int(1, 10**7, required=True)
    output = strict_int(0, 10**10, required=True)
    factor_permille = strict_int(0, 10_000, required=True)


class EnergyInSchema(Schema):
    new_use = strict_int(0, 10**10, required=True, metadata={"description": "tce"})
    b_permille = strict_int(300, 1000, required=True)
    intensity_milli = strict_int(0, 10**7, required=True)
    average_milli = strict_int(1, 10**7, required=True)


class QuantitySchema(Schema):
    quantity = fields.Integer(metadata={"description": "Whole units for the allocation."})


@blp.route("/paid-use/issuances")
class Issuances(MethodView):
    @blp.arguments(IssueInSchema)
    @blp.response(201, IssueSchema)
    @blp.alt_response(409, description="The market's cap would be exceeded")
    @blp.alt_response(422, description="Not a discharge-rights market, ineligible league")
    def post(self, data: dict[str, Any]) -> dict[str, Any]:
        """Issue discharge rights against their five-year paid-use fee (regulator)."""
        actor = require_roles(Role.REGULATOR)
        command = paid_use.IssuePaid(actor=actor.username, today=today(), **data)
        with unit_of_work(db.session) as session:
            return paid_use.issue_paid(session, command)


@blp.route("/paid-use/bills")
class Bills(MethodView):
    @blp.response(200, BillSchema(many=True))
    def get(self) -> list[dict[str, Any]]:
        """Paid-use bills: the league's own, or all (regulator, auditor)."""
        actor = current_actor()
        if actor.role is Role.LEAGUE:
            bills = paid_use.list_bills(db.session, actor.league_code)
        else:
            require_roles(Role.REGULATOR, Role.AUDITOR)
            bills = paid_use.list_bills(db.session)
        return [paid_use.bill_json(b, today()) for b in bills]


@blp.route("/paid-use/bills/<int:bill_id>")
class BillView(MethodView):
    @blp.response(200, BillSchema)
    @blp.alt_response(404, description="No such bill (or another league's)")
    def get(self, bill_id: int) -> dict[str, Any]:
        """One bill (its league, the regulator, the auditor)."""
        bill = paid_use.get_bill(db.session, bill_id)
        require_league_access(bill.league_code)
        return paid_use.bill_json(bill, today())


@blp.route("/paid-use/bills/<int:bill_id>/payments")
class Payments(MethodView):
    @blp.arguments(PaymentInSchema)
    @blp.response(201, PaymentSchema)
    @blp.alt_response(200, schema=PaymentSchema, description="A retry: the first payment")
    @blp.alt_response(409, description="Paid already, more than remains, not enough cash")
    @blp.alt_response(422, description="Less than the first instalment, or part of a small bill")
    def post(self, data: dict[str, Any], bill_id: int) -> tuple[dict[str, Any], int]:
        """Pay (part of) the league's bill (the league)."""
        bill = paid_use.get_bill(db.session, bill_id)
        actor = require_league_access(bill.league_code, write=True)
        command = paid_use.PayBill(
            bill_id, bill.league_code, actor=actor.username, today=today(), **data
        )
        with unit_of_work(db.session) as session:
            payment, created = paid_use.pay(session, command)
            body = {
                "id": payment.id,
                "bill": paid_use.bill_json(paid_use.get_bill(session, bill_id), today()),
                "amount": payment.amount,
                "journal_id": payment.journal_id,
            }
        return body, 201 if created else 200


@blp.route("/allocation-calculators/carbon")
class CarbonCalculator(MethodView):
    @blp.arguments(CarbonInSchema)
    @blp.response(200, QuantitySchema)
    def post(self, data: dict[str, Any]) -> dict[str, Any]:
        """Intensity-based carbon allocation: benchmark x output x factor (regulator)."""
        require_roles(Role.REGULATOR)
        return {"quantity": allocation_calculators.carbon_intensity(**data)}


@blp.route("/allocation-calculators/energy")
class EnergyCalculator(MethodView):
    @blp.arguments(EnergyInSchema)
    @blp.response(200, QuantitySchema)
    def post(self, data: dict[str, Any]) -> dict[str, Any]:
        """Energy-use rights a new project needs: A x B x C / regional average (regulator)."""
        require_roles(Role.REGULATOR)
        return {"quantity": allocation_calculators.energy_use(**data)}
