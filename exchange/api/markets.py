"""``/api/v1/markets`` and ``/api/v1/right-types``: the registry of instruments."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from flask.views import MethodView
from flask_smorest import Blueprint

from exchange.api.access import guard_writes
from exchange.api.schemas import (
    MarketCreateSchema,
    MarketQuerySchema,
    MarketSchema,
    RightTypeSchema,
)
from exchange.extensions import db
from exchange.models import UNITS, Market, Pollutant, RightType
from exchange.services import registry
from exchange.services.commands import CreateMarket
from exchange.uow import unit_of_work

blp = Blueprint("markets", __name__, url_prefix="/api/v1", description="Markets (instruments)")
blp.before_request(guard_writes)


@blp.route("/markets")
class Markets(MethodView):
    @blp.arguments(MarketQuerySchema, location="query")
    @blp.response(200, MarketSchema(many=True))
    def get(self, query: dict[str, Any]) -> Sequence[Market]:
        """List markets, optionally by right type, basin or status."""
        return registry.list_markets(db.session, **query)

    @blp.arguments(MarketCreateSchema)
    @blp.response(201, MarketSchema)
    @blp.alt_response(403, description="Writes are disabled")
    @blp.alt_response(409, description="A market with this code exists")
    def post(self, data: dict[str, Any]) -> Market:
        """Register a market (regulator)."""
        with unit_of_work(db.session) as session:
            return registry.create_market(session, CreateMarket.from_data(data))


@blp.route("/markets/<int:market_id>")
class MarketById(MethodView):
    @blp.response(200, MarketSchema)
    @blp.alt_response(404, description="No such market")
    def get(self, market_id: int) -> Market:
        """One market by id."""
        return registry.get_market(db.session, market_id)


@blp.route("/right-types")
class RightTypes(MethodView):
    @blp.response(200, RightTypeSchema(many=True))
    def get(self) -> list[dict[str, Any]]:
        """The kinds of rights, their units and (for pollutants) sub-types."""
        return [
            {
                "code": rt.value,
                "units": list(UNITS[rt]),
                "pollutants": [p.value for p in Pollutant] if rt is RightType.POLLUTANT else [],
            }
            for rt in RightType
        ]
