"""Market data of continuous markets: ``/api/v1/markets/<id>/book``, ``/trades``, ``/closes``.

Public by design: the aggregated best five levels per side, trades without parties,
the day's figures and the daily closes. Orders go through ``POST /api/v1/orders``.
"""

from __future__ import annotations

from typing import Any

from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import Schema, fields

from exchange.extensions import db
from exchange.mechanisms.continuous import market_data

blp = Blueprint(
    "continuous", __name__, url_prefix="/api/v1", description="Continuous markets: market data"
)


class LevelSchema(Schema):
    price = fields.Integer(metadata={"description": "Fen per unit."})
    quantity = fields.Integer(metadata={"description": "Total resting units at this price."})
    orders = fields.Integer()


class BandSchema(Schema):
    low = fields.Integer()
    high = fields.Integer()


class BookSchema(Schema):
    market_id = fields.Integer()
    day = fields.Date(metadata={"description": "The trading day (Beijing)."})
    open = fields.Boolean(metadata={"description": "Does the book take orders now?"})
    session_calendar = fields.String(allow_none=True)
    previous_close = fields.Integer(allow_none=True)
    band_percent = fields.Integer(allow_none=True)
    band = fields.Nested(BandSchema, allow_none=True)
    bids = fields.List(fields.Nested(LevelSchema), metadata={"description": "Best first."})
    asks = fields.List(fields.Nested(LevelSchema), metadata={"description": "Best first."})


class DaySchema(Schema):
    day = fields.Date()
    open = fields.Integer(allow_none=True)
    high = fields.Integer(allow_none=True)
    low = fields.Integer(allow_none=True)
    close = fields.Integer(allow_none=True, metadata={"description": "VWAP so far."})
    volume = fields.Integer()
    turnover = fields.Integer(metadata={"description": "Fen."})
    trades = fields.Integer()
    block_volume = fields.Integer(metadata={"description": "Block trades, not in the close."})


class TradeRowSchema(Schema):
    id = fields.Integer()
    kind = fields.String(metadata={"description": "listed or block"})
    price = fields.Integer()
    quantity = fields.Integer()
    aggressor = fields.String(allow_none=True)
    traded_at = fields.DateTime()
    day = fields.Date()


class PathPointSchema(Schema):
    t = fields.DateTime()
    price = fields.Integer()
    quantity = fields.Integer()


class TradesSchema(Schema):
    market_id = fields.Integer()
    today = fields.Nested(DaySchema)
    trades = fields.List(fields.Nested(TradeRowSchema), metadata={"description": "Newest first."})
    path = fields.List(
        fields.Nested(PathPointSchema), metadata={"description": "Today's listed trades."}
    )


class CloseSchema(DaySchema):
    pass


@blp.route("/markets/<int:market_id>/book")
class Book(MethodView):
    @blp.response(200, BookSchema)
    @blp.alt_response(404, description="No such continuous market")
    def get(self, market_id: int) -> dict[str, Any]:
        """Depth of a continuous market: best five levels per side, the band and reference."""
        return market_data.book(db.session, market_id)


@blp.route("/markets/<int:market_id>/trades")
class Trades(MethodView):
    @blp.response(200, TradesSchema)
    @blp.alt_response(404, description="No such continuous market")
    def get(self, market_id: int) -> dict[str, Any]:
        """The last trades (listed and block), today's figures and today's price path."""
        return market_data.trades(db.session, market_id)


@blp.route("/markets/<int:market_id>/closes")
class Closes(MethodView):
    @blp.response(200, CloseSchema(many=True))
    @blp.alt_response(404, description="No such continuous market")
    def get(self, market_id: int) -> Any:
        """Daily open, high, low, close (VWAP of listed trades) and volume, oldest first."""
        return market_data.closes(db.session, market_id)
