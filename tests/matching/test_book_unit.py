"""Unit tests of the continuous book: entry rules, band edges, cancel, self-trade prevention,
depth, state hash and the day's close."""

from __future__ import annotations

from pathlib import Path

import pytest
from test_matching_purity import FORBIDDEN, imported_roots

import matching.continuous
from matching import MAX_PRICE, MAX_QUANTITY, InvalidBook, Side
from matching.continuous import (
    Band,
    BookRules,
    CancelReason,
    InvalidOrder,
    Level,
    LimitOrder,
    OrderBook,
    OutsideBand,
    RestingOrder,
    Trade,
    UnknownOrder,
    day_summary,
    price_band,
    rejection_detail,
    vwap_close,
)

_seq = iter(range(1, 10**6))


def lo(oid: str, who: str, side: str, qty: int, price: int, seq: int | None = None) -> LimitOrder:
    return LimitOrder(oid, who, Side(side), qty, price, next(_seq) if seq is None else seq)


def test_continuous_package_is_pure() -> None:
    files = sorted(Path(matching.continuous.__file__).parent.glob("*.py"))
    assert len(files) >= 5
    for f in files:
        roots = imported_roots(f)
        assert not roots & FORBIDDEN, f.name
        assert f.name == "_cli.py" or "sys" not in roots, f.name


# --- price band --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("ref", "pct", "tick", "low", "high"),
    [
        (10000, 10, 1, 9000, 11000),  # exact
        (9749, 10, 1, 8775, 10723),  # 8774.1 rounds up, 10723.9 down
        (9749, 10, 5, 8775, 10720),  # then onto the tick grid, inwards
        (10001, 10, 10, 9010, 11000),  # 9000.9 -> 9010, 11001.1 -> 11000
        (9749, 0, 1, 9749, 9749),  # a zero band is the reference itself
        (9749, 100, 1, 0, 19498),
        (5278, 30, 1, 3695, 6861),  # block-trade band: 3694.6 / 6861.4
    ],
)
def test_price_band_rounds_inwards(ref: int, pct: int, tick: int, low: int, high: int) -> None:
    band = price_band(ref, pct, tick)
    assert (band.low, band.high) == (low, high)
    assert band.low % tick == 0 and band.high % tick == 0
    # every price in the band is within pct % of the reference, and one tick more is not
    assert band.low * 100 >= ref * (100 - pct) and band.high * 100 <= ref * (100 + pct)
    assert (band.low - tick) * 100 < ref * (100 - pct)
    assert (band.high + tick) * 100 > ref * (100 + pct)


@pytest.mark.parametrize(
    ("args", "field"),
    [((0, 10, 1), "reference"), ((-5, 10, 1), "reference"), ((100, 101, 1), "percent"),
     ((100, -1, 1), "percent"), ((100, 10, 0), "tick"), ((True, 10, 1), "reference"),
     ((100, 10.0, 1), "percent"), ((5, 10, 10), "percent")],
)  # fmt: skip
def test_price_band_refuses(args: tuple[int, int, int], field: str) -> None:
    with pytest.raises(InvalidBook) as exc:
        price_band(*args)
    assert exc.value.field == field


def test_band_edges_accepted_and_outside_refused_with_the_range() -> None:
    book = OrderBook(BookRules(band=price_band(10000, 10)))
    book.submit(lo("at-low", "a", "buy", 1, 9000))
    book.submit(lo("at-high", "b", "sell", 1, 11000))
    before = book.state_hash()
    for oid, side, price in [("below", "buy", 8999), ("above", "sell", 11001),
                             ("below-s", "sell", 8999), ("above-b", "buy", 11001)]:  # fmt: skip
        with pytest.raises(OutsideBand) as exc:
            book.submit(lo(oid, "c", side, 1, price))
        err = exc.value
        assert (err.low, err.high, err.code, err.field) == (9000, 11000, "band", "price")
        assert "[9000, 11000]" in err.message and str(price) in err.message
        assert rejection_detail(err)["band"] == {"low": 9000, "high": 11000}
    assert book.state_hash() == before  # nothing changed, the ids are still free
    book.submit(lo("below", "c", "buy", 1, 9500))


# --- entry rules -------------------------------------------------------------------------


