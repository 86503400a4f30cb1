"""``PUT /api/v1/markets/<id>/stability``: the regulator sets a call auction's stability rules.

The rules (cancellation below a cover or price share, cost and emissions containment
reserves) are described in docs/trading.md, "Stability rules"; the market's settings are
shown by ``GET /api/v1/markets/<id>`` and on the market page.
"""

from __future__ import annotations

from typing import Any

from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import Schema

from exchange.api.access import guard_writes
from exchange.api.schemas import MarketCreateSchema, MarketSchema
from exchange.extensions import db
from exchange.mechanisms.call_auction import stability
from exchange.models import Market
from exchange.services import registry
from exchange.uow import unit_of_work

blp = Blueprint(
    "stability", __name__, url_prefix="/api/v1", description="Stability rules of call auctions"
)
blp.before_request(guard_writes)

_FIELDS = (*stability.SETTINGS, "reserve", "reference_price")


StabilitySchema = Schema.from_dict(
    {name: MarketCreateSchema._declared_fields[name] for name in _FIELDS}, name="StabilitySchema"
)
"""A market's stability settings; an absent or null field turns its rule off."""


@blp.route("/markets/<int:market_id>/stability")
class MarketStability(MethodView):
    @blp.arguments(StabilitySchema)
    @blp.response(200, MarketSchema)
    @blp.alt_response(403, description="Writes need the regulator")
    @blp.alt_response(404, description="No such market")
    def put(self, data: dict[str, Any], market_id: int) -> Market:
        """Replace a market's stability rules (regulator); the next run applies them."""
        with unit_of_work(db.session) as session:
            market = registry.get_market(session, market_id)
            return stability.set_settings(session, market, data)
