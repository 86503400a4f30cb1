"""Conveyance losses on zonal links: brute force over integer flows, an order-level LP bound,
exact conservation, and the lossless path untouched."""

from __future__ import annotations

import itertools
import os

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from matching_reference import clipped_limit, lp_surplus

from matching import (
    ClearingResult,
    InvalidBook,
    Link,
    Order,
    Rules,
    Side,
    book_hash,
    clear,
    result_hash,
    result_to_json,
)

SETTINGS = settings(
    max_examples=int(os.environ.get("MATCHING_EXAMPLES", 120)),
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)
ZONES = ["A", "B", "C"]


def o(id_: str, side: str, q: int, p: int, zone: str, seq: int = 0) -> Order:
    return Order(id_, side, q, p, seq, zone)


def fills(r: ClearingResult) -> dict[str, int]:
    return {f.id: f.quantity for f in r.fills}


def surplus(r: ClearingResult, orders: list[Order], rules: Rules) -> int:
    by_id = {x.id: x for x in orders}
    total = 0
    for f in r.fills:
        x = by_id[f.id]
        total += (1 if x.side is Side.BUY else -1) * clipped_limit(x, rules) * f.quantity
    return total


def zone_best(orders: list[Order], rules: Rules, zone: str, net_import: int) -> int | None:
    """Best surplus of one zone that must absorb ``net_import`` units (None: impossible)."""
    buys: list[int] = []
    sells: list[int] = []
    top = rules.price_ceiling
    for x in orders:
        if x.zone != zone:
            continue
        lim = clipped_limit(x, rules)
        if x.side is Side.BUY and x.price >= rules.price_floor:
            buys += [lim] * x.quantity
        elif x.side is Side.SELL and (top is None or x.price <= top):
            sells += [lim] * x.quantity
    buys.sort(reverse=True)
    sells.sort()
    best = None
    for s in range(len(sells) + 1):
        b = s + net_import
        if 0 <= b <= len(buys):
            v = sum(buys[:b]) - sum(sells[:s])
            best = v if best is None else max(best, v)
    return best


