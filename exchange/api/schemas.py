"""marshmallow schemas of the JSON API (they also generate the OpenAPI document)."""

from __future__ import annotations

from typing import Any

from marshmallow import Schema, ValidationError, fields, validate, validates, validates_schema

from exchange import mechanisms
from exchange.mechanisms.continuous.sessions import CALENDARS
from exchange.models import UNITS, MarketStatus, Pollutant, Region, RightType
from exchange.models.registry import DEFAULT_MECHANISM
from exchange.schedule import parse_schedule

# Bounds keep every value inside a signed 64-bit column and every product of
# quantity and price far from overflow checks elsewhere.
MAX_QUANTITY = 10**15
MAX_PRICE = 10**12
CODE_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$"
ZONE_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,31}$"


def strict_int(minimum: int, maximum: int, **kwargs: Any) -> fields.Integer:
    """An integer field that refuses strings, floats and booleans, within a range."""
    return fields.Integer(strict=True, validate=validate.Range(minimum, maximum), **kwargs)


class BasinSchema(Schema):
    code = fields.String()
    name_zh = fields.String()
    name_en = fields.String()


class LeagueSchema(Schema):
    code = fields.String(metadata={"example": "ordos"})
    name_zh = fields.String(metadata={"example": "鄂尔多斯市"})
    name_en = fields.String(metadata={"example": "Ordos"})
    region = fields.Enum(Region, by_value=True)
    kind = fields.String(
        metadata={"description": "league; reserve (operated by the regulator); external"}
    )
    province = fields.String(
        allow_none=True, metadata={"description": "Another province's participant: its province."}
    )
    basins = fields.List(fields.String(), attribute="basin_codes")


class EligibleLeagueSchema(Schema):
    league = fields.String(required=True, validate=validate.Length(1, 32))
    zone = fields.String(validate=validate.Regexp(ZONE_PATTERN))


class EligibleLeagueOutSchema(Schema):
    league = fields.String(attribute="league_code")
    zone = fields.String()


class TransferLimitSchema(Schema):
    from_zone = fields.String(
        required=True, data_key="from", validate=validate.Regexp(ZONE_PATTERN)
    )
    to_zone = fields.String(required=True, data_key="to", validate=validate.Regexp(ZONE_PATTERN))
    capacity = strict_int(
        0,
        MAX_QUANTITY,
        allow_none=True,
        load_default=None,
        metadata={"description": "Units per clearing run; null means unbounded."},
    )
    loss = strict_int(
        0,
        999,
        load_default=0,
        attribute="loss_permille",
        metadata={"description": "Conveyance loss per mille (water transfers between zones)."},
    )


