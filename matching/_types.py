"""Value types of the matching engine: frozen dataclasses of ints and strings only."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

#: Largest accepted order quantity and absolute price. Products and sums of such numbers are
#: computed with exact Python ints where int64 could overflow (see ``docs/matching.md``).
MAX_QUANTITY = 2**62 - 1
MAX_PRICE = 2**52
#: Largest conveyance loss of a link, per mille.
MAX_LOSS = 999


class InvalidBook(ValueError):
    """The book or the rules cannot be cleared; the message says which order/field and why."""

    def __init__(self, message: str, *, order_id: str | None = None, field: str | None = None):
        super().__init__(message)
        self.message = message
        self.order_id = order_id
        self.field = field


class Side(StrEnum):
    BUY = "buy"
    SELL = "sell"


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _check_int(value: object, what: str, order_id: str | None, fld: str) -> None:
    if not _is_int(value):
        raise InvalidBook(
            f"{what}: {fld} must be an integer, got {value!r}", order_id=order_id, field=fld
        )


def _check_side(side: Side | str, what: str, order_id: str) -> Side:
    try:
        return Side(side)
    except ValueError:
        raise InvalidBook(
            f"{what}: side must be 'buy' or 'sell', got {side!r}", order_id=order_id, field="side"
        ) from None


_SEQ_LIMIT = 2**63


def _checked_order(
    id: str, side: Side | str, quantity: int, price: int, seq: int, zone: str | None
) -> Side:
    """An order's fields checked one by one: the first bad one raises, naming itself."""
    if not isinstance(id, str) or not id:
        raise InvalidBook(f"order id must be a non-empty string, got {id!r}", field="id")
    what = f"order {id!r}"
    side_v = _check_side(side, what, id)
    _check_int(quantity, what, id, "quantity")
    _check_int(price, what, id, "price")
    _check_int(seq, what, id, "seq")
    if quantity <= 0:
        raise InvalidBook(
            f"{what}: quantity must be positive, got {quantity}", order_id=id, field="quantity"
        )
    if quantity > MAX_QUANTITY:
        raise InvalidBook(
            f"{what}: quantity {quantity} exceeds {MAX_QUANTITY}", order_id=id, field="quantity"
        )
    if abs(price) > MAX_PRICE:
        raise InvalidBook(
            f"{what}: price {price} outside +-{MAX_PRICE}", order_id=id, field="price"
        )
    if abs(seq) >= _SEQ_LIMIT:
        raise InvalidBook(f"{what}: seq {seq} does not fit in int64", order_id=id, field="seq")
    if zone is not None and (not isinstance(zone, str) or not zone):
        raise InvalidBook(
            f"{what}: zone must be a non-empty string or null, got {zone!r}",
            order_id=id,
            field="zone",
        )
    return side_v


@dataclass(frozen=True, slots=True)
class Order:
    """A limit order. ``quantity`` in units (a multiple of the lot), ``price`` in fen per unit."""

    id: str
    side: Side
    quantity: int
    price: int
    seq: int = 0
    zone: str | None = None

    def __init__(
        self,
        id: str,
        side: Side | str,
        quantity: int,
        price: int,
        seq: int = 0,
        zone: str | None = None,
    ) -> None:
        if not (  # the common case at once: a run builds thousands of orders
            type(id) is str
            and id
            and type(side) is Side
            and type(quantity) is int
            and 0 < quantity <= MAX_QUANTITY
            and type(price) is int
            and -MAX_PRICE <= price <= MAX_PRICE
            and type(seq) is int
            and -_SEQ_LIMIT < seq < _SEQ_LIMIT
            and (zone is None or (type(zone) is str and zone))
        ):
            side = _checked_order(id, side, quantity, price, seq, zone)
        object.__setattr__(self, "id", id)
        object.__setattr__(self, "side", side)
        object.__setattr__(self, "quantity", quantity)
        object.__setattr__(self, "price", price)
        object.__setattr__(self, "seq", seq)
        object.__setattr__(self, "zone", zone)


@dataclass(frozen=True, slots=True)
class Link:
    """A directed transfer limit: at most ``capacity`` units may flow from ``from_zone`` to
    ``to_zone`` (``None`` = unbounded). A two-way link is two links. ``loss`` is the
    conveyance loss in per mille (0-999): of ``f`` units sent, ``f * (1000 - loss) / 1000``
    arrive, rounded down to whole lots (see docs/matching.md, "Conveyance losses")."""

    from_zone: str
    to_zone: str
    capacity: int | None = None
    loss: int = 0

    def __post_init__(self) -> None:
        what = f"link {self.from_zone!r}->{self.to_zone!r}"
        for fld in ("from_zone", "to_zone"):
            v = getattr(self, fld)
            if not isinstance(v, str) or not v:
                raise InvalidBook(f"{what}: {fld} must be a non-empty string", field=f"links.{fld}")
        if self.from_zone == self.to_zone:
            raise InvalidBook(f"{what}: a link must join two different zones", field="links")
        if self.capacity is not None:
            _check_int(self.capacity, what, None, "links.capacity")
            if self.capacity < 0:
                raise InvalidBook(
                    f"{what}: capacity must be >= 0 or null, got {self.capacity}",
                    field="links.capacity",
                )
            if self.capacity > MAX_QUANTITY:
                raise InvalidBook(f"{what}: capacity too large", field="links.capacity")
        _check_int(self.loss, what, None, "links.loss")
        if not 0 <= self.loss <= MAX_LOSS:
            raise InvalidBook(
                f"{what}: loss must be 0..{MAX_LOSS} per mille, got {self.loss}",
                field="links.loss",
            )


