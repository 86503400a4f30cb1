"""Values of the continuous book: rules, commands, events and the errors of order entry.

Every value is a frozen dataclass of ints, strings and enums. Prices are integer fen per
unit, quantities integer units.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from .._types import MAX_PRICE, MAX_QUANTITY, InvalidBook, Side


class InvalidOrder(InvalidBook):
    """The book refuses a command; nothing changed. ``code`` names the rule broken:
    ``lot``, ``tick``, ``band``, ``seq``, ``duplicate_id`` or ``unknown_order``."""

    def __init__(
        self, message: str, *, code: str, order_id: str | None = None, field: str | None = None
    ) -> None:
        super().__init__(message, order_id=order_id, field=field)
        self.code = code


class OutsideBand(InvalidOrder):
    """The limit price is outside the price band; ``low`` and ``high`` are the allowed range."""

    def __init__(self, message: str, *, order_id: str, low: int, high: int) -> None:
        super().__init__(message, code="band", order_id=order_id, field="price")
        self.low = low
        self.high = high


class UnknownOrder(InvalidOrder):
    """A cancel names an order that is not resting (never seen, already filled or cancelled)."""

    def __init__(self, order_id: str) -> None:
        super().__init__(
            f"order {order_id!r} is not resting in the book (unknown, filled or cancelled)",
            code="unknown_order",
            order_id=order_id,
            field="id",
        )


def _int(value: object, what: str, fld: str) -> int:
    if not isinstance(value, int) or isinstance(value, bool):
        raise InvalidBook(f"{what}: {fld} must be an integer, got {value!r}", field=fld)
    return value


def _name(value: object, what: str, fld: str) -> str:
    if not isinstance(value, str) or not value:
        raise InvalidBook(f"{what}: {fld} must be a non-empty string, got {value!r}", field=fld)
    return value


@dataclass(frozen=True, slots=True)
class Band:
    """Allowed limit prices, both ends included."""

    low: int
    high: int

    def __post_init__(self) -> None:
        for fld in ("low", "high"):
            v = _int(getattr(self, fld), "band", f"band.{fld}")
            if abs(v) > MAX_PRICE:
                raise InvalidBook(f"band: {fld} outside +-{MAX_PRICE}", field=f"band.{fld}")
        if self.low > self.high:
            raise InvalidBook(f"band: low {self.low} is above high {self.high}", field="band.low")

    def __contains__(self, price: object) -> bool:
        return isinstance(price, int) and self.low <= price <= self.high


@dataclass(frozen=True, slots=True)
class BookRules:
    """Entry rules of one continuous market: quantities are multiples of ``lot``, prices of
    ``tick``, and within ``band`` when one is set."""

    lot: int = 1
    tick: int = 1
    band: Band | None = None

    def __post_init__(self) -> None:
        lot = _int(self.lot, "rules", "rules.lot")
        tick = _int(self.tick, "rules", "rules.tick")
        if not 1 <= lot <= MAX_QUANTITY:
            raise InvalidBook(f"rules: lot must be >= 1, got {lot}", field="rules.lot")
        if not 1 <= tick <= MAX_PRICE:
            raise InvalidBook(f"rules: tick must be >= 1, got {tick}", field="rules.tick")
        if self.band is not None and not isinstance(self.band, Band):
            raise InvalidBook(f"rules: band must be a Band, got {self.band!r}", field="rules.band")


@dataclass(frozen=True, slots=True)
class LimitOrder:
    """Submit command: a limit order of ``participant``. ``seq`` is the recorded sequence
    number of the command; the book requires it to increase from one accepted order to the
    next, so time priority is ``seq`` order."""

    id: str
    participant: str
    side: Side
    quantity: int
    price: int
    seq: int

    def __post_init__(self) -> None:
        oid = _name(self.id, "order", "id")
        what = f"order {oid!r}"
        _name(self.participant, what, "participant")
        try:
            object.__setattr__(self, "side", Side(self.side))
        except ValueError:
            raise InvalidBook(
                f"{what}: side must be 'buy' or 'sell', got {self.side!r}",
                order_id=oid,
                field="side",
            ) from None
        qty = _int(self.quantity, what, "quantity")
        price = _int(self.price, what, "price")
        seq = _int(self.seq, what, "seq")
        if not 0 < qty <= MAX_QUANTITY:
            raise InvalidBook(
                f"{what}: quantity must be between 1 and {MAX_QUANTITY}, got {qty}",
                order_id=oid,
                field="quantity",
            )
        if abs(price) > MAX_PRICE:
            raise InvalidBook(f"{what}: price {price} outside +-{MAX_PRICE}", order_id=oid,
                              field="price")  # fmt: skip
        if abs(seq) >= 2**63:
            raise InvalidBook(f"{what}: seq {seq} does not fit in int64", order_id=oid,
                              field="seq")  # fmt: skip


@dataclass(frozen=True, slots=True)
class Cancel:
    """Cancel command: withdraw the rest of a resting order."""

    id: str

    def __post_init__(self) -> None:
        _name(self.id, "cancel", "id")


Command = LimitOrder | Cancel


@dataclass(frozen=True, slots=True)
class Trade:
    """One execution, always at the resting (maker) order's price. ``number`` counts the
    book's trades from 1; ``seq`` is the aggressing order's seq; ``aggressor`` its side."""

    number: int
    seq: int
    buy_id: str
    sell_id: str
    buyer: str
    seller: str
    price: int
    quantity: int
    aggressor: Side

    @property
    def maker_id(self) -> str:
        return self.sell_id if self.aggressor is Side.BUY else self.buy_id

    @property
    def taker_id(self) -> str:
        return self.buy_id if self.aggressor is Side.BUY else self.sell_id


class CancelReason(StrEnum):
    REQUESTED = "requested"  # a Cancel command
    SELF_TRADE = "self_trade"  # self-trade prevention: the incoming order's remainder


@dataclass(frozen=True, slots=True)
class Cancelled:
    """Quantity of an order taken out of the book (or, for self-trade prevention, never
    put in). ``against``: the resting order of the same participant that stopped the
    incoming order (self-trade prevention only)."""

    id: str
    participant: str
    side: Side
    price: int
    quantity: int
    reason: CancelReason
    against: str | None = None


@dataclass(frozen=True, slots=True)
class SubmitResult:
    """Outcome of an accepted order: its trades in execution order, the quantity left
    resting, and the remainder cancelled by self-trade prevention (or ``None``).
    Always ``order.quantity == filled + resting + (cancelled.quantity or 0)``."""

    order: LimitOrder
    trades: tuple[Trade, ...]
    resting: int
    cancelled: Cancelled | None

    @property
    def filled(self) -> int:
        return sum(t.quantity for t in self.trades)


@dataclass(frozen=True, slots=True)
class Level:
    """One aggregated price level: total resting quantity and number of orders."""

    price: int
    quantity: int
    orders: int


@dataclass(frozen=True, slots=True)
class Depth:
    """Best price levels per side, best first (bids descending, asks ascending)."""

    bids: tuple[Level, ...]
    asks: tuple[Level, ...]


@dataclass(frozen=True, slots=True)
class RestingOrder:
    """An order resting in the book with its remaining quantity."""

    id: str
    participant: str
    side: Side
    price: int
    quantity: int
    seq: int
