"""Zonal clearing: examples, and properties against an independent order-level LP."""

from __future__ import annotations

import json
import os
import random
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from matching_reference import clipped_limit, lp_surplus

from matching import ClearingResult, InvalidBook, Link, Order, Rules, Side, clear
from matching.cli import parse_book

SETTINGS = settings(
    max_examples=int(os.environ.get("MATCHING_EXAMPLES", 150)),
    deadline=None,
    database=None,  # no .hypothesis/ directory in the work tree
    suppress_health_check=[HealthCheck.too_slow],
)
ZONES = ["A", "B", "C", "D"]


def o(id_: str, side: str, q: int, p: int, zone: str, seq: int = 0) -> Order:
    return Order(id_, side, q, p, seq, zone)


def fills(r: ClearingResult) -> dict[str, int]:
    return {f.id: f.quantity for f in r.fills}


def test_congested_link_splits_prices() -> None:
    book = [o("s", "sell", 10, 50, "A"), o("b", "buy", 10, 100, "B"), o("b2", "buy", 5, 80, "A")]
    r = clear(book, Rules(links=(Link("A", "B", 5),)))
    assert r.zone_price_map() == {"A": 65, "B": 100}
    assert r.price is None and r.volume == 10
    assert fills(r) == {"s": 10, "b": 5, "b2": 5}
    assert [(f.from_zone, f.to_zone, f.quantity) for f in r.flows] == [("A", "B", 5)]


def test_one_way_link_blocks_the_other_direction() -> None:
    book = [o("b", "buy", 10, 120, "A"), o("s", "sell", 10, 100, "B")]
    r = clear(book, Rules(links=(Link("A", "B", 100),)))
    assert (r.volume, r.fills, r.flows) == (0, (), ())
    r = clear(book, Rules(links=(Link("B", "A", 100),)))
    assert (r.price, r.volume) == (110, 10)


def test_unbounded_equals_single_zone() -> None:
    book = [o("s", "sell", 10, 50, "A"), o("b", "buy", 10, 100, "B"), o("b2", "buy", 5, 80, "A")]
    zonal = clear(book, Rules(links=(Link("A", "B"), Link("B", "A"))))
    single = clear(book)
    assert (zonal.price, zonal.volume, zonal.fills) == (single.price, single.volume, single.fills)


def test_transit_zone_without_orders() -> None:
    book = [o("s", "sell", 10, 50, "A"), o("b", "buy", 10, 100, "C")]
    rules = Rules(links=(Link("A", "B", 6), Link("B", "C", 8)), zones=("A", "B", "C"))
    r = clear(book, rules)
    assert r.volume == 6
    assert [(f.from_zone, f.to_zone, f.quantity) for f in r.flows] == [("A", "B", 6),
                                                                      ("B", "C", 6)]  # fmt: skip
    p = r.zone_price_map()
    assert p["A"] == 50 and p["C"] == 100 and p["B"] is not None and 50 <= p["B"] <= 100


def test_link_to_unknown_zone() -> None:
    with pytest.raises(InvalidBook, match="unknown zone 'Z'"):
        clear([o("b", "buy", 1, 1, "A")], Rules(links=(Link("A", "Z", 1),)))


def test_zone_required_with_links() -> None:
    with pytest.raises(InvalidBook, match="'b': zone is required"):
        clear([Order("b", "buy", 1, 1, 0, None)], Rules(links=(Link("A", "B", 1),)))


@st.composite
def networks(draw: st.DrawFn, mode: str = "random") -> tuple[list[Order], Rules]:
    nz = draw(st.integers(2, 4))
    zones = ZONES[:nz]
    links: list[Link] = []
    if mode == "unbounded":  # a random spanning tree, both directions, plus extras
        for i in range(1, nz):
            j = draw(st.integers(0, i - 1))
            links += [Link(zones[i], zones[j]), Link(zones[j], zones[i])]
    else:
        for a in zones:
            for b in zones:
                if a != b and draw(st.booleans()):
                    cap = 0 if mode == "zero" else draw(st.one_of(st.none(), st.integers(0, 12)))
                    links.append(Link(a, b, cap))
    tick = draw(st.sampled_from([1, 5]))
    n = draw(st.integers(0, 14))
    orders = []
    for i in range(n):
        orders.append(Order(
            f"o{i:02d}", draw(st.sampled_from(["buy", "sell"])), draw(st.integers(1, 8)),
            (20 + draw(st.integers(0, 10))) * tick, draw(st.integers(0, 4)),
            draw(st.sampled_from(zones)),
        ))  # fmt: skip
    floor = draw(st.sampled_from([0, 22 * tick]))
    ceiling = draw(st.sampled_from([None, 28 * tick]))
    ref = draw(st.sampled_from([None, 25 * tick]))
    rules = Rules(tick=tick, price_floor=floor, price_ceiling=ceiling, reference_price=ref,
                  links=tuple(links), zones=tuple(zones))  # fmt: skip
    return orders, rules


def surplus(r: ClearingResult, orders: list[Order], rules: Rules) -> int:
    by_id = {x.id: x for x in orders}
    total = 0
    for f in r.fills:
        x = by_id[f.id]
        sign = 1 if x.side is Side.BUY else -1
        total += sign * clipped_limit(x, rules) * f.quantity
    return total


