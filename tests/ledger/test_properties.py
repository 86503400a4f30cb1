"""Stateful property test: random operations never break the ledger's invariants.

A reference model (plain dictionaries) runs beside the ledger. After every step:
the ledger's balances equal the model's, no available balance is negative,
conservation holds per asset (issued = leagues + escrow + clearing + retired +
congestion) and ``verify`` finds nothing.
"""

from __future__ import annotations

import itertools
from collections import defaultdict

import pytest
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    consumes,
    initialize,
    invariant,
    precondition,
    rule,
)
from sqlalchemy.orm import Session

import ledger
from exchange.mechanisms.call_auction.settlement import Fill, settle_fills
from ledger import CASH

LEAGUES = ("ordos", "baotou", "wuhai")
CAP = 10_000
_run = itertools.count(1)

leagues = st.sampled_from(LEAGUES)
amounts = st.integers(min_value=1, max_value=4_000)


class LedgerMachine(RuleBasedStateMachine):
    """Allocate, deposit, hold, release, settle, transfer and retire at random."""

    session: Session  # set by the test before the machine runs
    holds = Bundle("holds")
    settled = 0  # runs settled over all examples (the test checks it happened)

    def __init__(self) -> None:
        super().__init__()
        # A market of its own per example: examples share one database.
        self.asset = ledger.market_asset(1000 + next(_run))
        self.prefix = f"x{next(_run)}-"
        self.available: dict[tuple[str, str], int] = defaultdict(int)
        self.held: dict[tuple[str, str], int] = defaultdict(int)
        self.open: dict[int, tuple[str, str, int]] = {}  # hold -> league, asset, remaining
        self.issued = 0
        self.retired = 0
        self.rent = 0
        self.steps = 0

    def league(self, code: str) -> str:
        return self.prefix + code

    @initialize()
    def a_seller_and_a_buyer(self) -> None:
        """Every example starts with one sell and one buy hold, so that settlement is
        exercised however the examples are drawn (it once depended on the draw alone)."""
        self.allocate(LEAGUES[0], 1_000)
        self.deposit(LEAGUES[1], 1_000)
        self.hold(LEAGUES[0], False, 500)
        self.hold(LEAGUES[1], True, 500)

    def expect_error(self, error: type[Exception], action: object) -> None:
        try:
            assert callable(action)
            action()
        except error:
            self.session.rollback()
            return
        raise AssertionError(f"expected {error.__name__}")

    @rule(league=leagues, amount=amounts)
    def allocate(self, league: str, amount: int) -> None:
        def act() -> None:
            ledger.issue(
                self.session,
                league=self.league(league),
                asset=self.asset,
                amount=amount,
                reference="allocation:p",
                actor="regulator",
                cap=CAP,
            )

        if self.issued + amount > CAP:
            self.expect_error(ledger.CapExceeded, act)
            return
        act()
        self.session.commit()
        self.issued += amount
        self.available[(league, self.asset)] += amount

    @rule(league=leagues, amount=amounts)
    def deposit(self, league: str, amount: int) -> None:
        ledger.deposit_cash(
            self.session, league=self.league(league), amount=amount * 100, reference="d", actor="r"
        )
        self.session.commit()
        self.available[(league, CASH)] += amount * 100

    @rule(target=holds, league=leagues, cash=st.booleans(), amount=amounts)
    def hold(self, league: str, cash: bool, amount: int) -> object:
        asset = CASH if cash else self.asset
        if cash:
            amount *= 60  # a buy order: limit 60 x quantity
        if amount > self.available[(league, asset)]:
            self.expect_error(
                ledger.InsufficientFunds,
                lambda: ledger.place_hold(
                    self.session, league=self.league(league), asset=asset, amount=amount,
                    reference="order:p", actor="l",
                ),
            )  # fmt: skip
            return None
        hold_id = ledger.place_hold(
            self.session,
            league=self.league(league),
            asset=asset,
            amount=amount,
            reference="order:p",
            actor="l",
            chain=self.asset,
        )
        self.session.commit()
        self.available[(league, asset)] -= amount
        self.held[(league, asset)] += amount
        self.open[hold_id] = (league, asset, amount)
        return hold_id

    @rule(hold=consumes(holds), part=st.integers(min_value=0, max_value=3))
    def release(self, hold: int | None, part: int) -> None:
        if hold is None or hold not in self.open:
            return
        league, asset, remaining = self.open[hold]
        amount = None if part == 0 else max(1, remaining * part // 4)
        if remaining == 0:  # a spent hold: nothing to release, and no part of it either
            assert ledger.release_hold(self.session, hold, actor="l") is None
            self.expect_error(
                ledger.HoldExceeded,
                lambda: ledger.release_hold(self.session, hold, amount=1, actor="l"),
            )
            return
        ledger.release_hold(self.session, hold, amount=amount, actor="l")
        self.session.commit()
        released = remaining if amount is None else amount
        self.available[(league, asset)] += released
        self.held[(league, asset)] -= released
        self.open[hold] = (league, asset, remaining - released)

    @precondition(lambda self: len(self.open) >= 2)
    @rule(
        data=st.data(),
        price=st.integers(min_value=0, max_value=60),
        rent=st.integers(min_value=0, max_value=5),
    )
    def settle(self, data: st.DataObject, price: int, rent: int) -> None:
        sells = sorted(h for h, (_l, a, r) in self.open.items() if a == self.asset and r)
        buys = sorted(h for h, (_l, a, r) in self.open.items() if a == CASH and r >= 60)
        if not sells or not buys:
            return
        sell, buy = data.draw(st.sampled_from(sells)), data.draw(st.sampled_from(buys))
        seller, _a, sell_left = self.open[sell]
        buyer, _c, buy_left = self.open[buy]
        quantity = data.draw(st.integers(1, min(sell_left, buy_left // 60)))
        sell_price, buy_price = max(0, price - rent), price
        done = data.draw(st.booleans())
        settle_fills(
            self.session,
            asset=self.asset,
            reference="run:p",
            actor="clearing",
            fills=[
                Fill(sell, quantity, sell_price, "order:s", release_rest=done),
                Fill(buy, quantity, buy_price, "order:b", limit=60, release_rest=done),
            ],
        )
        self.session.commit()
        LedgerMachine.settled += 1
        self.held[(seller, self.asset)] -= quantity
        self.available[(buyer, self.asset)] += quantity
        self.available[(seller, CASH)] += sell_price * quantity
        self.held[(buyer, CASH)] -= 60 * quantity
        self.available[(buyer, CASH)] += (60 - buy_price) * quantity
        self.rent += (buy_price - sell_price) * quantity
        sell_left -= quantity
        buy_left -= 60 * quantity
        if done:
            self.available[(seller, self.asset)] += sell_left
            self.held[(seller, self.asset)] -= sell_left
            self.available[(buyer, CASH)] += buy_left
            self.held[(buyer, CASH)] -= buy_left
            sell_left = buy_left = 0
        self.open[sell] = (seller, self.asset, sell_left)
        self.open[buy] = (buyer, CASH, buy_left)

    @rule(source=leagues, to=leagues, cash=st.booleans(), amount=amounts)
    def transfer(self, source: str, to: str, cash: bool, amount: int) -> None:
        asset = CASH if cash else self.asset

        def act() -> None:
            ledger.transfer(
                self.session,
                source=ledger.league_account(self.league(source), asset),
                target=ledger.league_account(self.league(to), asset),
                amount=amount,
                reference="t",
                actor="r",
            )

        if source == to:
            self.expect_error(ledger.InvalidPosting, act)
            return
        if amount > self.available[(source, asset)]:
            self.expect_error(ledger.InsufficientFunds, act)
            return
        act()
        self.session.commit()
        self.available[(source, asset)] -= amount
        self.available[(to, asset)] += amount

    @rule(league=leagues, amount=amounts)
    def retire(self, league: str, amount: int) -> None:
        def act() -> None:
            ledger.retire(
                self.session,
                league=self.league(league),
                asset=self.asset,
                amount=amount,
                reference="r",
                actor="l",
            )

        if amount > self.available[(league, self.asset)]:
            self.expect_error(ledger.InsufficientFunds, act)
            return
        act()
        self.session.commit()
        self.available[(league, self.asset)] -= amount
        self.retired += amount

    @invariant()
    def balances_match_the_model(self) -> None:
        for league in LEAGUES:
            views = {b.asset: b for b in ledger.balances(self.session, self.league(league))}
            for asset in (self.asset, CASH):
                view = views.get(asset, ledger.BalanceView(asset, 0, 0, 0))
                assert view.available == self.available[(league, asset)] >= 0
                assert view.held == self.held[(league, asset)] >= 0
        for hold, (_league, _asset, remaining) in self.open.items():
            assert ledger.get_hold(self.session, hold).remaining == remaining
        self.session.rollback()

    @invariant()
    def conservation_and_a_clean_audit(self) -> None:
        self.steps += 1
        if self.steps % 3:  # a full audit every third step keeps the suite fast
            return
        report = ledger.verify(self.session)
        self.session.rollback()
        assert report.ok, [v.to_dict() for v in report.violations]
        holdings = report.assets.get(self.asset, {"issued": 0})
        assert holdings["issued"] == self.issued
        assert holdings.get("retirement", 0) == self.retired
        assert holdings.get("clearing", 0) == 0
        leagues_total = sum(
            self.available[(lg, self.asset)] + self.held[(lg, self.asset)] for lg in LEAGUES
        )
        assert self.issued == leagues_total + self.retired
        assert ledger.balance_of(self.session, ledger.congestion_account(self.asset)) == self.rent
        self.session.rollback()


@pytest.mark.slow  # 80 random programs of 40 steps, each audited
def test_random_operations_keep_the_ledger_sound(session: Session) -> None:
    from hypothesis.stateful import run_state_machine_as_test

    LedgerMachine.session = session
    LedgerMachine.settled = 0
    run_state_machine_as_test(
        LedgerMachine,
        settings=settings(
            max_examples=80, stateful_step_count=40, deadline=None, derandomize=True, database=None
        ),
    )
    report = ledger.verify(session)
    assert report.ok
    assert LedgerMachine.settled >= 20, LedgerMachine.settled
