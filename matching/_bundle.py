"""Value types of joint clearing: bundle orders across markets, and the joint result."""

from __future__ import annotations

from dataclasses import dataclass
from math import gcd

from ._types import MAX_QUANTITY, ClearingResult, InvalidBook, Side, _check_int, _check_side

#: Largest absolute bundle limit (total fen).
MAX_LIMIT = 2**62 - 1
#: ``min_ratio`` of an all-or-nothing bundle (per mille).
ALL_OR_NOTHING = 1000


@dataclass(frozen=True, slots=True)
class BundleLeg:
    """``quantity`` units in market ``market`` (a multiple of that market's lot)."""

    market: str
    quantity: int

    def __post_init__(self) -> None:
        if not isinstance(self.market, str) or not self.market:
            raise InvalidBook(f"leg market must be a non-empty string, got {self.market!r}",
                              field="legs.market")  # fmt: skip
        _check_int(self.quantity, f"leg in {self.market!r}", None, "legs.quantity")
        if not 0 < self.quantity <= MAX_QUANTITY:
            raise InvalidBook(
                f"leg in {self.market!r}: quantity must be positive and at most "
                f"{MAX_QUANTITY}, got {self.quantity}",
                field="legs.quantity",
            )


@dataclass(frozen=True, slots=True)
class Bundle:
    """A bundle order: all of its legs at their markets' uniform prices, or none.

    ``limit`` is on the total value (sum over legs of price x quantity, in fen): a buy bundle
    pays at most ``limit``, a sell bundle receives at least ``limit``. ``min_ratio`` (per
    mille, 1..1000; 1000 = all or nothing) lets the bundle execute in part, every leg by the
    same fraction, with the limit scaled alike.
    """

    id: str
    side: Side
    legs: tuple[BundleLeg, ...]
    limit: int
    seq: int = 0
    min_ratio: int = ALL_OR_NOTHING

    def __init__(
        self,
        id: str,
        side: Side | str,
        legs: tuple[BundleLeg, ...] | list[BundleLeg],
        limit: int,
        seq: int = 0,
        min_ratio: int = ALL_OR_NOTHING,
    ) -> None:
        if not isinstance(id, str) or not id:
            raise InvalidBook(f"bundle id must be a non-empty string, got {id!r}", field="id")
        what = f"bundle {id!r}"
        side_v = _check_side(side, what, id)
        legs_t = tuple(legs)
        if not legs_t:
            raise InvalidBook(f"{what}: legs must not be empty", order_id=id, field="legs")
        for leg in legs_t:
            if not isinstance(leg, BundleLeg):
                raise InvalidBook(f"{what}: legs must be BundleLeg values", order_id=id,
                                  field="legs")  # fmt: skip
        markets = [leg.market for leg in legs_t]
        if len(set(markets)) != len(markets):
            raise InvalidBook(f"{what}: two legs in the same market", order_id=id, field="legs")
        for fld, v in (("limit", limit), ("seq", seq), ("min_ratio", min_ratio)):
            _check_int(v, what, id, fld)
        if abs(limit) > MAX_LIMIT:
            raise InvalidBook(f"{what}: limit outside +-{MAX_LIMIT}", order_id=id, field="limit")
        if abs(seq) >= 2**63:
            raise InvalidBook(f"{what}: seq {seq} does not fit in int64", order_id=id,
                              field="seq")  # fmt: skip
        if not 1 <= min_ratio <= ALL_OR_NOTHING:
            raise InvalidBook(f"{what}: min_ratio must be 1..1000 per mille, got {min_ratio}",
                              order_id=id, field="min_ratio")  # fmt: skip
        object.__setattr__(self, "id", id)
        object.__setattr__(self, "side", side_v)
        object.__setattr__(self, "legs", tuple(sorted(legs_t, key=lambda leg: leg.market)))
        object.__setattr__(self, "limit", limit)
        object.__setattr__(self, "seq", seq)
        object.__setattr__(self, "min_ratio", min_ratio)

    def steps(self, lots: dict[str, int]) -> tuple[int, int]:
        """(fewest, most) steps the bundle may execute: each step is every leg's quantity
        divided by the gcd of the legs' quantities in lots (``lots``: market -> lot)."""
        g = 0
        for leg in self.legs:
            g = gcd(g, leg.quantity // lots[leg.market])
        return -((-self.min_ratio * g) // ALL_OR_NOTHING), g


@dataclass(frozen=True, slots=True)
class BundleResult:
    """Whether a bundle executed, and by how many of its ``of`` steps (``of`` = all);
    ``partial``: the bundle may execute in part (``min_ratio`` below 1000)."""

    id: str
    accepted: bool
    steps: int
    of: int
    partial: bool = False


@dataclass(frozen=True, slots=True)
class JointResult:
    """Outcome of a joint run: each market's result (sorted by code; bundle legs appear as
    fills under the bundle id) and each bundle's outcome (sorted by id)."""

    markets: tuple[tuple[str, ClearingResult], ...]
    bundles: tuple[BundleResult, ...]

    def market(self, code: str) -> ClearingResult:
        return dict(self.markets)[code]
