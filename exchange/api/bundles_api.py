"""``/api/v1/bundles``: bundle orders over several call-auction markets of one window (issue 21).

A bundle is entered with its worst-case holds; it is sealed like a live order while open (its
league and the regulator see it, other leagues and auditors get 404), and the league or the
regulator may cancel it while open.
"""

from __future__ import annotations

from typing import Any

from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import Schema, ValidationError, fields, validate, validates_schema
from sqlalchemy.orm import Session

from exchange.api.access import Role, require_roles
from exchange.api.representatives_api import InstructionSchema, pending_response
from exchange.api.schemas import MAX_PRICE, MAX_QUANTITY, strict_int
from exchange.api.trading import trading_party
from exchange.api.trading_schemas import CLIENT_ORDER_ID
from exchange.extensions import db
from exchange.identity.action_log import log_in_unit_of_work
from exchange.models.bundles import CLIENT_BUNDLE_KEY, Bundle, BundleStatus
from exchange.models.trading import Side
from exchange.services import bundles, instructions
from exchange.uow import idempotent_unit_of_work, unit_of_work

blp = Blueprint("bundles", __name__, url_prefix="/api/v1", description="Bundle orders")

MAX_TOTAL = 2**62


class LegCreateSchema(Schema):
    market_id = strict_int(1, 2**31 - 1, load_default=None, metadata={"description": "Or market."})
    market = fields.String(
        load_default=None,
        validate=validate.Length(1, 64),
        metadata={"description": "The market's code (e.g. CEA-2026), instead of market_id."},
    )
    side = fields.Enum(Side, by_value=True, required=True)
    quantity = strict_int(1, MAX_QUANTITY, required=True, metadata={"description": "Units."})
    limit_price = strict_int(
        0,
        MAX_PRICE,
        load_default=None,
        allow_none=True,
        metadata={"description": "Fen per unit; adds to the total limit."},
    )

    @validates_schema
    def _one_market(self, data: dict[str, Any], **_: Any) -> None:
        if (data.get("market_id") is None) == (data.get("market") is None):
            raise ValidationError("give market_id or market (its code), not both", "market_id")


class BundleCreateSchema(Schema):
    window = fields.AwareDateTime(
        required=True,
        metadata={
            "description": "The call-auction window every leg's market "
            "clears at (ISO 8601 with offset), in the future."
        },
    )
    legs = fields.List(
        fields.Nested(LegCreateSchema), required=True, validate=validate.Length(1, bundles.MAX_LEGS)
    )
    max_total = strict_int(
        1,
        MAX_TOTAL,
        load_default=None,
        allow_none=True,
        metadata={"description": "Buy: most the bundle pays in total, fen."},
    )
    min_total = strict_int(
        1,
        MAX_TOTAL,
        load_default=None,
        allow_none=True,
        metadata={"description": "Sell: least it receives in total, fen."},
    )
    min_ratio = strict_int(
        1,
        1000,
        load_default=None,
        allow_none=True,
        metadata={
            "description": "Per mille: may execute in part, every leg "
            "alike, down to this ratio; default all or nothing."
        },
    )
    client_order_id = fields.String(
        required=True,
        validate=validate.Regexp(
            CLIENT_ORDER_ID, error="1-64 letters, digits or _.:- (idempotency key)"
        ),
    )


class LegSchema(Schema):
    market_id = fields.Integer()
    side = fields.Enum(Side, by_value=True, attribute="bundle.side")
    quantity = fields.Integer()
    limit_price = fields.Integer(allow_none=True)
    filled_quantity = fields.Integer()
    price = fields.Integer(allow_none=True)
    run_id = fields.Integer(allow_none=True)


class HoldSchema(Schema):
    id = fields.Integer()
    asset = fields.String()
    amount = fields.Integer()
    remaining = fields.Integer()


class BundleSchema(Schema):
    id = fields.Integer()
    league = fields.String(attribute="league_code")
    window = fields.DateTime()
    side = fields.Enum(Side, by_value=True)
    max_total = fields.Integer(allow_none=True)
    min_total = fields.Integer(allow_none=True)
    limit_total = fields.Integer(metadata={"description": "The effective limit on the total."})
    min_ratio = fields.Integer(allow_none=True)
    client_order_id = fields.String()
    status = fields.Enum(BundleStatus, by_value=True)
    reason = fields.String(allow_none=True)
    reason_detail = fields.String(allow_none=True)
    steps = fields.Integer(allow_none=True)
    of = fields.Integer(allow_none=True)
    amount = fields.Integer(metadata={"description": "Paid (buy) or received (sell), fen."})
    created_at = fields.DateTime()
    updated_at = fields.DateTime()
    legs = fields.List(fields.Nested(LegSchema))
    holds = fields.List(fields.Nested(HoldSchema))