def check_equilibrium(r: ClearingResult, orders: list[Order], rules: Rules) -> None:
    prices = r.zone_price_map()
    filled = fills(r)
    bought = dict.fromkeys(prices, 0)
    sold = dict.fromkeys(prices, 0)
    for x in orders:
        f = filled.get(x.id, 0)
        assert 0 <= f <= x.quantity
        p = prices[x.zone or ""]
        if f:
            assert p is not None
            assert (x.price >= p) if x.side is Side.BUY else (x.price <= p)  # limit respected
        if x.side is Side.BUY:
            bought[x.zone or ""] += f
        else:
            sold[x.zone or ""] += f
        if p is None:
            continue
        lim = clipped_limit(x, rules)
        if (x.side is Side.BUY and lim > p) or (x.side is Side.SELL and lim < p):
            assert f == x.quantity  # strictly better than the zone price: filled in full
    net = {z: bought[z] - sold[z] for z in prices}
    flow = {(f.from_zone, f.to_zone): f.quantity for f in r.flows}
    for lk in rules.links:
        f = flow.get((lk.from_zone, lk.to_zone), 0)
        assert f >= 0 and (lk.capacity is None or f <= lk.capacity)
        net[lk.from_zone] += f
        net[lk.to_zone] -= f
        pa, pb = prices[lk.from_zone], prices[lk.to_zone]
        if pa is None or pb is None:
            continue
        if f > 0:
            assert pa <= pb  # goods flow towards the dearer zone
        if lk.capacity is None or f < lk.capacity:
            assert pb <= pa  # an uncongested link leaves no price gap against its direction
    assert all(v == 0 for v in net.values())  # conservation in every zone
    assert r.volume == sum(bought.values()) == sum(sold.values())
    for p in prices.values():
        if p is not None:
            assert p % rules.tick == 0 and p >= rules.price_floor
            assert rules.price_ceiling is None or p <= rules.price_ceiling


@pytest.mark.slow
@SETTINGS
@given(networks())
def test_against_order_level_lp(net: tuple[list[Order], Rules]) -> None:
    orders, rules = net
    r = clear(orders, rules)
    best = lp_surplus(orders, rules, list(rules.zones or ()))
    assert surplus(r, orders, rules) == pytest.approx(best, abs=1e-6)
    check_equilibrium(r, orders, rules)


@SETTINGS
@given(networks(mode="unbounded"))
def test_unbounded_links_equal_single_zone(net: tuple[list[Order], Rules]) -> None:
    orders, rules = net
    zonal = clear(orders, rules)
    single = clear(orders, Rules(tick=rules.tick, price_floor=rules.price_floor,
                                 price_ceiling=rules.price_ceiling,
                                 reference_price=rules.reference_price))  # fmt: skip
    assert (zonal.price, zonal.volume, zonal.fills) == (single.price, single.volume, single.fills)
    if single.price is not None:
        assert set(zonal.zone_price_map().values()) == {single.price}


@SETTINGS
@given(networks(mode="zero"))
def test_zero_links_each_zone_alone(net: tuple[list[Order], Rules]) -> None:
    orders, rules = net
    r = clear(orders, rules)
    assert r.flows == ()
    single_rules = Rules(
        tick=rules.tick,
        price_floor=rules.price_floor,
        price_ceiling=rules.price_ceiling,
        reference_price=rules.reference_price,
    )
    want_fills = {}
    for z in rules.zones or ():
        alone = clear([x for x in orders if x.zone == z], single_rules)
        assert r.zone_price_map()[z] == alone.price
        want_fills.update(fills(alone))
    assert fills(r) == want_fills


@pytest.mark.slow
@SETTINGS
@given(networks(), st.randoms(use_true_random=False))
def test_zonal_permutation_invariant(net: tuple[list[Order], Rules], rnd: random.Random) -> None:
    orders, rules = net
    shuffled = list(orders)
    rnd.shuffle(shuffled)
    links = list(rules.links)
    rnd.shuffle(links)
    zones = list(rules.zones or ())
    rnd.shuffle(zones)
    rules2 = Rules(tick=rules.tick, price_floor=rules.price_floor,
                   price_ceiling=rules.price_ceiling, reference_price=rules.reference_price,
                   links=tuple(links), zones=tuple(zones))  # fmt: skip
    assert clear(orders, rules) == clear(shuffled, rules2)



def test_flow_passes_through_a_group_where_nothing_trades() -> None:
    """The demo's Yellow River book where hohhot's water reaches wuhai through baotou and
    bayannur, two zones whose own orders do not trade (a price group of their own).

    The group's internal link baotou -> bayannur once stayed at 0 ("quantity not
    conserved", a failed run); it must carry what enters the group and leaves it.
    """
    doc = json.loads((Path(__file__).parent / "data" / "zonal_transit_group.json").read_text())
    orders, rules = parse_book(doc)
    result = clear(orders, rules)
    flows = {(f.from_zone, f.to_zone): f.quantity for f in result.flows}
    assert flows[("hohhot", "baotou")] == flows[("baotou", "bayannur")] == 1_000_000
    assert flows[("bayannur", "wuhai")] == 1_000_000
    wuhai = sum(f.quantity for f in result.fills if f.id in {"148", "149"})
    assert wuhai == 1_455_000 and result.volume == 1_654_000  # and ulanqab's 199,000
