"""The ledger's API: allocations, deposits, retirements, balances, statements, audit.

``GET /api/v1/ledger/verify`` answers 200 with ``{"ok": true, ...}`` on a clean
ledger and **409 Conflict** with the same report (``ok: false`` and the list of
violations, plus the usual ``code``/``error``/``message`` of an error body) when
any check fails, so that monitoring and scripts can rely on the status alone.
"""

from __future__ import annotations

from typing import Any

from flask import jsonify
from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate, validates_schema
from marshmallow import ValidationError as SchemaError
from werkzeug.wrappers import Response

import ledger
from exchange.api.access import Role, require_league_access, require_roles
from exchange.api.schemas import MAX_QUANTITY, strict_int
from exchange.extensions import db
from exchange.services import ledger_ops
from exchange.services.commands import Deposit, Retire
from exchange.uow import unit_of_work

MAX_CASH = 10**15
REFERENCE = validate.Regexp(r"^[^|\x00-\x1f\x7f]{1,100}$", error="1-100 characters, no '|'")
CODE = validate.Length(1, 64)
JOURNAL_KINDS = list(ledger.JOURNAL_KINDS)

blp = Blueprint("ledger", __name__, url_prefix="/api/v1", description="Ledger: rights and cash")


class AllocationSchema(Schema):
    league = fields.String(required=True, validate=CODE, metadata={"example": "ordos"})
    market = fields.String(required=True, validate=CODE, metadata={"example": "YR-WATER-2027"})
    quantity = strict_int(1, MAX_QUANTITY, required=True, metadata={"description": "Units."})
    reference = fields.String(validate=REFERENCE, load_default=None)


class AllocationOutSchema(Schema):
    journal_id = fields.Integer()
    league = fields.String()
    market = fields.String()
    quantity = fields.Integer()
    issued = fields.Integer(metadata={"description": "Total issued in the market."})
    cap = fields.Integer()
    remaining = fields.Integer(metadata={"description": "Cap minus issued."})


class DepositSchema(Schema):
    league = fields.String(required=True, validate=CODE)
    amount = strict_int(1, MAX_CASH, required=True, metadata={"description": "Fen."})
    reference = fields.String(validate=REFERENCE, load_default=None)


class DepositOutSchema(Schema):
    journal_id = fields.Integer()
    league = fields.String()
    amount = fields.Integer()
    available = fields.Integer()


class RetirementSchema(Schema):
    league = fields.String(required=True, validate=CODE)
    market = fields.String(required=True, validate=CODE)
    quantity = strict_int(1, MAX_QUANTITY, required=True)
    reference = fields.String(validate=REFERENCE, load_default=None)


class RetirementOutSchema(Schema):
    journal_id = fields.Integer()
    league = fields.String()
    market = fields.String()
    quantity = fields.Integer()
    available = fields.Integer()
    retired = fields.Integer(metadata={"description": "Total retired in the market."})


class BalanceSchema(Schema):
    asset = fields.String(metadata={"example": "market:1"})
    market = fields.String(allow_none=True, metadata={"description": "Market code, or cash."})
    unit = fields.String(allow_none=True)
    posted = fields.Integer(metadata={"description": "available + held"})
    held = fields.Integer(metadata={"description": "Reserved by open orders."})
    available = fields.Integer()


class BalancesSchema(Schema):
    league = fields.String()
    balances = fields.List(fields.Nested(BalanceSchema))


