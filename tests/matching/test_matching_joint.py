"""Joint clearing with bundle orders: brute force over every subset of bundles, no bundles =
``clear`` bit for bit, determinism and replay."""

from __future__ import annotations

import itertools
import os
import random
from fractions import Fraction

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from matching_reference import clipped_limit, ref_price

from matching import (
    Bundle,
    BundleLeg,
    InvalidBook,
    Link,
    Order,
    Rules,
    Side,
    clear,
    clear_joint,
    joint_book_hash,
    joint_result_hash,
    joint_surplus,
)

SETTINGS = settings(
    max_examples=int(os.environ.get("MATCHING_EXAMPLES", 150)),
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)
CODES = ["CO2", "H2O", "NOX"]
Markets = dict[str, tuple[list[Order], Rules]]


@st.composite
def market_books(draw: st.DrawFn, lot: int = 1) -> tuple[list[Order], Rules]:
    tick = draw(st.sampled_from([1, 1, 5]))
    n = draw(st.integers(0, 6))
    orders = [
        Order(f"o{i}", draw(st.sampled_from(["buy", "sell"])), draw(st.integers(1, 4)) * lot,
              (18 + draw(st.integers(0, 12))) * tick, draw(st.integers(0, 3)))
        for i in range(n)
    ]  # fmt: skip
    floor = draw(st.sampled_from([0, 20 * tick]))
    ceiling = draw(st.sampled_from([None, 28 * tick]))
    ref = draw(st.sampled_from([None, 24 * tick]))
    return orders, Rules(lot=lot, tick=tick, price_floor=floor, price_ceiling=ceiling,
                         reference_price=ref)  # fmt: skip


@st.composite
def joint_books(draw: st.DrawFn, max_bundles: int = 4) -> tuple[Markets, list[Bundle]]:
    nm = draw(st.integers(1, 3))
    lots = [draw(st.sampled_from([1, 1, 2])) for _ in range(nm)]
    markets = {c: draw(market_books(lot)) for c, lot in zip(CODES[:nm], lots, strict=True)}
    bundles = []
    for k in range(draw(st.integers(0, max_bundles))):
        chosen = draw(st.lists(st.sampled_from(CODES[:nm]), min_size=1, max_size=nm,
                               unique=True))  # fmt: skip
        legs = [BundleLeg(c, draw(st.integers(1, 4)) * markets[c][1].lot) for c in chosen]
        total = sum(leg.quantity for leg in legs)
        limit = total * draw(st.integers(15, 35)) * draw(st.sampled_from([1, 5]))
        bundles.append(Bundle(f"b{k}", draw(st.sampled_from(["buy", "sell"])), legs, limit,
                              draw(st.integers(0, 3))))  # fmt: skip
    return markets, bundles


def market_best(orders: list[Order], rules: Rules, ext_d: int, ext_s: int) -> int | None:
    """Best surplus of one market that must also deliver ``ext_d`` and take ``ext_s`` units."""
    top = rules.price_ceiling
    buys = sorted((clipped_limit(o, rules) for o in orders for _ in range(o.quantity)
                   if o.side is Side.BUY and o.price >= rules.price_floor),
                  reverse=True)  # fmt: skip
    sells = sorted(clipped_limit(o, rules) for o in orders for _ in range(o.quantity)
                   if o.side is Side.SELL and (top is None or o.price <= top))  # fmt: skip
    best = None
    for s in range(len(sells) + 1):
        b = s + ext_s - ext_d
        if 0 <= b <= len(buys):
            v = sum(buys[:b]) - sum(sells[:s])
            best = v if best is None else max(best, v)
    return best


def residual_price(orders: list[Order], rules: Rules, ext_d: int, ext_s: int) -> int | None:
    """The single-market rule (brute-force reference) with the legs as price-taking orders."""
    extra = []
    if ext_d:
        top = rules.price_ceiling
        if top is None:
            top = max([o.price for o in orders] + [rules.price_floor])
        extra.append(Order("~legs-buy", "buy", ext_d, top, -1))
    if ext_s:
        extra.append(Order("~legs-sell", "sell", ext_s, rules.price_floor, -1))
    return ref_price(orders + extra, rules)[0]


def leg_totals(markets: Markets, chosen: list[Bundle]) -> dict[str, tuple[int, int]]:
    out = dict.fromkeys(markets, (0, 0))
    for b in chosen:
        for leg in b.legs:
            d, s = out[leg.market]
            out[leg.market] = (d + leg.quantity, s) if b.side is Side.BUY else (d, s + leg.quantity)
    return out


def paradoxical(b: Bundle, prices: dict[str, int | None]) -> bool:
    value = sum((prices[leg.market] or 0) * leg.quantity for leg in b.legs)
    return value > b.limit if b.side is Side.BUY else value < b.limit


