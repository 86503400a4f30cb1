"""Single-zone call auction: worked examples and edge cases.

The price-determination cases follow the Xetra rulebook: Deutsche Börse, "T7 Market Model for
the Trading Venue Xetra", section 11.1.1 (auction price: 1. highest executable volume,
2. lowest surplus, 3. market pressure, 4. reference price). The order books below are our own,
built so that each case decides the price; the gap example is the one in shared/FACTS.md.
"""

from __future__ import annotations

import numpy as np
import pytest

from matching import (
    Book,
    ClearingResult,
    InvalidBook,
    Order,
    Rules,
    clear,
    clear_book,
    curves,
    validate,
)


def b(id_: str, q: int, p: int, seq: int = 0) -> Order:
    return Order(id_, "buy", q, p, seq)


def s(id_: str, q: int, p: int, seq: int = 0) -> Order:
    return Order(id_, "sell", q, p, seq)


def fills(result: ClearingResult) -> dict[str, int]:
    return {f.id: f.quantity for f in result.fills}


def test_case1_highest_executable_volume() -> None:
    book = [b("b1", 300, 202, 1), b("b2", 200, 201, 2),
            s("s1", 100, 199, 3), s("s2", 300, 200, 4), s("s3", 200, 201, 5)]  # fmt: skip
    r = clear(book)
    assert (r.price, r.volume) == (201, 500)
    # sells are the long side at 201: s3 (at the price) is rationed, better sells fill in full
    assert fills(r) == {"b1": 300, "b2": 200, "s1": 100, "s2": 300, "s3": 100}


def test_case2_lowest_surplus() -> None:
    book = [b("b1", 200, 202), b("b2", 100, 200), s("s1", 150, 199), s("s2", 100, 201),
            s("s3", 100, 202)]  # fmt: skip
    r = clear(book)  # volume 200 at 201 (surplus 50) and 202 (surplus 150)
    assert (r.price, r.volume) == (201, 200)


def test_case3_market_pressure_buy_side() -> None:
    r = clear([b("b1", 300, 202), s("s1", 100, 200), s("s2", 100, 201)])
    assert (r.price, r.volume) == (202, 200)  # buy surplus at 201 and 202: highest


def test_case3_market_pressure_sell_side() -> None:
    r = clear([b("b1", 100, 201), b("b2", 100, 200), s("s1", 300, 199)])
    assert (r.price, r.volume) == (199, 200)  # sell surplus at 199 and 200: lowest


@pytest.mark.parametrize(("ref", "price"), [(None, 200), (150, 200), (200, 200), (201, 201),
                                            (250, 201)])  # fmt: skip
def test_case4_surplus_on_both_sides_uses_reference(ref: int | None, price: int) -> None:
    book = [b("b1", 100, 201), b("b2", 50, 200), s("s1", 100, 200), s("s2", 50, 201)]
    r = clear(book, Rules(reference_price=ref))
    assert (r.price, r.volume) == (price, 100)


@pytest.mark.parametrize(("ref", "price"), [(None, 102), (90, 101), (103, 103), (110, 104)])
def test_gap_between_limits_has_zero_surplus(ref: int | None, price: int) -> None:
    # shared/FACTS.md: at 100 and 105 the volume is 10 with surplus 5; at 101-104 surplus 0
    book = [b("b1", 10, 105), b("b2", 5, 100), s("s1", 10, 100), s("s2", 5, 105)]
    r = clear(book, Rules(reference_price=ref))
    assert (r.price, r.volume) == (price, 10)
    assert fills(r) == {"b1": 10, "s1": 10}


def test_midpoint_rounds_down_to_tick() -> None:
    r = clear([b("b", 100, 130), s("s", 100, 100)], Rules(tick=5))
    assert r.price == 115  # range 100..130, midpoint 115
    r = clear([b("b", 100, 125), s("s", 100, 100)], Rules(tick=5))
    assert r.price == 110  # midpoint 112.5 -> 110


def test_no_cross() -> None:
    r = clear([b("b", 10, 99), s("s", 10, 100)])
    assert (r.price, r.volume, r.fills) == (None, 0, ())


@pytest.mark.parametrize("book", [[], [b("b", 10, 100)], [s("s", 10, 100)],
                                  [b("b1", 10, 100), b("b2", 5, 120)]])  # fmt: skip
def test_one_side_empty_or_single_order(book: list[Order]) -> None:
    r = clear(book)
    assert (r.price, r.volume, r.fills, r.flows) == (None, 0, (), ())


def test_everything_at_one_price() -> None:
    book = [b("b1", 10, 100, 1), b("b2", 10, 100, 2), s("s1", 15, 100, 3)]
    r = clear(book)
    assert (r.price, r.volume) == (100, 15)
    assert fills(r) == {"b1": 10, "b2": 5, "s1": 15}


def test_ties_at_the_margin_time_priority_then_id() -> None:
    book = [b("z", 10, 100, 1), b("a", 10, 100, 2), b("m", 10, 100, 2), s("s", 15, 100, 9)]
    r = clear(book)
    assert fills(r) == {"z": 10, "a": 5, "s": 15}  # seq 1 first; seq tie -> id "a" < "m"


def test_floor_above_every_bid() -> None:
    r = clear([b("b", 10, 100), s("s", 10, 90)], Rules(price_floor=110))
    assert (r.price, r.volume) == (None, 0)


def test_floor_and_ceiling_bound_the_price() -> None:
    assert clear([b("b", 10, 200), s("s", 10, 100)], Rules(price_floor=180)).price == 190
    assert clear([b("b", 10, 200), s("s", 10, 100)], Rules(price_ceiling=120)).price == 110
    # a seller below the floor trades at the floor
    r = clear([b("b", 10, 200), s("s", 10, 50)], Rules(price_floor=150, reference_price=0))
    assert (r.price, r.volume) == (150, 10)