@dataclass(frozen=True, slots=True)
class Rules:
    """Clearing rules of one market.

    Zonal clearing is used when ``links`` is non-empty or ``zones`` is given; otherwise all
    orders form one zone (their ``zone`` is ignored). ``zones`` lists the known zones (a zone
    may have no orders and still carry flows); by default the zones of the orders.
    """

    lot: int = 1
    tick: int = 1
    price_floor: int = 0
    price_ceiling: int | None = None
    reference_price: int | None = None
    links: tuple[Link, ...] = ()
    zones: tuple[str, ...] | None = None

    def __post_init__(self) -> None:
        for fld in ("lot", "tick", "price_floor"):
            _check_int(getattr(self, fld), "rules", None, f"rules.{fld}")
        for fld in ("price_ceiling", "reference_price"):
            v = getattr(self, fld)
            if v is not None:
                _check_int(v, "rules", None, f"rules.{fld}")
        if self.lot < 1 or self.lot > MAX_QUANTITY:
            raise InvalidBook(f"rules: lot must be >= 1, got {self.lot}", field="rules.lot")
        if self.tick < 1 or self.tick > MAX_PRICE:
            raise InvalidBook(f"rules: tick must be >= 1, got {self.tick}", field="rules.tick")
        for fld in ("price_floor", "price_ceiling", "reference_price"):
            v = getattr(self, fld)
            if v is None:
                continue
            if abs(v) > MAX_PRICE:
                raise InvalidBook(f"rules: {fld} outside +-{MAX_PRICE}", field=f"rules.{fld}")
            if v % self.tick:
                raise InvalidBook(
                    f"rules: {fld} {v} is not on the tick grid (tick {self.tick})",
                    field=f"rules.{fld}",
                )
        if self.price_ceiling is not None and self.price_ceiling < self.price_floor:
            raise InvalidBook(
                f"rules: price_ceiling {self.price_ceiling} is below price_floor "
                f"{self.price_floor}",
                field="rules.price_ceiling",
            )
        links = tuple(self.links)
        for lk in links:
            if not isinstance(lk, Link):
                raise InvalidBook(f"rules: links must be Link values, got {lk!r}", field="links")
        seen: set[tuple[str, str]] = set()
        for lk in links:
            key = (lk.from_zone, lk.to_zone)
            if key in seen:
                raise InvalidBook(
                    f"rules: duplicate link {lk.from_zone!r}->{lk.to_zone!r}", field="links"
                )
            seen.add(key)
        object.__setattr__(self, "links", links)
        if self.zones is not None:
            zones = tuple(self.zones)
            for z in zones:
                if not isinstance(z, str) or not z:
                    raise InvalidBook(
                        f"rules: zones must be non-empty strings, got {z!r}", field="rules.zones"
                    )
            if len(set(zones)) != len(zones):
                raise InvalidBook("rules: duplicate zone in zones", field="rules.zones")
            object.__setattr__(self, "zones", zones)

    @property
    def zonal(self) -> bool:
        return bool(self.links) or self.zones is not None


@dataclass(frozen=True, slots=True)
class Fill:
    id: str
    quantity: int
    price: int


@dataclass(frozen=True, slots=True)
class Flow:
    """Units sent over a link; ``received`` is what arrives on a link with a loss (``None``:
    no loss, everything sent arrives)."""

    from_zone: str
    to_zone: str
    quantity: int
    received: int | None = None


@dataclass(frozen=True, slots=True)
class ClearingResult:
    """Outcome of one clearing run.

    ``price`` is the uniform price (zonal: the common price if every zone has the same one,
    else ``None``). ``zone_prices`` is ``None`` for single-zone clearing, else sorted
    ``(zone, price or None)`` pairs. ``fills`` holds the orders with a positive fill, sorted by
    order id; ``flows`` the links with a positive flow, sorted by (from, to).
    """

    price: int | None
    zone_prices: tuple[tuple[str, int | None], ...] | None
    volume: int
    fills: tuple[Fill, ...]
    flows: tuple[Flow, ...] = field(default=())

    def zone_price_map(self) -> dict[str, int | None]:
        return dict(self.zone_prices or ())


@dataclass(frozen=True, slots=True)
class Curves:
    """Aggregated supply/demand curves: at each distinct limit price ``prices[i]`` (ascending),
    ``demand[i]`` = total buy quantity with limit >= price and ``supply[i]`` = total sell
    quantity with limit <= price."""

    prices: tuple[int, ...]
    demand: tuple[int, ...]
    supply: tuple[int, ...]