def test_lot_tick_seq_duplicate_refused_without_change() -> None:
    book = OrderBook(BookRules(lot=10, tick=5))
    book.submit(lo("a", "p", "buy", 10, 100, seq=5))
    before = book.state_hash()
    cases = [
        (lo("x", "p", "buy", 15, 100, seq=6), "lot", "quantity", "multiple of the lot (10)"),
        (lo("x", "p", "buy", 10, 101, seq=6), "tick", "price", "tick grid (tick 5)"),
        (lo("x", "p", "buy", 10, 100, seq=5), "seq", "seq", "greater than the last"),
        (lo("a", "p", "buy", 10, 100, seq=6), "duplicate_id", "id", "already used"),
    ]
    for order, code, field, needle in cases:
        with pytest.raises(InvalidOrder) as exc:
            book.submit(order)
        assert (exc.value.code, exc.value.field, exc.value.order_id) == (code, field, order.id)
        assert needle in exc.value.message
        assert book.state_hash() == before


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [({"quantity": 0}, "quantity"), ({"quantity": -10}, "quantity"),
     ({"quantity": True}, "quantity"), ({"quantity": 1.0}, "quantity"),
     ({"quantity": MAX_QUANTITY + 1}, "quantity"), ({"price": MAX_PRICE + 1}, "price"),
     ({"price": "100"}, "price"), ({"side": "bid"}, "side"), ({"participant": ""}, "participant"),
     ({"id": ""}, "id"), ({"seq": 2**63}, "seq")],
)  # fmt: skip
def test_limit_order_value_checks(kwargs: dict[str, object], field: str) -> None:
    args: dict[str, object] = {"id": "o", "participant": "p", "side": "buy", "quantity": 1,
                               "price": 100, "seq": 1, **kwargs}  # fmt: skip
    with pytest.raises(InvalidBook) as exc:
        LimitOrder(**args)  # type: ignore[arg-type]
    assert exc.value.field == field


def test_rules_checks() -> None:
    for kwargs in ({"lot": 0}, {"tick": 0}, {"lot": 1.5}, {"band": (1, 2)}):
        with pytest.raises(InvalidBook):
            BookRules(**kwargs)  # type: ignore[arg-type]
    with pytest.raises(InvalidBook):
        Band(10, 9)


def test_extreme_quantities_and_prices_are_exact() -> None:
    book = OrderBook()
    book.submit(lo("s", "a", "sell", MAX_QUANTITY, MAX_PRICE))
    res = book.submit(lo("b", "b", "buy", MAX_QUANTITY, MAX_PRICE))
    assert res.trades[0].quantity == MAX_QUANTITY and res.trades[0].price == MAX_PRICE
    s = day_summary(res.trades * 3, None)
    assert s.volume == 3 * MAX_QUANTITY and s.close == MAX_PRICE


# --- cancel ------------------------------------------------------------------------------


def test_cancel_unknown_filled_and_cancelled_orders() -> None:
    book = OrderBook()
    book.submit(lo("s1", "a", "sell", 5, 100))
    book.submit(lo("s2", "a", "sell", 5, 100))
    book.submit(lo("b1", "b", "buy", 5, 100))  # fills s1 entirely
    for oid in ("never", "s1", "b1"):  # unknown, filled maker, filled taker
        with pytest.raises(UnknownOrder) as exc:
            book.cancel(oid)
        assert exc.value.code == "unknown_order" and exc.value.order_id == oid
    c = book.cancel("s2")
    assert (c.id, c.quantity, c.reason, c.against) == ("s2", 5, CancelReason.REQUESTED, None)
    with pytest.raises(UnknownOrder):
        book.cancel("s2")
    assert book.depth().asks == () and len(book) == 0
    with pytest.raises(InvalidOrder, match="already used"):
        book.submit(lo("s2", "a", "sell", 5, 100))  # a cancelled id is not reused


def test_cancel_in_the_middle_of_a_queue_keeps_time_priority() -> None:
    book = OrderBook()
    for i in range(30):
        book.submit(lo(f"s{i}", f"p{i}", "sell", 1, 100))
    for i in range(0, 30, 3):
        book.cancel(f"s{i}")
    book.verify()
    res = book.submit(lo("b", "buyer", "buy", 10, 100))
    assert [t.sell_id for t in res.trades] == [f"s{i}" for i in range(30) if i % 3][:10]
    book.verify()


# --- matching ----------------------------------------------------------------------------


def test_partial_fill_at_resting_prices_then_rest() -> None:
    book = OrderBook()
    book.submit(lo("s1", "a", "sell", 3, 101, seq=1))
    book.submit(lo("s2", "b", "sell", 4, 100, seq=2))
    book.submit(lo("s3", "c", "sell", 4, 100, seq=3))
    res = book.submit(lo("b1", "d", "buy", 10, 101, seq=4))
    assert res.trades == (
        Trade(1, 4, "b1", "s2", "d", "b", 100, 4, Side.BUY),
        Trade(2, 4, "b1", "s3", "d", "c", 100, 4, Side.BUY),
        Trade(3, 4, "b1", "s1", "d", "a", 101, 2, Side.BUY),
    )
    assert (res.filled, res.resting, res.cancelled) == (10, 0, None)
    assert res.trades[0].maker_id == "s2" and res.trades[0].taker_id == "b1"
    assert book.get("s1") == RestingOrder("s1", "a", Side.SELL, 101, 1, 1)
    res = book.submit(lo("s4", "e", "sell", 5, 99, seq=5))  # no bids: rests
    assert res.trades == () and res.resting == 5
    assert (book.best_bid(), book.best_ask()) == (None, 99)


