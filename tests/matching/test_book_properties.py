"""Property tests: the continuous OrderBook against the naive reference, and its invariants."""

from __future__ import annotations

import contextlib
import os
from collections import defaultdict
from dataclasses import dataclass

import pytest
from book_reference import RefBook, RefOutcome
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from matching import Side
from matching.continuous import (
    Band,
    BookRules,
    Cancel,
    Cancelled,
    InvalidOrder,
    LimitOrder,
    OrderBook,
    RestingOrder,
    SubmitResult,
    Trade,
    replay,
)

pytestmark = pytest.mark.slow  # property tests over many generated books

SETTINGS = settings(
    max_examples=int(os.environ.get("MATCHING_EXAMPLES", 300)),
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)


@dataclass
class Case:
    rules: BookRules
    commands: list[LimitOrder | Cancel]


@st.composite
def cases(draw: st.DrawFn) -> Case:
    """Random command sequences: few participants and prices so that orders cross, self-
    trades, partial fills and queues at one price are frequent; some commands break a rule."""
    tick = draw(st.sampled_from([1, 1, 5]))
    lot = draw(st.sampled_from([1, 1, 10]))
    base = draw(st.integers(90, 110))
    band = None
    if draw(st.booleans()):
        band = Band((base + 1) * tick, (base + 7) * tick)
    rules = BookRules(lot, tick, band)
    n = draw(st.integers(0, 40))
    commands: list[LimitOrder | Cancel] = []
    seq = 0
    for i in range(n):
        kind = draw(st.sampled_from(["submit"] * 4 + ["cancel", "odd"]))
        if kind == "cancel":
            ids = [c.id for c in commands] + ["nope"]
            commands.append(Cancel(draw(st.sampled_from(ids))))
            continue
        seq += draw(st.integers(1, 3))
        oid = f"o{i}"
        qty = draw(st.integers(1, 6)) * lot
        price = (base + draw(st.integers(0, 8))) * tick
        s = seq
        if kind == "odd":  # break one rule (or none, when the draw lands on a valid order)
            what = draw(st.sampled_from(["lot", "tick", "seq", "dup"]))
            if what == "lot":
                qty += 1
            elif what == "tick":
                price += 1
            elif what == "seq":
                s = seq - draw(st.integers(1, 4))
            elif commands:
                oid = draw(st.sampled_from([c.id for c in commands]))
        who = draw(st.sampled_from(["p0", "p1", "p2"]))
        side = draw(st.sampled_from(["buy", "sell"]))
        commands.append(LimitOrder(oid, who, Side(side), qty, price, s))
    return Case(rules, commands)


def ref_trade(t: Trade) -> tuple[int, int, str, str, str, str, int, int, str]:
    return (t.number, t.seq, t.buy_id, t.sell_id, t.buyer, t.seller, t.price, t.quantity,
            t.aggressor.value)  # fmt: skip


def levels(book: OrderBook) -> tuple[list[tuple[int, int, int]], list[tuple[int, int, int]]]:
    d = book.depth(None)
    return ([(lv.price, lv.quantity, lv.orders) for lv in d.bids],
            [(lv.price, lv.quantity, lv.orders) for lv in d.asks])  # fmt: skip


def ref_rules(rules: BookRules) -> RefBook:
    band = None if rules.band is None else (rules.band.low, rules.band.high)
    return RefBook(rules.lot, rules.tick, band)


@SETTINGS
@given(cases())
def test_same_trades_and_depth_as_reference(case: Case) -> None:
    book, ref = OrderBook(case.rules), ref_rules(case.rules)
    for cmd in case.commands:
        if isinstance(cmd, Cancel):
            want_c = ref.cancel(cmd.id)
            try:
                got_c: int | str = book.cancel(cmd.id).quantity
            except InvalidOrder as exc:
                got_c = exc.code
            assert got_c == want_c
        else:
            want = ref.submit(cmd.id, cmd.participant, cmd.side.value, cmd.quantity,
                              cmd.price, cmd.seq)  # fmt: skip
            try:
                res = book.submit(cmd)
            except InvalidOrder as exc:
                assert exc.code == want
                continue
            assert isinstance(want, RefOutcome), want
            assert [ref_trade(t) for t in res.trades] == want.trades
            assert res.resting == want.resting
            c = res.cancelled
            assert (c.quantity if c else 0, c.against if c else None) == (
                want.stp_cancelled, want.stp_against)  # fmt: skip
        assert levels(book) == ref.depth()
        book.verify()


