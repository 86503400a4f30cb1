"""``/api/v1/transfers``: negotiated term transfers of water, four-eyes approval, contracts.

Who may call what: a league proposes (as seller or buyer), its counterparty
accepts or rejects, the proposer withdraws before acceptance; a regulator
reviews and a different regulator approves (or either rejects, with a reason).
Lists and details follow the transfer mechanism's visibility rule: approved
transfers are public, proposals are for their two parties and the regulator.
"""

from __future__ import annotations

from typing import Any

from flask import Response
from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate

from exchange.api.access import Role, current_actor, require_roles
from exchange.api.representatives_api import InstructionSchema, pending_response
from exchange.api.schemas import MAX_PRICE, MAX_QUANTITY, strict_int
from exchange.extensions import db
from exchange.models import Payment, Transfer, TransferStatus
from exchange.services import instructions, transfer_contract, transfer_views, transfers
from exchange.uow import unit_of_work

blp = Blueprint(
    "transfers", __name__, url_prefix="/api/v1", description="Negotiated term transfers"
)

CLIENT_REF = r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$"
YEAR = (2000, 2100)


class TransferCreateSchema(Schema):
    market_family = fields.String(
        required=True,
        validate=validate.Length(1, 64),
        metadata={"description": "e.g. water:yellow (one market per vintage year)"},
    )
    seller = fields.String(required=True, validate=validate.Length(1, 32))
    buyer = fields.String(required=True, validate=validate.Length(1, 32))
    quantity_per_year = strict_int(1, MAX_QUANTITY, required=True)
    first_year = strict_int(*YEAR, required=True)
    last_year = strict_int(*YEAR, required=True)
    price = strict_int(
        0, MAX_PRICE, required=True, metadata={"description": "Fen per unit per year."}
    )
    payment = fields.Enum(Payment, by_value=True, required=True)
    client_ref = fields.String(
        required=True,
        validate=validate.Regexp(CLIENT_REF, error="1-64 letters, digits or _.:- (idempotency)"),
    )


class TransferActionSchema(Schema):
    reason = fields.String(validate=validate.Length(0, 500), load_default=None)


class TransferQuerySchema(Schema):
    status = fields.Enum(TransferStatus, by_value=True)
    party = fields.String(validate=validate.Length(1, 32))
    page = fields.Integer(load_default=1, validate=validate.Range(1, 10**6))
    per_page = fields.Integer(load_default=50, validate=validate.Range(1, 500))


class DeliverySchema(Schema):
    year = fields.Integer()
    quantity = fields.Integer()
    received = fields.Integer(
        allow_none=True, metadata={"description": "What reached the buyer (less conveyance loss)."}
    )
    payment = fields.Integer(metadata={"description": "Fen paid with this delivery."})
    due = fields.DateTime()
    status = fields.String()
    journal_id = fields.Integer(allow_none=True)
    journal_hash = fields.String(allow_none=True)
    trade_id = fields.Integer(allow_none=True)
    delivered_at = fields.DateTime(allow_none=True)


class ApprovalStepSchema(Schema):
    step = fields.String()
    username = fields.String()
    at = fields.DateTime()
    reason = fields.String(allow_none=True)


class TransferSchema(Schema):
    id = fields.Integer()
    market_family = fields.String()
    seller = fields.String()
    buyer = fields.String()
    proposer = fields.String()
    quantity_per_year = fields.Integer()
    first_year = fields.Integer()
    last_year = fields.Integer()
    price = fields.Integer()
    payment = fields.String()
    total_quantity = fields.Integer()
    total_amount = fields.Integer()
    client_ref = fields.String()
    status = fields.String()
    created_at = fields.DateTime()
    accepted_at = fields.DateTime(allow_none=True)
    approved_at = fields.DateTime(allow_none=True)
    closed_at = fields.DateTime(allow_none=True)
    reason = fields.String(allow_none=True)
    defaulted_party = fields.String(allow_none=True)
    defaulted_year = fields.Integer(allow_none=True)
    deliveries = fields.List(fields.Nested(DeliverySchema))
    approvals = fields.List(fields.Nested(ApprovalStepSchema))


class TransferPageSchema(Schema):
    items = fields.List(fields.Nested(TransferSchema))
    page = fields.Integer()
    per_page = fields.Integer()
    total = fields.Integer()


def _body(transfer: Transfer) -> dict[str, Any]:
    return transfer_views.transfer_dict(db.session, transfer)


