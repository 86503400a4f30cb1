"""Replay of a run that was part of a joint clearing with bundle orders (issue 21).

The run's own snapshot holds its market's orders; the ``joint_clearings`` row holds the joint
book (every market of the group and the bundles). Replay re-clears the joint book with
``matching.clear_joint``, checks its hashes, takes this market's result, and checks each
bundle leg's trade and settlement journal (``run:<id>/bundle:<id>``) against it.
"""

from __future__ import annotations

import json
from collections import defaultdict
from typing import Protocol

from sqlalchemy import select
from sqlalchemy.orm import Session

import ledger
import matching
from exchange.mechanisms.call_auction.joint import BUNDLE_PREFIX
from exchange.models.bundles import Bundle, JointClearing, JointClearingRun
from exchange.models.trading import ClearingRun, Side, Trade
from matching._joint_io import parse_joint
from matching.cli import parse_book


class ReplayReport(Protocol):
    """What this module records differences in (``exchange.services.replay.ReplayReport``)."""

    def differ(self, message: str) -> None: ...


def market_result(
    session: Session, run: ClearingRun, report: ReplayReport
) -> matching.ClearingResult | None:
    """This market's result re-cleared from the joint book; None if the run was not joint."""
    link = session.get(JointClearingRun, run.id)
    if link is None:
        return None
    joint = session.get(JointClearing, link.joint_id)
    assert joint is not None
    markets, bundles = parse_joint(json.loads(joint.book), parse_book)
    book_hash = matching.joint_book_hash(markets, bundles)
    if book_hash != joint.book_hash:
        report.differ(f"joint book hash {book_hash} differs from the recorded {joint.book_hash}")
    result = matching.clear_joint(markets, bundles)
    result_hash = matching.joint_result_hash(result)
    if result_hash != joint.result_hash:
        report.differ(
            f"joint result hash {result_hash} differs from the recorded {joint.result_hash}"
        )
    return result.market(link.code)


def order_fills(
    result: matching.ClearingResult, skip: tuple[str, ...] = ()
) -> dict[int, tuple[int, int]]:
    """Fills of orders by order id: not a bundle's leg, nor an id in ``skip`` (reserves)."""
    return {
        int(f.id): (f.quantity, f.price)
        for f in result.fills
        if not f.id.startswith(BUNDLE_PREFIX) and f.id not in skip
    }


def bundle_fills(result: matching.ClearingResult) -> dict[int, tuple[int, int]]:
    return {
        int(f.id[len(BUNDLE_PREFIX) :]): (f.quantity, f.price)
        for f in result.fills
        if f.id.startswith(BUNDLE_PREFIX)
    }


def compare_bundles(
    session: Session,
    report: ReplayReport,
    run: ClearingRun,
    expected: dict[int, tuple[int, int]],
    journals: list[ledger.JournalView],
) -> int:
    """Check the bundle legs' trades and journals; returns buyers' minus sellers' cash."""
    recorded = {
        int(src.split(":", 1)[1]): (q, p)
        for src, q, p in session.execute(
            select(Trade.source, Trade.quantity, Trade.price).where(
                Trade.run_id == run.id, Trade.order_id.is_(None), Trade.source.startswith("bundle:")
            )
        )
    }
    for bid in sorted(set(expected) | set(recorded)):
        if expected.get(bid) != recorded.get(bid):
            report.differ(
                f"bundle {bid}: replay fills {expected.get(bid)}, recorded {recorded.get(bid)}"
            )
    owners = {
        bid: (league, side)
        for bid, league, side in session.execute(
            select(Bundle.id, Bundle.league_code, Bundle.side).where(Bundle.id.in_(list(expected)))
        )
    }
    rights = ledger.market_asset(run.market_id)
    by_bundle: dict[int, list[ledger.JournalView]] = defaultdict(list)
    for j in journals:
        tail = j.reference.split("/", 1)[1] if "/" in j.reference else ""
        if tail.startswith("bundle:"):
            by_bundle[int(tail.split(":", 1)[1])].append(j)
    net_cash = 0
    for bid in sorted(set(expected) | set(by_bundle)):
        found = by_bundle.get(bid, [])
        if bid not in expected or len(found) != 1:
            report.differ(f"bundle {bid}: {len(found)} settlement journals in run {run.id}")
            continue
        league, side = owners.get(bid, ("?", None))
        quantity, price = expected[bid]
        moved = fill_moved(found[0], league, side, rights, quantity, price)
        if moved is not None:
            report.differ(f"bundle {bid} (journal {found[0].id}): {moved}")
        net_cash += (1 if side is Side.BUY else -1) * quantity * price
    return net_cash


def fill_moved(
    journal: ledger.JournalView,
    league: str,
    side: Side | None,
    rights: str,
    quantity: int,
    price: int,
) -> str | None:
    """What a fill's journal moved for its ``league`` against what the replay gives (None if
    they agree): the rights and the cash of ``quantity`` at ``price`` (orders and bundle legs)."""
    sign = 1 if side is Side.BUY else -1
    net: dict[str, int] = defaultdict(int)
    for p in journal.postings:
        if p.owner == league and p.account_kind in (
            ledger.AccountKind.LEAGUE,
            ledger.AccountKind.ESCROW,
        ):
            net[p.asset] += p.amount
    want = {rights: sign * quantity, ledger.CASH: -sign * quantity * price}
    got = {rights: net.get(rights, 0), ledger.CASH: net.get(ledger.CASH, 0)}
    return None if want == got else f"league {league} moved {got}, the replay gives {want}"