def check_priority(before: list[RestingOrder], cmd: LimitOrder, res: SubmitResult) -> None:
    """The makers of ``res`` are the first crossing orders of the opposite side in
    price-then-seq order, each filled in full but the last; a self-trade stop is at the
    next one, of the same participant; a resting remainder leaves nothing crossing."""
    buy = cmd.side is Side.BUY
    opp = [r for r in before if r.side is not cmd.side]
    opp.sort(key=lambda r: ((r.price if buy else -r.price), r.seq))
    crossing = [r for r in opp if (r.price <= cmd.price if buy else r.price >= cmd.price)]
    makers = [t.maker_id for t in res.trades]
    assert makers == [r.id for r in crossing[: len(makers)]]
    for t, r in zip(res.trades, crossing, strict=False):
        assert t.price == r.price  # at the resting order's price
        if t is not res.trades[-1]:
            assert t.quantity == r.quantity
    rest = crossing[len(makers) :]
    if res.cancelled is not None:
        assert rest and rest[0].id == res.cancelled.against
        assert rest[0].participant == cmd.participant
    elif res.resting:
        assert not rest  # everything that crossed was taken before resting


@SETTINGS
@given(cases())
def test_invariants(case: Case) -> None:
    book = OrderBook(case.rules)
    submitted: dict[str, LimitOrder] = {}
    filled: dict[str, int] = defaultdict(int)
    cancelled: dict[str, int] = defaultdict(int)
    trades: list[Trade] = []
    events: list[Cancelled] = []
    for cmd in case.commands:
        if isinstance(cmd, Cancel):
            try:
                c = book.cancel(cmd.id)
            except InvalidOrder:
                assert cmd.id not in submitted or book.get(cmd.id) is None
                continue
            cancelled[c.id] += c.quantity
            events.append(c)
            continue
        before = list(book.orders())
        try:
            res = book.submit(cmd)
        except InvalidOrder:
            assert list(book.orders()) == before  # nothing changed
            continue
        submitted[cmd.id] = cmd
        check_priority(before, cmd, res)
        assert cmd.quantity == res.filled + res.resting + (
            res.cancelled.quantity if res.cancelled else 0)  # fmt: skip
        for t in res.trades:
            buy, sell = submitted[t.buy_id], submitted[t.sell_id]
            assert sell.price <= t.price <= buy.price  # a price both sides accepted
            assert t.buyer != t.seller  # no self-trade
            assert t.quantity > 0 and t.quantity % case.rules.lot == 0
            filled[t.buy_id] += t.quantity
            filled[t.sell_id] += t.quantity
        if res.cancelled is not None:
            cancelled[cmd.id] += res.cancelled.quantity
            events.append(res.cancelled)
        trades.extend(res.trades)
        book.verify()
    # quantities conserved: submitted = filled + resting + cancelled, order by order
    for oid, o in submitted.items():
        r = book.get(oid)
        assert o.quantity == filled[oid] + (r.quantity if r else 0) + cancelled[oid]
    assert [t.number for t in trades] == list(range(1, len(trades) + 1))
    # replay: a fresh book given the same commands gives the same output, bit for bit
    again = replay(case.commands, case.rules, depth=None)
    assert again.trades == tuple(trades)
    assert again.cancelled == tuple(events)
    assert again.state_hash == book.state_hash()
    assert again.depth == book.depth(None)
    assert (again.best_bid, again.best_ask) == (book.best_bid(), book.best_ask())
    assert again.result_hash() == replay(case.commands, case.rules, depth=None).result_hash()


@SETTINGS
@given(cases())
def test_restore_gives_the_same_book(case: Case) -> None:
    book = OrderBook(case.rules)
    replay_book = replay(case.commands, case.rules)
    for cmd in case.commands:
        with contextlib.suppress(InvalidOrder):
            book.submit(cmd) if isinstance(cmd, LimitOrder) else book.cancel(cmd.id)
    copy = OrderBook.restore(case.rules, book.orders(), last_seq=book.last_seq,
                             trade_count=book.trade_count)  # fmt: skip
    copy.verify()
    assert copy.state_hash() == book.state_hash() == replay_book.state_hash


@pytest.mark.slow
@SETTINGS
@given(cases(), st.integers(0, 40))
def test_restored_book_continues_like_the_original(case: Case, cut: int) -> None:
    """A shell that reloads the book from its stored orders between two commands gets the
    same results as one that kept the book in memory."""
    live = OrderBook(case.rules)
    used: list[str] = []
    restored: OrderBook | None = None
    for i, cmd in enumerate(case.commands):
        if i == cut:
            restored = OrderBook.restore(case.rules, live.orders(), last_seq=live.last_seq,
                                         trade_count=live.trade_count, used_ids=used)  # fmt: skip
        outcomes = []
        for book in (live, restored) if restored is not None else (live,):
            try:
                if isinstance(cmd, LimitOrder):
                    outcomes.append(book.submit(cmd))
                else:
                    outcomes.append(book.cancel(cmd.id))
            except InvalidOrder as exc:
                outcomes.append(exc.code)
        assert all(o == outcomes[0] for o in outcomes)
        if isinstance(cmd, LimitOrder) and not isinstance(outcomes[0], str):
            used.append(cmd.id)
    if restored is not None:
        assert restored.state_hash() == live.state_hash()