def best_valid(markets: Markets, bundles: list[Bundle]) -> int:
    """Best surplus over every subset of (all-or-nothing) bundles that the markets can absorb
    and in which no bundle is paradoxically accepted at the residual markets' prices."""
    best = None
    for r in range(len(bundles) + 1):
        for chosen in itertools.combinations(bundles, r):
            tot = leg_totals(markets, list(chosen))
            total = sum((1 if b.side is Side.BUY else -1) * b.limit for b in chosen)
            prices: dict[str, int | None] = {}
            for c, (orders, rules) in markets.items():
                v = market_best(orders, rules, *tot[c])
                if v is None:
                    break
                total += v
                prices[c] = residual_price(orders, rules, *tot[c])
            else:
                if not any(paradoxical(b, prices) for b in chosen):
                    best = total if best is None else max(best, total)
    assert best is not None  # the empty set is always valid
    return best


@pytest.mark.slow
@SETTINGS
@given(joint_books())
def test_against_every_subset_of_bundles(book: tuple[Markets, list[Bundle]]) -> None:
    markets, bundles = book
    res = clear_joint(markets, bundles)
    accepted = [b for b in bundles if any(r.id == b.id and r.accepted for r in res.bundles)]
    prices = {c: r.price for c, r in res.markets}
    assert not any(paradoxical(b, prices) for b in accepted)
    tot = leg_totals(markets, accepted)
    for c, (orders, rules) in markets.items():  # prices = the single-market rule, residual
        assert prices[c] == residual_price(orders, rules, *tot[c])
        r = res.market(c)
        bought = sum(f.quantity for f in r.fills if f.id in {b.id for b in accepted
                                                            if b.side is Side.BUY})  # fmt: skip
        assert bought == tot[c][0]  # every accepted leg filled in full
    assert joint_surplus(markets, bundles, res) == best_valid(markets, bundles)


@pytest.mark.slow
@SETTINGS
@given(joint_books())
def test_fills_respect_limits_and_conserve(book: tuple[Markets, list[Bundle]]) -> None:
    markets, bundles = book
    res = clear_joint(markets, bundles)
    side = {b.id: b.side for b in bundles}
    for c, (orders, rules) in markets.items():
        r = res.market(c)
        by_id = {o.id: o for o in orders}
        bought = sold = 0
        for f in r.fills:
            assert f.price == r.price and f.quantity > 0 and f.quantity % rules.lot == 0
            o = by_id.get(f.id)
            s = o.side if o is not None else side[f.id]
            if o is not None:
                assert f.quantity <= o.quantity
                assert o.price >= f.price if s is Side.BUY else o.price <= f.price
            bought += f.quantity if s is Side.BUY else 0
            sold += f.quantity if s is Side.SELL else 0
        assert bought == sold == r.volume


@SETTINGS
@given(st.lists(market_books(), min_size=1, max_size=3))
def test_no_bundles_is_clear_bit_for_bit(books: list[tuple[list[Order], Rules]]) -> None:
    markets = {c: b for c, b in zip(CODES, books, strict=False)}
    res = clear_joint(markets, [])
    assert res.bundles == ()
    for c, (orders, rules) in markets.items():
        assert res.market(c) == clear(orders, rules)


@pytest.mark.slow
@SETTINGS
@given(joint_books(), st.randoms(use_true_random=False))
def test_deterministic_and_replayable(book: tuple[Markets, list[Bundle]],
                                      rnd: random.Random) -> None:  # fmt: skip
    markets, bundles = book
    a = clear_joint(markets, bundles)
    shuffled_b = list(bundles)
    rnd.shuffle(shuffled_b)
    shuffled_m = {}
    for c in reversed(list(markets)):
        orders, rules = markets[c]
        o2 = list(orders)
        rnd.shuffle(o2)
        shuffled_m[c] = (o2, rules)
    b = clear_joint(shuffled_m, shuffled_b)
    assert a == b and joint_result_hash(a) == joint_result_hash(b)
    assert joint_book_hash(markets, bundles) == joint_book_hash(shuffled_m, shuffled_b)


@pytest.mark.slow
@SETTINGS
@given(joint_books(max_bundles=3))
def test_partial_bundles_valid(book: tuple[Markets, list[Bundle]]) -> None:
    markets, bundles = book
    ratio = [Bundle(b.id, b.side, b.legs, b.limit, b.seq, 500) for b in bundles]
    res = clear_joint(markets, ratio)
    prices = {c: r.price for c, r in res.markets}
    for b, r in zip(ratio, res.bundles, strict=True):
        assert b.id == r.id
        if r.accepted:
            assert 2 * r.steps >= r.of  # at least the minimum ratio
            assert not paradoxical(b, prices)
            for leg in b.legs:
                got = {f.id: f.quantity for f in res.market(leg.market).fills}[b.id]
                assert got * r.of == leg.quantity * r.steps  # every leg by the same fraction
    # a bundle that may execute in part never does worse than all-or-nothing
    assert joint_surplus(markets, ratio, res) >= Fraction(0)