def test_ceiling_rations_buyers_above_it_by_price_priority() -> None:
    book = [b("b1", 10, 150, 2), b("b2", 10, 130, 1), b("b3", 10, 120, 0), s("s", 15, 100, 0)]
    r = clear(book, Rules(price_ceiling=120))
    assert (r.price, r.volume) == (120, 15)
    assert fills(r) == {"b1": 10, "b2": 5, "s": 15}


def test_lots_and_ticks() -> None:
    rules = Rules(lot=100, tick=5, price_floor=0)
    book = [b("b1", 300, 105, 1), b("b2", 200, 100, 2), s("s1", 400, 95, 3)]
    r = clear(book, rules)
    assert r.price is not None and r.price % 5 == 0
    assert all(f.quantity % 100 == 0 for f in r.fills)
    assert (r.price, r.volume) == (100, 400)
    assert fills(r) == {"b1": 300, "b2": 100, "s1": 400}
    with pytest.raises(InvalidBook, match=r"'b9'.*multiple of the lot"):
        clear([*book, b("b9", 150, 100)], rules)
    with pytest.raises(InvalidBook, match=r"'b9'.*tick grid"):
        clear([*book, b("b9", 100, 101)], rules)


def test_huge_quantities_stay_exact() -> None:
    q = 10**12
    book = [b(f"b{i}", q, 100 + i % 7, i) for i in range(20_000)]
    book += [s(f"s{i}", q + 1, 90 + i % 11, i) for i in range(10_000)]
    r = clear(book)
    total = sum(f.quantity for f in r.fills)
    assert r.volume == 10_000 * (q + 1)  # beyond 2**53
    assert r.volume > 2**53 and total == 2 * r.volume
    assert sum(f.quantity for f in r.fills if f.id.startswith("b")) == r.volume


def test_beyond_int64_uses_exact_ints() -> None:
    q = 2**61
    book = [b(f"b{i}", q, 100, i) for i in range(8)] + [s(f"s{i}", q, 100, i) for i in range(5)]
    r = clear(book)
    assert r.volume == 5 * q
    assert sum(f.quantity for f in r.fills if f.id.startswith("b")) == 5 * q
    assert {f.id for f in r.fills if f.id.startswith("b")} == {f"b{i}" for i in range(5)}


@pytest.mark.parametrize(
    ("order_kwargs", "pattern"),
    [
        ({"quantity": -5}, r"'x'.*quantity must be positive"),
        ({"quantity": 0}, r"'x'.*quantity must be positive"),
        ({"quantity": 1.5}, r"'x'.*quantity must be an integer"),
        ({"quantity": True}, r"'x'.*quantity must be an integer"),
        ({"side": "hold"}, r"'x'.*side must be 'buy' or 'sell'"),
        ({"price": "100"}, r"'x'.*price must be an integer"),
    ],
)
def test_invalid_orders_name_id_and_field(order_kwargs: dict, pattern: str) -> None:  # type: ignore[type-arg]
    base = {"id": "x", "side": "buy", "quantity": 10, "price": 100, "seq": 1}
    with pytest.raises(InvalidBook, match=pattern) as exc:
        clear([Order(**{**base, **order_kwargs})])
    assert exc.value.order_id == "x"


def test_duplicate_id_rejected() -> None:
    with pytest.raises(InvalidBook, match="duplicate order id 'a'") as exc:
        clear([b("a", 1, 1), s("a", 1, 1)])
    assert exc.value.field == "id"


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [({"lot": 0}, "rules.lot"), ({"tick": 0}, "rules.tick"),
     ({"price_floor": 7, "tick": 5}, "rules.price_floor"),
     ({"price_floor": 10, "price_ceiling": 5}, "rules.price_ceiling")],
)  # fmt: skip
def test_invalid_rules(kwargs: dict, field: str) -> None:  # type: ignore[type-arg]
    with pytest.raises(InvalidBook) as exc:
        Rules(**kwargs)
    assert exc.value.field == field


def test_price_range_check_is_optional() -> None:
    rules = Rules(price_floor=100)
    validate([b("b", 1, 50)], rules)
    with pytest.raises(InvalidBook, match="outside"):
        validate([b("b", 1, 50)], rules, check_price_range=True)


def test_columnar_path_matches_dataclass_path() -> None:
    rng = np.random.default_rng(7)
    n = 2000
    side = rng.random(n) < 0.5
    qty = rng.integers(1, 50, n) * 10
    price = rng.integers(90, 110, n) * 5
    seq = rng.permutation(n)
    ids = [f"o{i}" for i in range(n)]
    orders = [Order(ids[i], "buy" if side[i] else "sell", int(qty[i]), int(price[i]), int(seq[i]))
              for i in range(n)]  # fmt: skip
    rules = Rules(lot=10, tick=5)
    r1 = clear(orders, rules)
    r2 = clear_book(Book(side, qty, price, seq, ids=ids), rules)
    assert r1.price == r2.price and r1.volume == r2.volume
    assert {f.id: f.quantity for f in r1.fills} == {
        ids[i]: int(r2.filled[i]) for i in np.flatnonzero(r2.filled)
    }
    assert (r2.fill_price[r2.filled > 0] == r2.price).all()


def test_curves() -> None:
    c = curves([b("b1", 10, 105), b("b2", 5, 100), s("s1", 10, 100), s("s2", 5, 105)])
    assert c.prices == (100, 105)
    assert c.demand == (15, 10)
    assert c.supply == (10, 15)