class BundleQuerySchema(Schema):
    status = fields.Enum(BundleStatus, by_value=True)
    league = fields.String(validate=validate.Length(1, 32))
    page = fields.Integer(load_default=1, validate=validate.Range(1, 10**6))
    per_page = fields.Integer(load_default=50, validate=validate.Range(1, 500))


class BundlePageSchema(Schema):
    items = fields.List(fields.Nested(BundleSchema))
    page = fields.Integer()
    per_page = fields.Integer()
    total = fields.Integer()


def _view(session: Session, bundle: Bundle) -> dict[str, Any]:
    """The bundle's fields, its legs and its holds (serialised by ``BundleSchema``)."""
    names = [name for name in BundleSchema().fields if name not in ("league", "holds")]
    data = {name: getattr(bundle, name) for name in names}
    data["league_code"] = bundle.league_code
    data["holds"] = bundles.holds_of(session, bundle)
    return data


@blp.route("/bundles")
class Bundles(MethodView):
    @blp.arguments(BundleCreateSchema)
    @blp.response(201, BundleSchema)
    @blp.alt_response(200, schema=BundleSchema, description="Repeat of a client_order_id")
    @blp.alt_response(
        202, schema=InstructionSchema, description="Waits for a second representative"
    )
    def post(self, data: dict[str, Any]) -> tuple[dict[str, Any], int]:
        """Enter a bundle; its worst case is held at once (buy: the limit; sell: every leg)."""
        actor = require_roles(Role.LEAGUE, Role.REPRESENTATIVE)
        league = trading_party(actor, None)
        if actor.role is Role.REPRESENTATIVE and instructions.needs_second(db.session, actor):
            with unit_of_work(db.session) as session:
                payload = {**data, "window": data["window"].isoformat()}
                row = instructions.initiate(session, actor, instructions.BUNDLE, payload)
                log_in_unit_of_work(session, 202)
            return pending_response(row)  # type: ignore[return-value]

        def enter(session: Session) -> tuple[dict[str, Any], bool]:
            command = bundles.PlaceBundle.from_data(bundles.with_market_ids(session, data))
            placed = bundles.place_bundle(session, command, league=league, actor=actor.username)
            log_in_unit_of_work(session, 201 if placed.created else 200)
            return _view(session, placed.bundle), placed.created

        body, created = idempotent_unit_of_work(db.session, enter, key=CLIENT_BUNDLE_KEY)
        return body, 201 if created else 200

    @blp.arguments(BundleQuerySchema, location="query")
    @blp.response(200, BundlePageSchema)
    def get(self, query: dict[str, Any]) -> dict[str, Any]:
        """Bundles, newest first: a league's own; all for the regulator; auditors once closed."""
        actor = require_roles(Role.LEAGUE, Role.REPRESENTATIVE, Role.REGULATOR, Role.AUDITOR)
        total, items = bundles.list_bundles(db.session, actor, **query)
        return {
            "items": [_view(db.session, b) for b in items],
            "page": query["page"],
            "per_page": query["per_page"],
            "total": total,
        }


@blp.route("/bundles/<int:bundle_id>")
class BundleById(MethodView):
    @blp.response(200, BundleSchema)
    @blp.alt_response(404, description="No such bundle (or sealed from you)")
    def get(self, bundle_id: int) -> dict[str, Any]:
        """One bundle with its legs and holds."""
        actor = require_roles(Role.LEAGUE, Role.REPRESENTATIVE, Role.REGULATOR, Role.AUDITOR)
        return _view(db.session, bundles.get_bundle(db.session, bundle_id, actor))

    @blp.response(200, BundleSchema)
    @blp.alt_response(404, description="No such bundle (or not yours)")
    @blp.alt_response(409, description="The bundle is no longer open")
    def delete(self, bundle_id: int) -> dict[str, Any]:
        """Cancel an open bundle (its league or the regulator); its holds are released."""
        actor = require_roles(Role.LEAGUE, Role.REPRESENTATIVE, Role.REGULATOR)
        if actor.role is not Role.REGULATOR:
            trading_party(actor, None)  # a representative who may trade; no second one
        with unit_of_work(db.session) as session:
            bundle = bundles.cancel_bundle(
                session, bundle_id=bundle_id, viewer=actor, actor=actor.username
            )
            log_in_unit_of_work(session, 200)
            body = _view(session, bundle)
        return body