def test_bundle_pays_more_for_water_when_carbon_is_cheap() -> None:
    markets = {
        "W": ([Order("w1", "sell", 10, 100, 1), Order("w2", "buy", 5, 90, 2)], Rules()),
        "C": ([Order("c1", "sell", 10, 50, 1), Order("c2", "buy", 5, 60, 2)], Rules()),
    }
    legs = [BundleLeg("W", 10), BundleLeg("C", 10)]
    res = clear_joint(markets, [Bundle("B", "buy", legs, 1600)])
    assert [(b.id, b.accepted) for b in res.bundles] == [("B", True)]
    assert (res.market("W").price, res.market("C").price) == (100, 60)
    res = clear_joint(markets, [Bundle("B", "buy", legs, 1400)])
    assert not res.bundles[0].accepted
    assert res.market("C") == clear(*markets["C"]) and res.market("W") == clear(*markets["W"])


def test_paradoxically_accepted_bundle_is_removed() -> None:
    # The surplus-maximal choice accepts both bundles, but then CO2's price is 30 and b1
    # (limit 200 for 10 units) would pay 300: the best set without paradox is {b2} alone.
    markets = {"CO2": ([Order("s1", "sell", 10, 10), Order("s2", "sell", 10, 30)], Rules())}
    b1 = Bundle("b1", "buy", [BundleLeg("CO2", 10)], 200)
    b2 = Bundle("b2", "buy", [BundleLeg("CO2", 10)], 500)
    res = clear_joint(markets, [b1, b2])
    assert [(b.id, b.accepted) for b in res.bundles] == [("b1", False), ("b2", True)]
    assert res.market("CO2").price == 19  # any price in [10, 29] clears 10: the midpoint
    assert joint_surplus(markets, [b1, b2], res) == 400


@pytest.mark.parametrize(
    ("markets", "bundles", "needle"),
    [
        ({"A": ([], Rules())}, [Bundle("b", "buy", [BundleLeg("Z", 1)], 1)], "unknown market"),
        ({"A": ([], Rules(lot=10))}, [Bundle("b", "buy", [BundleLeg("A", 5)], 1)], "lot"),
        ({"A": ([Order("b", "buy", 1, 1)], Rules())}, [Bundle("b", "buy", [BundleLeg("A", 1)],
                                                              1)], "also an order id"),
        ({"A": ([], Rules(links=(Link("X", "Y"),)))}, [], "single-zone"),
        ({"A": ([], Rules())}, [Bundle("b", "buy", [BundleLeg("A", 1)], 1)] * 2, "duplicate"),
        ({"A": ([], Rules())}, [Bundle("b", "buy", [BundleLeg("A", 2**49 + 1)], 1)],
         "exceeds"),
        ({"A": ([Order("s", "sell", 2**53, 1), Order("t", "sell", 1, 1)], Rules())},
         [Bundle("b", "buy", [BundleLeg("A", 1)], 1)], "too many for bundles"),
    ],
)  # fmt: skip
def test_invalid_joint_books(markets: Markets, bundles: list[Bundle], needle: str) -> None:
    with pytest.raises(InvalidBook, match=needle):
        clear_joint(markets, bundles)


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (("b", "bid", [BundleLeg("A", 1)], 1), "side"),
        (("b", "buy", [], 1), "legs must not be empty"),
        (("b", "buy", [BundleLeg("A", 1), BundleLeg("A", 2)], 1), "same market"),
        (("b", "buy", [BundleLeg("A", 1)], 1.5), "limit must be an integer"),
        (("b", "buy", [BundleLeg("A", 1)], 1, 0, 0), "min_ratio"),
        (("b", "buy", [BundleLeg("A", 1)], 1, 0, 1001), "min_ratio"),
        (("", "buy", [BundleLeg("A", 1)], 1), "non-empty"),
    ],
)
def test_invalid_bundles(args: tuple[object, ...], needle: str) -> None:
    with pytest.raises(InvalidBook, match=needle):
        Bundle(*args)  # type: ignore[arg-type]


@pytest.mark.parametrize("qty", [0, -1, 2.0, True])
def test_invalid_leg_quantity(qty: object) -> None:
    with pytest.raises(InvalidBook, match="quantity"):
        BundleLeg("A", qty)  # type: ignore[arg-type]


@pytest.mark.slow
@SETTINGS
@given(joint_books())
def test_removal_rounds_leave_no_paradox(book: tuple[Markets, list[Bundle]]) -> None:
    """With no exact rounds, paradoxical bundles are removed round by round (EUPHEMIA-style):
    still none is paradoxically accepted, and the surplus is at most the best valid set's."""
    markets, bundles = book
    res = clear_joint(markets, bundles, exact_rounds=0)
    prices = {c: r.price for c, r in res.markets}
    accepted = {r.id for r in res.bundles if r.accepted}
    assert not any(paradoxical(b, prices) for b in bundles if b.id in accepted)
    assert joint_surplus(markets, bundles, res) <= best_valid(markets, bundles)


def test_huge_market_without_bundles_clears_as_clear() -> None:
    orders = [Order("s", "sell", 2**62 - 1, 10), Order("b", "buy", 2**62 - 1, 12)]
    res = clear_joint({"A": (orders, Rules()), "B": ([], Rules())},
                      [Bundle("x", "buy", [BundleLeg("B", 1)], 5)])  # fmt: skip
    assert res.market("A") == clear(orders, Rules())
    assert not res.bundles[0].accepted  # nothing to buy in B