def test_self_trade_prevention_cancels_the_newest_remainder() -> None:
    book = OrderBook()
    book.submit(lo("s1", "other", "sell", 2, 100, seq=1))
    book.submit(lo("s2", "me", "sell", 5, 101, seq=2))
    book.submit(lo("s3", "other", "sell", 5, 101, seq=3))
    res = book.submit(lo("b1", "me", "buy", 10, 102, seq=4))
    assert [(t.sell_id, t.quantity) for t in res.trades] == [("s1", 2)]
    c = res.cancelled
    assert c is not None
    assert (c.id, c.quantity, c.reason, c.against) == ("b1", 8, CancelReason.SELF_TRADE, "s2")
    assert res.resting == 0 and book.get("b1") is None
    assert book.get("s2") == RestingOrder("s2", "me", Side.SELL, 101, 5, 2)  # untouched
    # s3 stands behind s2 in time: the incoming order never reaches it
    assert book.get("s3") is not None and book.trade_count == 1
    # an order of the same participant that does not cross simply rests
    assert book.submit(lo("b2", "me", "buy", 1, 100, seq=5)).resting == 1


def test_depth_aggregates_best_levels() -> None:
    book = OrderBook()
    for i, p in enumerate([95, 96, 96, 97, 98, 99, 99, 99]):
        book.submit(lo(f"b{i}", f"p{i}", "buy", i + 1, p))
    for i, p in enumerate([101, 101, 103, 104, 105, 106, 107]):
        book.submit(lo(f"s{i}", f"q{i}", "sell", 10, p))
    d = book.depth(3)
    assert d.bids == (Level(99, 6 + 7 + 8, 3), Level(98, 5, 1), Level(97, 4, 1))
    assert d.asks == (Level(101, 20, 2), Level(103, 10, 1), Level(104, 10, 1))
    assert len(book.depth().bids) == 5 and len(book.depth(None).asks) == 6
    assert book.depth(0).bids == ()
    assert (book.best_bid(), book.best_ask()) == (99, 101)
    with pytest.raises(ValueError):
        book.depth(-1)


def test_state_hash_is_deterministic_and_sensitive() -> None:
    def build(extra: bool) -> OrderBook:
        b = OrderBook(BookRules(tick=1))
        b.submit(lo("a", "p", "buy", 1, 100, seq=1))
        b.submit(lo("b", "q", "buy", 1, 100, seq=2))
        if extra:
            b.submit(lo("c", "q", "sell", 1, 101, seq=3))
        return b

    h = build(False).state_hash()
    assert h == build(False).state_hash() and len(h) == 64
    assert h != build(True).state_hash()
    swapped = OrderBook()
    swapped.submit(lo("b", "q", "buy", 1, 100, seq=1))
    swapped.submit(lo("a", "p", "buy", 1, 100, seq=2))
    assert swapped.state_hash() != h  # queue order is part of the state


def test_restore_refuses_crossing_orders() -> None:
    rows = [
        RestingOrder("b", "p", Side.BUY, 101, 1, 1),
        RestingOrder("s", "q", Side.SELL, 100, 1, 2),
    ]
    with pytest.raises(InvalidOrder, match="crosses"):
        OrderBook.restore(BookRules(), rows)
    with pytest.raises(ValueError, match="last_seq"):
        OrderBook.restore(BookRules(), rows[:1], last_seq=0)
    book = OrderBook.restore(BookRules(), rows[:1], last_seq=7, used_ids=["old"])
    with pytest.raises(InvalidOrder) as exc:
        book.submit(lo("old", "p", "buy", 1, 90, seq=8))
    assert exc.value.code == "duplicate_id"


# --- the day's close ---------------------------------------------------------------------


def test_vwap_close_rounds_half_up_to_the_tick() -> None:
    assert vwap_close(100 + 101, 2) == 101  # 100.5 -> 101
    assert vwap_close(100 * 3 + 101, 4) == 100  # 100.25 -> 100
    assert vwap_close(100 + 3 * 101, 4) == 101  # 100.75 -> 101
    assert vwap_close(100 + 105, 2, tick=5) == 105  # 102.5 on a grid of 5: halfway -> up
    assert vwap_close(100 * 3 + 105, 4, tick=5) == 100  # 101.25 -> 100
    with pytest.raises(ValueError):
        vwap_close(1, 0)


def test_day_summary() -> None:
    trades = [Trade(1, 1, "b", "s", "x", "y", 5278, 10, Side.BUY),
              Trade(2, 2, "b", "s", "x", "y", 5300, 30, Side.SELL),
              Trade(3, 3, "b", "s", "x", "y", 5200, 10, Side.BUY)]  # fmt: skip
    s = day_summary(trades, previous_close=5000)
    turnover = 5278 * 10 + 5300 * 30 + 5200 * 10
    assert (s.open, s.high, s.low, s.volume, s.turnover, s.trades) == (
        5278, 5300, 5200, 50, turnover, 3)  # fmt: skip
    assert s.close == 5276  # 5275.6 rounds to 5276
    empty = day_summary([], previous_close=5000)
    assert (empty.open, empty.high, empty.low, empty.close, empty.volume) == (
        None, None, None, 5000, 0)  # fmt: skip
    assert day_summary([], None).close is None
    with pytest.raises(InvalidBook):
        day_summary([Trade(1, 1, "b", "s", "x", "y", 1, 0, Side.BUY)], None)
