"""Enterprises' representatives: instructions waiting for a second representative, and
the trusted account list (``exchange.services.instructions``, ``...trusted``).

- ``GET /api/v1/instructions[?participant=]``, ``GET /api/v1/instructions/<id>``
- ``POST /api/v1/instructions/<id>/approve`` (a second representative with ``approve``
  or ``initiate_and_approve``), ``POST /api/v1/instructions/<id>/reject`` (``reason``)
- ``GET /api/v1/participants/<code>/trusted``; ``POST`` (``counterparty``) adds one,
  effective after ``TRUSTED_ACCOUNT_DELAY_HOURS`` (24 by default);
  ``DELETE /api/v1/participants/<code>/trusted/<counterparty>`` removes one at once.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from flask import current_app, jsonify
from flask.typing import ResponseReturnValue
from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate

from exchange.api.access import Actor, Role, require_roles
from exchange.errors import NotFound
from exchange.extensions import db
from exchange.identity.action_log import log_in_unit_of_work
from exchange.models import Instruction, League, TrustedAccount
from exchange.services import instructions, trusted
from exchange.uow import unit_of_work

blp = Blueprint(
    "representatives",
    __name__,
    url_prefix="/api/v1",
    description="Enterprises' representatives: four eyes and trusted accounts",
)
READERS = (Role.REPRESENTATIVE, Role.REGULATOR)


class InstructionSchema(Schema):
    id = fields.Integer()
    participant = fields.String(attribute="participant_code")
    kind = fields.String(metadata={"description": "order, transfer or accept"})
    payload = fields.Method("_payload")
    status = fields.String(metadata={"description": "pending, approved or rejected"})
    initiated_by = fields.String()
    decided_by = fields.String(allow_none=True)
    result = fields.String(allow_none=True, metadata={"example": "order:12"})
    created_at = fields.DateTime()
    decided_at = fields.DateTime(allow_none=True)

    def _payload(self, row: Instruction) -> Any:
        return json.loads(row.payload)


class InstructionQuerySchema(Schema):
    participant = fields.String(validate=validate.Length(1, 32))


class InstructionReasonSchema(Schema):
    reason = fields.String(required=True, validate=validate.Length(1, 500))


class TrustedSchema(Schema):
    counterparty = fields.String(attribute="trusted_code")
    added_by = fields.String()
    added_at = fields.DateTime()
    effective_at = fields.DateTime()


class NewTrustedSchema(Schema):
    counterparty = fields.String(required=True, validate=validate.Length(1, 32))


def pending_response(row: Instruction) -> ResponseReturnValue:
    """202: what was asked waits for a second representative."""
    body = InstructionSchema().dump(row)
    body["message"] = "waits for a second representative's approval"
    return jsonify(body), 202


@blp.route("/instructions")
class Instructions(MethodView):
    @blp.arguments(InstructionQuerySchema, location="query")
    @blp.response(200, InstructionSchema(many=True))
    def get(self, query: dict[str, Any]) -> Sequence[Instruction]:
        """Instructions of the caller's enterprise (the regulator: any), newest first."""
        actor = require_roles(*READERS)
        return instructions.listing(db.session, actor, query.get("participant"))


@blp.route("/instructions/<int:instruction_id>")
class InstructionById(MethodView):
    @blp.response(200, InstructionSchema)
    @blp.alt_response(404, description="No such instruction (or not your enterprise's)")
    def get(self, instruction_id: int) -> Instruction:
        """One instruction."""
        actor = require_roles(*READERS)
        return instructions.get(db.session, actor, instruction_id)


@blp.route("/instructions/<int:instruction_id>/approve")
class ApproveInstruction(MethodView):
    @blp.response(200, InstructionSchema)
    @blp.alt_response(403, description="Without approve rights, or the initiator")
    @blp.alt_response(409, description="Not pending, or entry refused it (e.g. funds)")
    def post(self, instruction_id: int) -> Instruction:
        """A second representative approves: the order or transfer is entered now."""
        actor = require_roles(Role.REPRESENTATIVE)
        with unit_of_work(db.session) as session:
            row, _outcome = instructions.approve(session, actor, instruction_id)
            log_in_unit_of_work(session, 200)
        return row


@blp.route("/instructions/<int:instruction_id>/reject")
class RejectInstruction(MethodView):
    @blp.arguments(InstructionReasonSchema)
    @blp.response(200, InstructionSchema)
    @blp.alt_response(403, description="Without approve rights")
    @blp.alt_response(409, description="Not pending")
    def post(self, data: dict[str, Any], instruction_id: int) -> Instruction:
        """A representative who may approve refuses it."""
        actor = require_roles(Role.REPRESENTATIVE)
        with unit_of_work(db.session) as session:
            row = instructions.reject(session, actor, instruction_id, data["reason"])
            log_in_unit_of_work(session, 200)
        return row


def _may_read_list(actor: Actor, code: str) -> None:
    enterprise = db.session.get(League, code)
    mine = actor.role is Role.REPRESENTATIVE and actor.participant == code
    if enterprise is None or not (mine or actor.role in (Role.REGULATOR, Role.AUDITOR)):
        raise NotFound(f"no enterprise {code!r}", field="code")


@blp.route("/participants/<string:code>/trusted")
class Trusted(MethodView):
    @blp.response(200, TrustedSchema(many=True))
    @blp.alt_response(404, description="No such enterprise (or not yours)")
    def get(self, code: str) -> Sequence[TrustedAccount]:
        """The trusted list, with when each entry takes effect."""
        actor = require_roles(Role.REPRESENTATIVE, Role.REGULATOR, Role.AUDITOR)
        _may_read_list(actor, code)
        return trusted.entries(db.session, code)

    @blp.arguments(NewTrustedSchema)
    @blp.response(201, TrustedSchema)
    @blp.alt_response(403, description="Not allowed to change the list")
    @blp.alt_response(409, description="On the list already")
    def post(self, data: dict[str, Any], code: str) -> TrustedAccount:
        """Add a counterparty; it counts after the delay (24 h by default)."""
        actor = require_roles(Role.REPRESENTATIVE, Role.REGULATOR)
        hours = int(current_app.config.get("TRUSTED_ACCOUNT_DELAY_HOURS", 24))
        with unit_of_work(db.session) as session:
            entry = trusted.add(session, actor, code, data["counterparty"], delay_hours=hours)
            log_in_unit_of_work(session, 201)
        return entry


@blp.route("/participants/<string:code>/trusted/<string:counterparty>")
class TrustedEntry(MethodView):
    @blp.response(200, TrustedSchema)
    @blp.alt_response(403, description="Not allowed to change the list")
    @blp.alt_response(404, description="Not on the list")
    def delete(self, code: str, counterparty: str) -> TrustedAccount:
        """Remove a counterparty at once."""
        actor = require_roles(Role.REPRESENTATIVE, Role.REGULATOR)
        with unit_of_work(db.session) as session:
            entry = trusted.remove(session, actor, code, counterparty)
            log_in_unit_of_work(session, 200)
        return entry
