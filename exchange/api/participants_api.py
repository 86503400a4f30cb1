"""``/api/v1/participants``: leagues, enterprises, the reserve and other provinces.

- ``GET /participants[?kind=&league=]`` and ``GET /participants/<code>``: leagues, the
  reserve and other provinces' participants are public; an enterprise is seen only by the
  regulator, auditors, the officials of its league and its own representatives (another
  league gets 404, as if it did not exist).
- ``POST /participants``: an enterprise is requested by the regulator or an official of
  its league (201, ``status: "pending"``); the reserve and other provinces' participants
  are registered by the regulator at once.
- ``POST /participants/<code>/approve`` (or ``/reject``): a second, different official.
- ``POST /participants/<code>/state``: restrict, suspend, reopen, close
  (``exchange.services.participant_states``).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate
from sqlalchemy import select

from exchange.api.access import Actor, Role, current_actor, require_roles
from exchange.compliance import status
from exchange.errors import Forbidden, InvalidInput, NotFound
from exchange.extensions import db
from exchange.identity.action_log import log_in_unit_of_work
from exchange.models import League, ParticipantKind, Region
from exchange.services import enterprise_views, enterprises, participant_states, participants
from exchange.uow import unit_of_work

blp = Blueprint(
    "participants", __name__, url_prefix="/api/v1", description="Participants and enterprises"
)
KINDS = [k.value for k in ParticipantKind]


class ParticipantSchema(Schema):
    code = fields.String(metadata={"example": "ordos-coal-power"})
    kind = fields.String(metadata={"description": "league, enterprise, reserve or external"})
    league = fields.String(
        attribute="parent_code", allow_none=True, metadata={"description": "An enterprise's league"}
    )
    name_zh = fields.String()
    name_en = fields.String()
    region = fields.Enum(Region, by_value=True)
    province = fields.String(allow_none=True)
    sector = fields.String(allow_none=True)
    credit_code = fields.String(
        allow_none=True, metadata={"description": "统一社会信用代码 (GB 32100-2015)"}
    )
    status = fields.String(
        metadata={
            "description": "pending, open, restricted, suspended, closure_pending, closed, rejected"
        }
    )
    status_reason = fields.String(allow_none=True)
    synthetic = fields.Boolean()
    basins = fields.List(fields.String(), attribute="basin_codes")


class ParticipantQuerySchema(Schema):
    kind = fields.String(validate=validate.OneOf(KINDS))
    league = fields.String(validate=validate.Length(1, 32))


class NewParticipantSchema(Schema):
    code = fields.String(required=True, validate=validate.Length(1, 32))
    kind = fields.String(required=True, validate=validate.OneOf(KINDS))
    league = fields.String(validate=validate.Length(1, 32))
    name_zh = fields.String(required=True, validate=validate.Length(1, 64))
    name_en = fields.String(required=True, validate=validate.Length(1, 128))
    sector = fields.String(validate=validate.OneOf(enterprises.SECTORS))
    credit_code = fields.String(validate=validate.Length(1, 18))
    province = fields.String(validate=validate.Length(1, 64))
    region = fields.Enum(Region, by_value=True)
    basins = fields.List(
        fields.String(validate=validate.Length(1, 32)), validate=validate.Length(0, 20)
    )
    families = fields.List(
        fields.String(validate=validate.Length(1, 64)), validate=validate.Length(0, 20)
    )


class ParticipantReasonSchema(Schema):
    reason = fields.String(required=True, validate=validate.Length(1, 500))


class ParticipantStateInSchema(Schema):
    state = fields.String(
        required=True, validate=validate.OneOf([s.value for s in enterprises.SETTABLE])
    )
    reason = fields.String(required=True, validate=validate.Length(1, 500))


def sees_enterprise(actor: Actor, participant: League) -> bool:
    """Who sees an enterprise: the regulator, auditors, its league's officials and its own
    representatives; never another league or the public."""
    if actor.role in (Role.REGULATOR, Role.AUDITOR):
        return True
    if actor.role is Role.LEAGUE:
        return participant.parent_code == actor.league_code
    return actor.role is Role.REPRESENTATIVE and actor.participant == participant.code


def visible(actor: Actor, participant: League) -> bool:
    """Leagues, the reserve and other provinces' participants are public; enterprises per
    :func:`sees_enterprise`."""
    if participant.kind == ParticipantKind.ENTERPRISE.value:
        return sees_enterprise(actor, participant)
    return True


@blp.route("/participants")
class Participants(MethodView):
    @blp.arguments(ParticipantQuerySchema, location="query")
    @blp.response(200, ParticipantSchema(many=True))
    def get(self, query: dict[str, Any]) -> Sequence[League]:
        """Participants, by kind then code; ``league``: that league and its enterprises."""
        actor = current_actor()
        statement = select(League).order_by(League.kind, League.code)
        if "kind" in query:
            statement = statement.where(League.kind == query["kind"])
        if "league" in query:
            statement = statement.where(League.parent_code == query["league"])
        rows = db.session.scalars(statement).all()
        return [p for p in rows if visible(actor, p)]

    @blp.arguments(NewParticipantSchema)
    @blp.response(201, ParticipantSchema)
    @blp.alt_response(403, description="Not the regulator or the enterprise's league")
    @blp.alt_response(409, description="The code or credit code exists")
    def post(self, data: dict[str, Any]) -> League:
        """Request an enterprise (pending until a second official approves), or register
        the reserve or another province's participant (regulator)."""
        actor = require_roles(Role.REGULATOR, Role.LEAGUE)
        with unit_of_work(db.session) as session:
            created = _create(session, actor, data)
            log_in_unit_of_work(session, 201)
        return created