@blp.route("/transfers")
class Transfers(MethodView):
    @blp.arguments(TransferCreateSchema)
    @blp.response(201, TransferSchema)
    @blp.alt_response(200, schema=TransferSchema, description="Repeat of a client_ref")
    @blp.alt_response(
        202, schema=InstructionSchema, description="Waits for a second representative"
    )
    @blp.alt_response(422, description="A term is wrong (the body names the field)")
    def post(self, data: dict[str, Any]) -> tuple[dict[str, Any], int]:
        """Propose a transfer to a named counterparty (as its seller or buyer; a regulator
        for the regional water-rights reserve)."""
        actor = require_roles(Role.LEAGUE, Role.REGULATOR, Role.REPRESENTATIVE)
        command = transfers.ProposeTransfer(**data)
        if actor.role is Role.REPRESENTATIVE:
            other = command.buyer if command.seller == actor.participant else command.seller
            if instructions.needs_second(db.session, actor, other):
                with unit_of_work(db.session) as session:
                    transfers.check_proposer(session, command, actor)
                    row = instructions.initiate(session, actor, instructions.TRANSFER, data)
                return pending_response(row)  # type: ignore[return-value]
        with unit_of_work(db.session) as session:
            transfer, created = transfers.propose(session, command, actor)
        return _body(transfer), 201 if created else 200

    @blp.arguments(TransferQuerySchema, location="query")
    @blp.response(200, TransferPageSchema)
    def get(self, query: dict[str, Any]) -> dict[str, Any]:
        """Transfers, newest first: the public ones, and a caller's own proposals."""
        actor = current_actor()
        total, items = transfer_views.list_transfers(
            db.session, transfer_views.TransferQuery(**query), actor
        )
        return {
            "items": [_body(t) for t in items],
            "page": query["page"],
            "per_page": query["per_page"],
            "total": total,
        }


@blp.route("/transfers/<int:transfer_id>")
class TransferById(MethodView):
    @blp.response(200, TransferSchema)
    @blp.alt_response(404, description="No such transfer (or a proposal not yours)")
    def get(self, transfer_id: int) -> dict[str, Any]:
        """One transfer with its delivery schedule and approval steps."""
        return _body(transfer_views.get_transfer(db.session, transfer_id, current_actor()))


def _action(name: str, roles: tuple[Role, ...], doc: str) -> type[MethodView]:
    @blp.arguments(TransferActionSchema, required=False)
    @blp.response(200, TransferSchema)
    @blp.alt_response(404, description="No such transfer (or a proposal not yours)")
    @blp.alt_response(409, description="Not possible in the transfer's status, or unfunded")
    @blp.alt_response(
        202, schema=InstructionSchema, description="Accept: waits for a second representative"
    )
    def post(self: MethodView, data: dict[str, Any] | None, transfer_id: int) -> dict[str, Any]:
        actor = require_roles(*roles)
        command = transfers.TransferAction(transfer_id, (data or {}).get("reason"))
        if name == "accept" and actor.role is Role.REPRESENTATIVE:
            transfer = transfer_views.get_transfer(db.session, transfer_id, actor)
            if instructions.needs_second(db.session, actor, transfer.proposer):
                with unit_of_work(db.session) as session:
                    row = instructions.initiate(
                        session, actor, instructions.ACCEPT, {"transfer_id": transfer_id}
                    )
                return pending_response(row)  # type: ignore[return-value]
        with unit_of_work(db.session) as session:
            transfer = getattr(transfers, name)(session, command, actor)
        return _body(transfer)

    post.__doc__ = doc
    return type(f"Transfer{name.title()}", (MethodView,), {"post": post})


LEAGUE, REGULATOR = (Role.LEAGUE, Role.REPRESENTATIVE), (Role.REGULATOR,)
PARTY = LEAGUE + REGULATOR  # a regulator acts for the reserve; representatives for enterprises
for _name, _roles, _doc in (
    ("accept", PARTY, "The counterparty accepts: the first payment and allocated water held."),
    ("reject", PARTY, "The counterparty, or a regulator (with a reason), rejects."),
    ("withdraw", PARTY, "The proposer withdraws a proposal before it is accepted."),
    ("review", REGULATOR, "First pair of eyes: a regulator reviews an accepted transfer."),
    ("approve", REGULATOR, "Second pair of eyes: another regulator approves; due years settle."),
):
    blp.route(f"/transfers/<int:transfer_id>/{_name}")(_action(_name, _roles, _doc))


@blp.route("/transfers/<int:transfer_id>/contract.pdf")
class TransferContract(MethodView):
    @blp.response(200, description="The contract (PDF)", content_type="application/pdf")
    @blp.alt_response(404, description="No such transfer (or a proposal not yours)")
    @blp.alt_response(409, description="Not approved: no contract yet")
    def get(self, transfer_id: int) -> Response:
        """The bilingual contract (Chinese first) of an approved transfer."""
        actor = require_roles(Role.LEAGUE, Role.REGULATOR)
        pdf = transfer_contract.contract_pdf(db.session, transfer_id, actor)
        return Response(
            pdf,
            mimetype="application/pdf",
            headers={"Content-Disposition": f'inline; filename="transfer-{transfer_id}.pdf"'},
        )