class QueryInt(fields.Integer):
    """An integer in a query string: ASCII digits only (no sign, point or other digits)."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> int:
        if not isinstance(value, str) or not value.isascii() or not value.isdigit():
            raise SchemaError("Not a valid integer.")
        result: int = super()._deserialize(value, attr, data, **kwargs)
        return result


class PageQuerySchema(Schema):
    page = QueryInt(validate=validate.Range(1, 10**9), load_default=1)
    per_page = QueryInt(validate=validate.Range(1, 1000), load_default=50)


class StatementQuerySchema(PageQuerySchema):
    asset = fields.String(
        required=True, validate=CODE, metadata={"description": "Market code, or cash."}
    )
    account = fields.String(
        load_default="available", validate=validate.OneOf(["available", "held"])
    )


class StatementLineSchema(Schema):
    journal_id = fields.Integer()
    chain = fields.String()
    seq = fields.Integer()
    kind = fields.String()
    reference = fields.String()
    actor = fields.String()
    created_at = fields.DateTime()
    amount = fields.Integer(metadata={"description": "Positive: received; negative: given."})
    hold_id = fields.Integer(allow_none=True)
    balance = fields.Integer(metadata={"description": "Balance after this posting."})


class StatementSchema(Schema):
    league = fields.String()
    asset = fields.String()
    market = fields.String()
    account = fields.String()
    balance = fields.Integer()
    total = fields.Integer()
    page = fields.Integer()
    per_page = fields.Integer()
    lines = fields.List(fields.Nested(StatementLineSchema))


class JournalQuerySchema(PageQuerySchema):
    league = fields.String(validate=CODE)
    market = fields.String(validate=CODE, metadata={"description": "Market code, or cash."})
    kind = fields.String(validate=validate.OneOf(JOURNAL_KINDS))
    since = fields.AwareDateTime(metadata={"description": "Inclusive, ISO 8601 with offset."})
    until = fields.AwareDateTime(metadata={"description": "Exclusive."})
    reference = fields.String(validate=validate.Length(1, 128), metadata={"description": "Prefix."})

    @validates_schema
    def _range(self, data: dict[str, Any], **_kwargs: Any) -> None:
        since, until = data.get("since"), data.get("until")
        if since is not None and until is not None and until <= since:
            raise SchemaError("must be after since", "until")


class PostingOutSchema(Schema):
    account_kind = fields.String()
    owner = fields.String()
    asset = fields.String()
    amount = fields.Integer()
    hold_id = fields.Integer(allow_none=True)


class JournalOutSchema(Schema):
    id = fields.Integer()
    chain = fields.String()
    seq = fields.Integer()
    kind = fields.String()
    reference = fields.String()
    actor = fields.String()
    created_at = fields.DateTime()
    prev_hash = fields.String()
    hash = fields.String()
    postings = fields.List(fields.Nested(PostingOutSchema))


class JournalPageSchema(Schema):
    total = fields.Integer()
    page = fields.Integer()
    per_page = fields.Integer()
    journals = fields.List(fields.Nested(JournalOutSchema))


class ViolationSchema(Schema):
    check = fields.String()
    message = fields.String()
    journal_id = fields.Integer()
    account_id = fields.Integer()
    hold_id = fields.Integer()
    chain = fields.String()
    asset = fields.String()
    expected = fields.Raw()
    found = fields.Raw()


class VerifyReportSchema(Schema):
    ok = fields.Boolean()
    violations = fields.List(fields.Nested(ViolationSchema))
    truncated = fields.Boolean()
    journals = fields.Integer()
    postings = fields.Integer()
    accounts = fields.Integer()
    holds = fields.Integer()
    chains = fields.Dict(metadata={"description": "Chain -> last seq and head hash."})
    assets = fields.Dict(metadata={"description": "Asset -> issued and holdings by kind."})
    seconds = fields.Float()


@blp.route("/allocations")
class Allocations(MethodView):
    @blp.arguments(AllocationSchema)
    @blp.response(201, AllocationOutSchema)
    @blp.alt_response(409, description="The market's cap would be exceeded")
    @blp.alt_response(422, description="Unknown or ineligible league, unknown market")
    def post(self, data: dict[str, Any]) -> dict[str, Any]:
        """Allocate (issue) a market's rights to a league (regulator)."""
        actor = require_roles(Role.REGULATOR)
        with unit_of_work(db.session) as session:
            return ledger_ops.allocate(session, ledger_ops.Allocation(**data), actor=actor.username)


@blp.route("/deposits")
class Deposits(MethodView):
    @blp.arguments(DepositSchema)
    @blp.response(201, DepositOutSchema)
    @blp.alt_response(422, description="Unknown league")
    def post(self, data: dict[str, Any]) -> dict[str, Any]:
        """Deposit cash (fen) to a league's cash account (regulator)."""
        actor = require_roles(Role.REGULATOR)
        with unit_of_work(db.session) as session:
            return ledger_ops.deposit(session, Deposit(**data), actor=actor.username)


@blp.route("/retirements")
class Retirements(MethodView):
    @blp.arguments(RetirementSchema)
    @blp.response(201, RetirementOutSchema)
    @blp.alt_response(409, description="More than the available balance")
    @blp.alt_response(422, description="Unknown league or market")
    def post(self, data: dict[str, Any]) -> dict[str, Any]:
        """Retire (surrender) rights of a league (the league itself)."""
        actor = require_league_access(data["league"], write=True)
        with unit_of_work(db.session) as session:
            return ledger_ops.retire(session, Retire(**data), actor=actor.username)


@blp.route("/accounts/<league>/balances")
class Balances(MethodView):
    @blp.response(200, BalancesSchema)
    @blp.alt_response(404, description="No such league")
    def get(self, league: str) -> dict[str, Any]:
        """Posted, held and available balance of a league per asset."""
        require_league_access(league)
        return ledger_ops.balances(db.session, league)


@blp.route("/accounts/<league>/statement")
class Statements(MethodView):
    @blp.arguments(StatementQuerySchema, location="query")
    @blp.response(200, StatementSchema)
    @blp.alt_response(404, description="No such league")
    def get(self, query: dict[str, Any], league: str) -> dict[str, Any]:
        """A league's postings on one asset, oldest first, with the running balance."""
        require_league_access(league)
        return ledger_ops.statement(db.session, league=league, **query)


@blp.route("/ledger/journals")
class Journals(MethodView):
    @blp.arguments(JournalQuerySchema, location="query")
    @blp.response(200, JournalPageSchema)
    def get(self, query: dict[str, Any]) -> dict[str, Any]:
        """Journals, newest first, filtered by league, market, kind, time or reference."""
        require_roles(Role.REGULATOR, Role.AUDITOR)
        return ledger_ops.journals(db.session, **query)


@blp.route("/ledger/verify")
class Verify(MethodView):
    @blp.response(200, VerifyReportSchema)
    @blp.alt_response(409, schema=VerifyReportSchema, description="Violations found")
    def get(self) -> Response:
        """Audit the whole ledger: 200 when clean, 409 with the violations otherwise."""
        require_roles(Role.REGULATOR, Role.AUDITOR)
        report = ledger_ops.verify(db.session)
        body = report.to_dict()
        if report.ok:
            return jsonify(body)
        body.update(
            code=409,
            error="ledger_verification_failed",
            message=f"{len(report.violations)} violation(s) found",
        )
        response = jsonify(body)
        response.status_code = 409
        return response