def brute_force(orders: list[Order], rules: Rules) -> int:
    """Best total surplus over every whole-lot flow on every link (small capacities)."""
    zones = list(rules.zones or ())
    lot = rules.lot
    ranges = [range(0, (lk.capacity or 0) + 1, lot) for lk in rules.links]
    best = 0
    for sent in itertools.product(*ranges):
        net = dict.fromkeys(zones, 0)
        for lk, f in zip(rules.links, sent, strict=True):
            net[lk.from_zone] -= f
            net[lk.to_zone] += (f // lot) * (1000 - lk.loss) // 1000 * lot
        total = 0
        for z in zones:
            v = zone_best(orders, rules, z, net[z])
            if v is None:
                break
            total += v
        else:
            best = max(best, total)
    return best


@st.composite
def lossy_networks(draw: st.DrawFn, max_cap: int = 4) -> tuple[list[Order], Rules]:
    nz = draw(st.integers(2, 3))
    zones = ZONES[:nz]
    lot = draw(st.sampled_from([1, 1, 3]))
    links = []
    for a in zones:
        for b in zones:
            if a != b and draw(st.booleans()):
                cap = draw(st.integers(0, max_cap)) * lot
                loss = draw(st.sampled_from([0, 1, 100, 250, 500, 999]))
                links.append(Link(a, b, cap, loss))
    n = draw(st.integers(0, 7))
    orders = [
        o(f"o{i}", draw(st.sampled_from(["buy", "sell"])), draw(st.integers(1, 5)) * lot,
          draw(st.integers(10, 40)), draw(st.sampled_from(zones)), draw(st.integers(0, 3)))
        for i in range(n)
    ]  # fmt: skip
    floor = draw(st.sampled_from([0, 15]))
    ceiling = draw(st.sampled_from([None, 35]))
    ref = draw(st.sampled_from([None, 25]))
    rules = Rules(lot=lot, price_floor=floor, price_ceiling=ceiling, reference_price=ref,
                  links=tuple(links), zones=tuple(zones))  # fmt: skip
    return orders, rules


def check_lossy(r: ClearingResult, orders: list[Order], rules: Rules) -> None:
    """Exact conservation with losses, limits, capacities and the rounding rule."""
    prices = r.zone_price_map()
    filled = fills(r)
    net = dict.fromkeys(prices, 0)
    bought = 0
    for x in orders:
        f = filled.get(x.id, 0)
        assert 0 <= f <= x.quantity and f % rules.lot == 0
        p = prices[x.zone or ""]
        if f:
            assert p is not None and ((x.price >= p) if x.side is Side.BUY else (x.price <= p))
        net[x.zone or ""] += f if x.side is Side.BUY else -f
        bought += f if x.side is Side.BUY else 0
    links = {(lk.from_zone, lk.to_zone): lk for lk in rules.links}
    for fl in r.flows:
        lk = links[(fl.from_zone, fl.to_zone)]
        assert fl.quantity > 0 and (lk.capacity is None or fl.quantity <= lk.capacity)
        got = fl.quantity if fl.received is None else fl.received
        assert (fl.received is None) == (lk.loss == 0)
        lots = fl.quantity // rules.lot
        assert got == (lots * (1000 - lk.loss) // 1000) * rules.lot  # rounded down to lots
        net[fl.from_zone] += fl.quantity
        net[fl.to_zone] -= got
    assert all(v == 0 for v in net.values())  # bought + sent = sold + received, per zone
    assert r.volume == bought


@SETTINGS
@given(lossy_networks())
def test_against_brute_force(net: tuple[list[Order], Rules]) -> None:
    orders, rules = net
    r = clear(orders, rules)
    check_lossy(r, orders, rules)
    assert surplus(r, orders, rules) == brute_force(orders, rules)


@pytest.mark.slow
@SETTINGS
@given(lossy_networks(max_cap=30))
def test_bounded_by_order_level_lp(net: tuple[list[Order], Rules]) -> None:
    orders, rules = net
    r = clear(orders, rules)
    check_lossy(r, orders, rules)
    best = lp_surplus(orders, rules, list(rules.zones or ()))
    assert surplus(r, orders, rules) <= best + 1e-6
    if all(lk.loss == 0 for lk in rules.links):
        assert surplus(r, orders, rules) == pytest.approx(best, abs=1e-6)


@pytest.mark.slow
@SETTINGS
@given(lossy_networks(max_cap=30))
def test_deterministic_and_hash_stable(net: tuple[list[Order], Rules]) -> None:
    orders, rules = net
    a, b = clear(orders, rules), clear(list(reversed(orders)), rules)
    assert a == b and result_hash(a) == result_hash(b)


@pytest.mark.slow
@SETTINGS
@given(lossy_networks(max_cap=30))
def test_link_rent_bounded(net: tuple[list[Order], Rules]) -> None:
    """Buyers pay for what arrives, sellers are paid for what they sent: the exchange keeps
    ``p_to * received - p_from * sent`` on a link, never less than minus one lot's worth at
    the receiving price (the rounding of arrivals to whole lots; usually it is >= 0)."""
    orders, rules = net
    r = clear(orders, rules)
    p = r.zone_price_map()
    for fl in r.flows:
        pa, pb = p[fl.from_zone], p[fl.to_zone]
        got = fl.quantity if fl.received is None else fl.received
        assert pa is not None and pb is not None
        assert pb * got - pa * fl.quantity >= -pb * rules.lot


def test_example_loss_and_fills() -> None:
    book = [o("s", "sell", 10, 50, "A"), o("b", "buy", 20, 100, "B")]
    r = clear(book, Rules(links=(Link("A", "B", None, 100),)))
    assert fills(r) == {"s": 10, "b": 9}  # the seller delivers 10, the buyer receives 9
    assert [(f.quantity, f.received) for f in r.flows] == [(10, 9)]
    assert r.volume == 9
    assert result_to_json(r)["flows"] == [{"from": "A", "to": "B", "quantity": 10,
                                           "received": 9}]  # fmt: skip


def test_rounding_down_to_lots() -> None:
    # 7 lots of 10 with 5 % loss: 6.65 lots arrive, rounded down to 6 lots = 60 units
    book = [o("s", "sell", 70, 50, "A"), o("b", "buy", 100, 100, "B")]
    r = clear(book, Rules(lot=10, links=(Link("A", "B", 70, 50),)))
    assert [(f.quantity, f.received) for f in r.flows] == [(70, 60)]
    assert fills(r) == {"s": 70, "b": 60}


def test_loss_makes_a_trade_unprofitable() -> None:
    # 50 % loss: a unit bought at 60 in A arrives as half a unit worth 100 in B: 50 < 60
    book = [o("s", "sell", 10, 60, "A"), o("b", "buy", 10, 100, "B")]
    r = clear(book, Rules(links=(Link("A", "B", None, 500),)))
    assert r.volume == 0 and r.flows == ()
    r = clear(book, Rules(links=(Link("A", "B", None, 300),)))
    assert r.volume == 7 and fills(r) == {"s": 10, "b": 7}


def test_loss_zero_keeps_book_hash_and_result() -> None:
    book = [o("s", "sell", 10, 50, "A"), o("b", "buy", 10, 100, "B"), o("b2", "buy", 5, 80, "A")]
    plain = Rules(links=(Link("A", "B", 5),))
    zero = Rules(links=(Link("A", "B", 5, 0),))
    assert book_hash(book, plain) == book_hash(book, zero)
    assert clear(book, plain) == clear(book, zero)
    assert "loss" not in str(result_to_json(clear(book, zero)))


def test_loss_changes_book_hash() -> None:
    book = [o("s", "sell", 10, 50, "A"), o("b", "buy", 10, 100, "B")]
    assert book_hash(book, Rules(links=(Link("A", "B", 5, 10),))) != book_hash(
        book, Rules(links=(Link("A", "B", 5),))
    )


@pytest.mark.parametrize("loss", [-1, 1000, 5000, 1.5, True, "10"])
def test_invalid_loss(loss: object) -> None:
    with pytest.raises(InvalidBook, match="loss"):
        Link("A", "B", 5, loss)  # type: ignore[arg-type]


def test_too_large_for_the_lossy_solver() -> None:
    book = [o("s", "sell", 2**62 - 1, 1, "A"), o("b", "buy", 2**62 - 1, 5, "B")]
    with pytest.raises(InvalidBook, match="too many for links with losses"):
        clear(book, Rules(links=(Link("A", "B", None, 1),)))
    assert clear(book, Rules(links=(Link("A", "B", None, 0),))).volume == 2**62 - 1