class MarketCreateSchema(Schema):
    """A new market, as the regulator registers it."""

    code = fields.String(required=True, validate=validate.Regexp(CODE_PATTERN))
    name_zh = fields.String(required=True, validate=validate.Length(1, 128))
    name_en = fields.String(required=True, validate=validate.Length(1, 200))
    right_type = fields.Enum(RightType, by_value=True, required=True)
    pollutant = fields.Enum(Pollutant, by_value=True, allow_none=True, load_default=None)
    basin = fields.String(allow_none=True, load_default=None, validate=validate.Length(1, 32))
    vintage = fields.String(required=True, validate=validate.Length(1, 32))
    unit = fields.String(required=True, validate=validate.Length(1, 16))
    lot = strict_int(1, MAX_QUANTITY, required=True)
    tick = strict_int(1, MAX_PRICE, required=True)
    price_floor = strict_int(0, MAX_PRICE, load_default=0)
    price_ceiling = strict_int(0, MAX_PRICE, allow_none=True, load_default=None)
    cap = strict_int(1, MAX_QUANTITY, required=True)
    clearing_schedule = fields.String(
        load_default="",
        validate=validate.Length(1, 120),
        metadata={
            "description": "Crontab (5 fields) in Beijing time; required for a call auction.",
            "example": "0 10 * * 1",
        },
    )
    mechanism = fields.String(
        load_default=DEFAULT_MECHANISM,
        validate=validate.OneOf(mechanisms.names()),
        metadata={"description": "How the market trades (see docs/architecture.md)."},
    )
    status = fields.Enum(MarketStatus, by_value=True, load_default=MarketStatus.OPEN)
    band_percent = strict_int(
        1,
        100,
        allow_none=True,
        load_default=None,
        metadata={"description": "Continuous: limit prices within +-N % of the previous "
                  "close (default 10)."},
    )  # fmt: skip
    session_calendar = fields.String(
        allow_none=True,
        load_default=None,
        validate=validate.OneOf(CALENDARS),
        metadata={"description": "Continuous: cn_workdays (default: Mon-Fri 9:30-11:30, "
                  "13:00-15:00 Beijing) or always."},
    )  # fmt: skip
    reference_price = strict_int(
        1,
        MAX_PRICE,
        allow_none=True,
        load_default=None,
        metadata={
            "description": "Continuous: the band's reference until a first close (fen); "
            "call auction: the reference of min_price_percent (default: the last "
            "run's price)."
        },
    )
    min_cover_percent = strict_int(
        1, 1000, allow_none=True, load_default=None,
        metadata={"description": "Call auction: cancel a run whose bids cover less than this "
                  "% of the offered volume (EU ETS: 100). Null: off."},
    )  # fmt: skip
    min_price_percent = strict_int(
        1, 100, allow_none=True, load_default=None,
        metadata={"description": "Call auction: cancel a run clearing below this % of the "
                  "reference price (reference_price, else the last run's price). Null: off."},
    )  # fmt: skip
    ccr_trigger_price = strict_int(
        0, MAX_PRICE, allow_none=True, load_default=None,
        metadata={"description": "Cost containment reserve: the reserve sells up to "
                  "ccr_quantity at this price (fen) when the price would exceed it."},
    )  # fmt: skip
    ccr_quantity = strict_int(0, MAX_QUANTITY, allow_none=True, load_default=None)
    ecr_trigger_price = strict_int(
        0, MAX_PRICE, allow_none=True, load_default=None,
        metadata={"description": "Emissions containment reserve: the reserve buys up to "
                  "ecr_quantity at this price (fen) when the price would fall below it, "
                  "and retires them."},
    )  # fmt: skip
    ecr_quantity = strict_int(0, MAX_QUANTITY, allow_none=True, load_default=None)
    reserve = fields.String(
        allow_none=True, load_default=None, attribute="reserve_code",
        validate=validate.Length(1, 32),
        metadata={"description": "The participant (kind reserve) the reserves trade for."},
    )  # fmt: skip
    description = fields.String(load_default="", validate=validate.Length(0, 2000))
    description_zh = fields.String(
        load_default="",
        validate=validate.Length(0, 2000),
        metadata={"description": "The description in Chinese (shown on the Chinese pages)."},
    )
    eligible_leagues = fields.List(
        fields.Nested(EligibleLeagueSchema),
        load_default=None,
        allow_none=True,
        validate=validate.Length(1, 200),
        metadata={"description": "Default: every league of the basin (or of the region)."},
    )
    transfer_limits = fields.List(
        fields.Nested(TransferLimitSchema), load_default=list, validate=validate.Length(0, 500)
    )

    @validates("clearing_schedule")
    def _check_schedule(self, value: str, **_kwargs: Any) -> None:
        if not value:
            return
        try:
            parse_schedule(value)
        except ValueError as exc:
            raise ValidationError(str(exc)) from exc

    @validates_schema
    def _check_consistency(self, data: dict[str, Any], **_kwargs: Any) -> None:
        right_type = data.get("right_type")
        if right_type is RightType.POLLUTANT and data.get("pollutant") is None:
            raise ValidationError("required for pollutant markets", "pollutant")
        if (
            right_type is not None
            and right_type is not RightType.POLLUTANT
            and data.get("pollutant") is not None
        ):
            raise ValidationError("only pollutant markets have a pollutant", "pollutant")
        unit = data.get("unit")
        if right_type is not None and unit is not None and unit not in UNITS[right_type]:
            allowed = ", ".join(UNITS[right_type])
            raise ValidationError(f"unit of a {right_type.value} market must be {allowed}", "unit")
        floor, ceiling = data.get("price_floor"), data.get("price_ceiling")
        if floor is not None and ceiling is not None and floor > ceiling:
            raise ValidationError(
                f"price_ceiling {ceiling} is below price_floor {floor}", "price_ceiling"
            )
        tick = data.get("tick")
        if tick:
            for name in ("price_floor", "price_ceiling"):
                price = data.get(name)
                if price is not None and price % tick:
                    raise ValidationError(f"{price} is not a multiple of the tick {tick}", name)
        lot, cap = data.get("lot"), data.get("cap")
        if lot and cap and cap % lot:
            raise ValidationError(f"cap {cap} is not a multiple of the lot {lot}", "cap")


