"""Schemas of the trading API: orders, fills, clearing runs, replay."""

from __future__ import annotations

from typing import Any

from marshmallow import Schema, fields, pre_load, validate

from exchange.api.schemas import MAX_PRICE, MAX_QUANTITY, strict_int
from exchange.models.trading import OrderStatus, RunStatus, RunTrigger, Side, Validity

CLIENT_ORDER_ID = r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$"


class OrderCreateSchema(Schema):
    """A new limit order. ``market`` and ``price`` are accepted as aliases."""

    market_id = strict_int(1, 2**31 - 1, required=True)
    side = fields.Enum(Side, by_value=True, required=True)
    quantity = strict_int(1, MAX_QUANTITY, required=True, metadata={"description": "Units."})
    limit_price = strict_int(0, MAX_PRICE, required=True, metadata={"description": "Fen per unit."})
    client_order_id = fields.String(
        required=True,
        validate=validate.Regexp(
            CLIENT_ORDER_ID, error="1-64 letters, digits or _.:- (idempotency key)"
        ),
    )
    validity = fields.Enum(
        Validity,
        by_value=True,
        load_default=Validity.GOOD_TILL_CANCELLED,
        metadata={"description": "gtc: good until cancelled; run: the next clearing run only."},
    )
    league = fields.String(
        validate=validate.Length(1, 32),
        metadata={"description": "Defaults to the caller's league."},
    )

    @pre_load
    def _aliases(self, data: Any, **_kwargs: Any) -> Any:
        if isinstance(data, dict):
            data = dict(data)
            if "market" in data and "market_id" not in data:
                data["market_id"] = data.pop("market")
            if "price" in data and "limit_price" not in data:
                data["limit_price"] = data.pop("price")
        return data


class BatchOrderSchema(OrderCreateSchema):
    """One order of a batch: always for the caller's own league."""

    class Meta:
        exclude = ("league",)


class OrderBatchSchema(Schema):
    """Up to 500 orders of the caller's league, entered all or nothing."""

    orders = fields.List(
        fields.Nested(BatchOrderSchema),
        required=True,
        validate=validate.Length(1, 500),
    )


class FillSchema(Schema):
    run_id = fields.Integer()
    quantity = fields.Integer()
    price = fields.Integer()
    amount = fields.Integer(metadata={"description": "quantity x price, fen."})


class OrderSchema(Schema):
    id = fields.Integer()
    market_id = fields.Integer()
    league = fields.String(attribute="league_code")
    zone = fields.String()
    side = fields.Enum(Side, by_value=True)
    quantity = fields.Integer()
    limit_price = fields.Integer()
    filled_quantity = fields.Integer()
    remaining_quantity = fields.Integer()
    average_price = fields.Integer(allow_none=True)
    status = fields.Enum(OrderStatus, by_value=True)
    validity = fields.Enum(Validity, by_value=True)
    client_order_id = fields.String()
    created_at = fields.DateTime()
    updated_at = fields.DateTime()
    fills = fields.List(fields.Nested(FillSchema))


class OrderBatchResultSchema(Schema):
    created = fields.Integer(metadata={"description": "Orders entered by this request."})
    repeated = fields.Integer(metadata={"description": "client_order_ids seen before."})
    orders = fields.List(fields.Nested(OrderSchema))


class OrderQuerySchema(Schema):
    market_id = fields.Integer(validate=validate.Range(1, 2**31 - 1))
    status = fields.Enum(OrderStatus, by_value=True)
    side = fields.Enum(Side, by_value=True)
    league = fields.String(validate=validate.Length(1, 32))
    page = fields.Integer(load_default=1, validate=validate.Range(1, 10**6))
    per_page = fields.Integer(load_default=50, validate=validate.Range(1, 500))


class OrderPageSchema(Schema):
    items = fields.List(fields.Nested(OrderSchema))
    page = fields.Integer()
    per_page = fields.Integer()
    total = fields.Integer()


class CurvesSchema(Schema):
    prices = fields.List(fields.Integer())
    demand = fields.List(fields.Integer())
    supply = fields.List(fields.Integer())


class ClearingRunSchema(Schema):
    id = fields.Integer()
    market_id = fields.Integer()
    window = fields.DateTime()
    trigger = fields.Enum(RunTrigger, by_value=True)
    status = fields.Enum(RunStatus, by_value=True)
    started_at = fields.DateTime()
    finished_at = fields.DateTime(allow_none=True)
    order_count = fields.Integer()
    volume = fields.Integer()
    price = fields.Integer(allow_none=True)
    zone_prices = fields.Dict(
        keys=fields.String(), values=fields.Integer(allow_none=True), allow_none=True
    )
    flows = fields.List(fields.Dict(), allow_none=True)
    bids = fields.Integer(allow_none=True, metadata={"description": "Buy orders in the run."})
    bidders = fields.Integer(allow_none=True, metadata={"description": "Leagues that bid."})
    offers = fields.Integer(allow_none=True, metadata={"description": "Sell orders in the run."})
    sellers = fields.Integer(allow_none=True, metadata={"description": "Leagues that offered."})
    bid_to_cover = fields.Float(
        allow_none=True, metadata={"description": "Units bid per unit offered."}
    )
    curves = fields.Nested(
        CurvesSchema,
        allow_none=True,
        metadata={
            "description": "Aggregated supply and demand: the regulator's; an auditor's once "
            "no order of the run is live; never public (they reveal sealed bids)."
        },
    )
    timings_ms = fields.Dict(keys=fields.String(), values=fields.Float(), allow_none=True)
    book_hash = fields.String(allow_none=True)
    result_hash = fields.String(allow_none=True)
    engine = fields.Dict(keys=fields.String(), values=fields.String(), allow_none=True)
    failure_reason = fields.String(allow_none=True)
    cancellation = fields.Dict(
        allow_none=True,
        metadata={"description": "A cancelled run: reason (insufficient_cover, "
                  "price_below_reference) and its numbers (bid_volume, offered_volume, "
                  "cover_percent, min_cover_percent, price, reference_price, min_price_percent)."},
    )  # fmt: skip
    reserves = fields.Dict(
        allow_none=True,
        metadata={"description": "Stability settings in force (settings), the reserve "
                  "participant (reserve), units the cost containment reserve released "
                  "(ccr_released) and the emissions containment reserve withheld (ecr_withheld)."},
    )  # fmt: skip
    checkpoint = fields.Dict(
        allow_none=True,
        metadata={"type": "object", "description": "Signed ledger checkpoint covering the run"},
    )


class RunTriggerSchema(Schema):
    window = fields.AwareDateTime(
        load_default=None,
        allow_none=True,
        metadata={"description": "Window to clear (ISO 8601 with offset); default: now."},
    )


class RunQuerySchema(Schema):
    page = fields.Integer(load_default=1, validate=validate.Range(1, 10**6))
    per_page = fields.Integer(load_default=50, validate=validate.Range(1, 500))


class ReplaySchema(Schema):
    run_id = fields.Integer()
    ok = fields.Boolean()
    differences = fields.List(fields.String())
    book_hash = fields.String()
    result_hash = fields.String(allow_none=True)
