"""Continuous markets: market data (``/api/v1/markets/<id>/book``, ``/trades``, ``/closes``)
and block trades (``/api/v1/block-trades``).

Public by design: the aggregated best five levels per side, trades without parties,
the day's figures and the daily closes. Orders go through ``POST /api/v1/orders``.
"""

from __future__ import annotations

from typing import Any

from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate

from exchange.api.access import Actor, Role, require_roles
from exchange.api.schemas import MAX_PRICE, MAX_QUANTITY, strict_int
from exchange.api.trading_schemas import CLIENT_ORDER_ID
from exchange.errors import InvalidInput
from exchange.extensions import db
from exchange.mechanisms.continuous import Continuous, block, market_data
from exchange.models.trading import OrderStatus
from exchange.services import visibility
from exchange.uow import unit_of_work

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


class BlockCreateSchema(Schema):
    """A block trade proposed by the caller's league to ``counterparty``."""

    market_id = strict_int(1, 2**31 - 1, required=True)
    side = fields.String(
        required=True,
        validate=validate.OneOf(["buy", "sell"]),
        metadata={"description": "The proposer's side."},
    )
    counterparty = fields.String(required=True, validate=validate.Length(1, 32))
    quantity = strict_int(1, MAX_QUANTITY, required=True, metadata={"description": "Units."})
    price = strict_int(1, MAX_PRICE, required=True, metadata={"description": "Fen per unit."})
    client_id = fields.String(
        required=True,
        validate=validate.Regexp(CLIENT_ORDER_ID, error="1-64 letters, digits or _.:-"),
    )


class BlockSchema(Schema):
    id = fields.Integer()
    market_id = fields.Integer()
    buyer = fields.String()
    seller = fields.String()
    proposer = fields.String()
    client_id = fields.String()
    quantity = fields.Integer()
    price = fields.Integer()
    status = fields.String(metadata={"description": "proposed, confirmed or cancelled"})
    created_at = fields.DateTime()
    decided_by = fields.String(allow_none=True)
    decided_at = fields.DateTime(allow_none=True)


class BlockQuerySchema(Schema):
    market_id = strict_int(1, 2**31 - 1)


def _league(actor: Actor) -> str:
    if actor.league_code is None:
        raise InvalidInput("this user is bound to no league", field="league")
    return actor.league_code


@blp.route("/block-trades")
class BlockTrades(MethodView):
    @blp.arguments(BlockCreateSchema)
    @blp.response(201, BlockSchema)
    @blp.alt_response(200, schema=BlockSchema, description="Repeat of a client_id")
    def post(self, data: dict[str, Any]) -> Any:
        """Propose a block trade (at least 100,000 units, within +-30 % of the previous
        close) to another league, which confirms it."""
        actor = require_roles(Role.LEAGUE)
        league = _league(actor)
        with unit_of_work(db.session) as session:
            row, created = block.propose(session, block.ProposeBlock(**data), league=league,
                                actor=actor.username)  # fmt: skip
        return row, 201 if created else 200

    @blp.arguments(BlockQuerySchema, location="query")
    @blp.response(200, BlockSchema(many=True))
    def get(self, query: dict[str, Any]) -> Any:
        """Block trades: a league's own; every one for the regulator; auditors see them
        once confirmed or cancelled (a proposal is live, like an order)."""
        actor = require_roles(Role.LEAGUE, Role.REGULATOR, Role.AUDITOR)
        league = actor.league_code if actor.role is Role.LEAGUE else None
        return block.list_blocks(
            db.session,
            league=league,
            market_id=query.get("market_id"),
            # the mechanism's rule for another league's live order (regulator only)
            with_proposals=league is not None
            or visibility.may_see_order(actor, "", OrderStatus.OPEN, Continuous.name),
        )


@blp.route("/block-trades/<int:block_id>/confirm")
class BlockConfirm(MethodView):
    @blp.response(200, BlockSchema)
    @blp.alt_response(404, description="No such block trade (or not yours)")
    @blp.alt_response(409, description="Not proposed any more, or outside the session")
    def post(self, block_id: int) -> Any:
        """The counterparty confirms: the trade settles at once (DvP)."""
        actor = require_roles(Role.LEAGUE)
        with unit_of_work(db.session) as session:
            return block.confirm(session, block_id, league=_league(actor), actor=actor.username)


@blp.route("/block-trades/<int:block_id>/cancel")
class BlockCancel(MethodView):
    @blp.response(200, BlockSchema)
    @blp.alt_response(404, description="No such block trade (or not yours)")
    @blp.alt_response(409, description="Not proposed any more")
    def post(self, block_id: int) -> Any:
        """Either party withdraws a proposal before it is confirmed."""
        actor = require_roles(Role.LEAGUE)
        with unit_of_work(db.session) as session:
            return block.cancel(session, block_id, league=_league(actor), actor=actor.username)