class MarketSchema(Schema):
    """A market as the API shows it."""

    id = fields.Integer()
    code = fields.String()
    name_zh = fields.String()
    name_en = fields.String()
    right_type = fields.Enum(RightType, by_value=True)
    pollutant = fields.Enum(Pollutant, by_value=True, allow_none=True)
    zone_scope = fields.String(metadata={"example": "basin:yellow"})
    basin = fields.String(attribute="basin_code", allow_none=True)
    vintage = fields.String()
    unit = fields.String()
    lot = fields.Integer()
    tick = fields.Integer(metadata={"description": "Price step in fen."})
    price_floor = fields.Integer(metadata={"description": "Fen per unit."})
    price_ceiling = fields.Integer(allow_none=True, metadata={"description": "Fen per unit."})
    cap = fields.Integer()
    clearing_schedule = fields.String(metadata={"description": "Empty for continuous markets."})
    mechanism = fields.String(metadata={"example": DEFAULT_MECHANISM})
    band_percent = fields.Integer(allow_none=True)
    session_calendar = fields.String(allow_none=True)
    reference_price = fields.Integer(allow_none=True)
    min_cover_percent = fields.Integer(allow_none=True)
    min_price_percent = fields.Integer(allow_none=True)
    ccr_trigger_price = fields.Integer(allow_none=True)
    ccr_quantity = fields.Integer(allow_none=True)
    ecr_trigger_price = fields.Integer(allow_none=True)
    ecr_quantity = fields.Integer(allow_none=True)
    reserve = fields.String(attribute="reserve_code", allow_none=True)
    status = fields.Enum(MarketStatus, by_value=True)
    description = fields.String()
    description_zh = fields.String()
    zonal = fields.Boolean()
    eligible_leagues = fields.List(fields.Nested(EligibleLeagueOutSchema), attribute="eligibility")
    transfer_limits = fields.List(fields.Nested(TransferLimitSchema), attribute="links")
    created_at = fields.DateTime()


class MarketQuerySchema(Schema):
    right_type = fields.Enum(RightType, by_value=True)
    basin = fields.String(validate=validate.Length(1, 32))
    status = fields.Enum(MarketStatus, by_value=True)


class RightTypeSchema(Schema):
    code = fields.String()
    units = fields.List(fields.String())
    pollutants = fields.List(fields.String())


class ErrorSchema(Schema):
    """The JSON body of every error (see ``exchange.errors.error_body``)."""

    code = fields.Integer(metadata={"description": "HTTP status"})
    error = fields.String(metadata={"description": "Stable machine-readable error code"})
    message = fields.String(metadata={"description": "What went wrong and how to fix it"})
    errors = fields.Dict(metadata={"description": "Field errors by location and field"})
    details = fields.Dict(metadata={"description": "Extra facts about a domain error"})
