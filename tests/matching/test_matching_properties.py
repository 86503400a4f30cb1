"""Property tests: the fast single-zone clear against the brute-force reference."""

from __future__ import annotations

import os
import random

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from matching_reference import ref_clear

from matching import Order, Rules, Side, book_hash, clear, result_hash

pytestmark = pytest.mark.slow  # property tests over many generated books

SETTINGS = settings(
    max_examples=int(os.environ.get("MATCHING_EXAMPLES", 300)),
    deadline=None,
    database=None,  # no .hypothesis/ directory in the work tree
    suppress_health_check=[HealthCheck.too_slow],
)


@st.composite
def books(draw: st.DrawFn) -> tuple[list[Order], Rules]:
    tick = draw(st.sampled_from([1, 1, 2, 5]))
    lot = draw(st.sampled_from([1, 1, 10]))
    n = draw(st.integers(0, 12))
    base = draw(st.integers(0, 40))
    orders = []
    for i in range(n):
        side = draw(st.sampled_from(["buy", "sell"]))
        price = (base + draw(st.integers(0, 12))) * tick
        qty = draw(st.integers(1, 6)) * lot
        seq = draw(st.integers(0, 5))  # duplicates on purpose: id breaks the tie
        orders.append(Order(f"o{i:02d}", side, qty, price, seq))
    floor = draw(st.one_of(st.just(0), st.integers(0, 52).map(lambda x: x * tick)))
    ceiling = draw(st.one_of(st.none(), st.integers(floor // tick, 60).map(lambda x: x * tick)))
    ref = draw(st.one_of(st.none(), st.integers(0, 60).map(lambda x: x * tick)))
    rules = Rules(lot=lot, tick=tick, price_floor=floor, price_ceiling=ceiling,
                  reference_price=ref)  # fmt: skip
    return orders, rules


@SETTINGS
@given(books())
def test_matches_brute_force_reference(book: tuple[list[Order], Rules]) -> None:
    orders, rules = book
    got = clear(orders, rules)
    want = ref_clear(orders, rules)
    assert (got.price, got.volume) == (want.price, want.volume)
    assert {f.id: f.quantity for f in got.fills} == want.fills


@SETTINGS
@given(books())
def test_invariants(book: tuple[list[Order], Rules]) -> None:
    orders, rules = book
    r = clear(orders, rules)
    by_id = {o.id: o for o in orders}
    bought = sum(f.quantity for f in r.fills if by_id[f.id].side is Side.BUY)
    sold = sum(f.quantity for f in r.fills if by_id[f.id].side is Side.SELL)
    assert bought == sold == r.volume  # conservation
    if r.price is None:
        assert r.fills == ()
        return
    assert r.price % rules.tick == 0 and r.price >= rules.price_floor
    assert rules.price_ceiling is None or r.price <= rules.price_ceiling
    filled = {f.id: f.quantity for f in r.fills}
    for o in orders:
        f = filled.get(o.id, 0)
        assert f % rules.lot == 0 and 0 <= f <= o.quantity
        better = o.price > r.price if o.side is Side.BUY else o.price < r.price
        worse = o.price < r.price if o.side is Side.BUY else o.price > r.price
        if worse:
            assert f == 0  # limit respected
        at_bound = (o.side is Side.BUY and r.price == rules.price_ceiling) or (
            o.side is Side.SELL and r.price == rules.price_floor
        )
        if better and not at_bound:
            assert f == o.quantity  # strictly better than the price: filled in full
    for f in r.fills:
        assert f.price == r.price


@SETTINGS
@given(books(), st.randoms(use_true_random=False))
def test_permutation_invariant(book: tuple[list[Order], Rules], rnd: random.Random) -> None:
    orders, rules = book
    shuffled = list(orders)
    rnd.shuffle(shuffled)
    a, b = clear(orders, rules), clear(shuffled, rules)
    assert a == b
    assert result_hash(a) == result_hash(b)
    assert book_hash(orders, rules) == book_hash(shuffled, rules)