def _create(session: Any, actor: Actor, data: dict[str, Any]) -> League:
    kind = ParticipantKind(data["kind"])
    if kind is ParticipantKind.ENTERPRISE:
        for name in ("league", "sector", "credit_code"):
            if name not in data:
                raise InvalidInput(f"{name}: an enterprise needs it", field=name)
        command = enterprises.OpenEnterprise(
            data["code"], data["league"], data["name_zh"], data["name_en"],
            data["sector"], data["credit_code"],
        )  # fmt: skip
        return enterprises.request_enterprise(session, actor, command)
    if actor.role is not Role.REGULATOR:
        raise Forbidden("only the regulator registers participants other than enterprises")
    command_other = participants.RegisterParticipant(
        data["code"], data["name_zh"], data["name_en"], kind,
        data.get("region", Region.WEST), data.get("province"),
        tuple(data.get("basins", ())), tuple(data.get("families", ())),
    )  # fmt: skip
    return participants.register_participant(session, command_other)


def _get_visible(code: str) -> League:
    participant = db.session.get(League, code)
    if participant is None or not visible(current_actor(), participant):
        raise NotFound(f"no participant {code!r}", field="code")
    return participant


@blp.route("/participants/<string:code>")
class ParticipantByCode(MethodView):
    @blp.response(200, ParticipantSchema)
    @blp.alt_response(404, description="No such participant")
    def get(self, code: str) -> League:
        """One participant."""
        return _get_visible(code)


class ParticipantBalanceSchema(Schema):
    asset = fields.String()
    market = fields.String(allow_none=True)
    posted = fields.Integer()
    held = fields.Integer()
    available = fields.Integer()


class ParticipantComplianceSchema(Schema):
    period_id = fields.Integer()
    year = fields.Integer()
    league = fields.String()
    status = fields.String()
    verified = fields.Integer(allow_none=True)
    surrendered = fields.Integer()
    offsets = fields.Integer()
    shortfall = fields.Integer()


class ParticipantHoldingsSchema(Schema):
    participant = fields.String()
    kind = fields.String()
    league = fields.String(allow_none=True)
    status = fields.String()
    balances = fields.List(fields.Nested(ParticipantBalanceSchema))
    compliance = fields.List(fields.Nested(ParticipantComplianceSchema))


@blp.route("/participants/<string:code>/holdings")
class ParticipantHoldings(MethodView):
    @blp.response(200, ParticipantHoldingsSchema)
    @blp.alt_response(404, description="No such participant (or not yours to see)")
    def get(self, code: str) -> dict[str, Any]:
        """Holdings and compliance status, read-only: for the enterprise's league officials
        (the local authority's view), its representatives, the regulator and auditors.
        Never its orders (sealed bids)."""
        actor = require_roles(Role.LEAGUE, Role.REPRESENTATIVE, Role.REGULATOR, Role.AUDITOR)
        today = datetime.now(UTC).date()
        return enterprise_views.holdings(db.session, actor, code, today, status.statuses_of)


@blp.route("/participants/<string:code>/approve")
class ApproveParticipant(MethodView):
    @blp.response(200, ParticipantSchema)
    @blp.alt_response(403, description="Not an official of its league, or the requester")
    @blp.alt_response(409, description="Not pending")
    def post(self, code: str) -> League:
        """A second official (not the requester) opens the enterprise."""
        actor = require_roles(Role.REGULATOR, Role.LEAGUE)
        with unit_of_work(db.session) as session:
            opened = enterprises.approve_enterprise(session, actor, code)
            log_in_unit_of_work(session, 200)
        return opened


@blp.route("/participants/<string:code>/reject")
class RejectParticipant(MethodView):
    @blp.arguments(ParticipantReasonSchema)
    @blp.response(200, ParticipantSchema)
    @blp.alt_response(403, description="Not an official of its league")
    @blp.alt_response(409, description="Not pending")
    def post(self, data: dict[str, Any], code: str) -> League:
        """An official refuses the opening request."""
        actor = require_roles(Role.REGULATOR, Role.LEAGUE)
        with unit_of_work(db.session) as session:
            refused = enterprises.reject_enterprise(session, actor, code, data["reason"])
            log_in_unit_of_work(session, 200)
        return refused


@blp.route("/participants/<string:code>/state")
class ParticipantStateChange(MethodView):
    @blp.arguments(ParticipantStateInSchema)
    @blp.response(200, ParticipantSchema)
    @blp.alt_response(403, description="Not the regulator or the enterprise's league")
    @blp.alt_response(409, description="Not allowed from the current state")
    def post(self, data: dict[str, Any], code: str) -> League:
        """Change the accounts' state (in the action log, with the reason)."""
        actor = require_roles(Role.REGULATOR, Role.LEAGUE)
        with unit_of_work(db.session) as session:
            changed = participant_states.change_state(
                session, actor, code, data["state"], data["reason"]
            )
            log_in_unit_of_work(session, 200)
        return changed
