"""Replay audit: re-clear a past run from its stored snapshot and compare with the record."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

import ledger
import matching
from exchange.mechanisms.call_auction.run import get_run, snapshot_book
from exchange.models.trading import ClearingRun, Order, RunStatus, Side, Trade
from exchange.services import replay_joint
from matching.cli import parse_book

MAX_REPORTED = 50


@dataclass
class ReplayReport:
    """The outcome of a replay: ``ok`` when the record follows from the snapshot."""

    run_id: int
    book_hash: str | None = None
    result_hash: str | None = None
    differences: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """No difference found."""
        return not self.differences

    def differ(self, message: str) -> None:
        """Record a difference (the first few in full, then a count)."""
        if len(self.differences) < MAX_REPORTED:
            self.differences.append(message)
        elif len(self.differences) == MAX_REPORTED:
            self.differences.append("... more differences not shown")


def replay_run(session: Session, run_id: int) -> ReplayReport:
    """Re-clear run ``run_id`` from its snapshot; compare result, fills and journals."""
    run = get_run(session, run_id)
    report = ReplayReport(run_id)
    journals = _settlement_journals(session, run_id)
    if run.status is RunStatus.FAILED:
        if journals:
            report.differ(f"failed run {run_id} has {len(journals)} settlement journals")
        return report
    doc = snapshot_book(session, run_id)
    orders, rules = parse_book(doc)
    settings = matching.stability_from_json(doc["stability"]) if "stability" in doc else None
    report.book_hash = matching.stable_book_hash(orders, rules, settings)
    if report.book_hash != run.book_hash:
        report.differ(f"snapshot hash {report.book_hash} differs from the recorded {run.book_hash}")
    joint = replay_joint.market_result(session, run, report)  # a run cleared with bundles
    if joint is not None:
        result = joint
        report.result_hash = matching.result_hash(result)
    else:
        stable = matching.clear_stable(orders, rules, settings)
        result = stable.result or matching.ClearingResult(None, None, 0, ())
        report.result_hash = matching.stable_result_hash(stable)
        _compare_stability(report, run, stable)
    if report.result_hash != run.result_hash:
        report.differ(
            f"re-cleared result hash {report.result_hash} differs from the recorded "
            f"{run.result_hash}"
        )
    if result.price != run.price:
        report.differ(f"price: replay {result.price}, recorded {run.price}")
    if result.volume != run.volume:
        report.differ(f"volume: replay {result.volume}, recorded {run.volume}")
    replay_zone_prices = dict(result.zone_prices) if result.zone_prices is not None else None
    if replay_zone_prices != run.zone_prices:
        report.differ(f"zone prices: replay {replay_zone_prices}, recorded {run.zone_prices}")

    expected = replay_joint.order_fills(result, skip=RESERVES)
    _compare_fills(session, report, run_id, expected)
    bundles = replay_joint.bundle_fills(result)
    net = replay_joint.compare_bundles(session, report, run, bundles, journals)
    reserve = {f.id: f.quantity * f.price for f in result.fills if f.id in RESERVES}
    _compare_journals(session, report, run_id, expected, journals, net, reserve)
    return report


RESERVES = (matching.CCR_ID, matching.ECR_ID)


def _compare_stability(
    report: ReplayReport, run: ClearingRun, stable: matching.StableResult
) -> None:
    """A cancelled run was cancelled for the same reason; the reserves did the same."""
    want = RunStatus.CANCELLED if stable.cancelled else RunStatus.COMPLETED
    if run.status is not want:
        report.differ(f"status: replay {want.value}, recorded {run.status.value}")
    if stable.cancellation is not None:
        from exchange.mechanisms.call_auction.stability import cancellation_json

        if cancellation_json(stable.cancellation) != run.cancellation:
            report.differ(f"cancellation: replay {cancellation_json(stable.cancellation)}, "
                          f"recorded {run.cancellation}")  # fmt: skip
    recorded = run.reserves or {}
    for key, value in (
        ("ccr_released", stable.ccr_released),
        ("ecr_withheld", stable.ecr_withheld),
    ):
        if recorded.get(key, 0) != value:
            report.differ(f"{key}: replay {value}, recorded {recorded.get(key, 0)}")


def _settlement_journals(session: Session, run_id: int) -> list[ledger.JournalView]:
    """The run's settlement journals: kind ``trade_settlement`` under the run's reference.

    Selected by kind (only the clearing house's settlement posts it) and by the
    run's reference, a system namespace no user may write
    (``exchange.references``): a retirement a league referenced ``run:<id>/...``
    before that rule is not one of them.
    """
    filters = {"kind": ledger.JournalKind.TRADE_SETTLEMENT.value, "reference": f"run:{run_id}/"}
    total, _ = ledger.list_journals(session, limit=1, **filters)
    if not total:
        return []
    _, page = ledger.list_journals(session, limit=total, **filters)
    return page


def _compare_fills(
    session: Session, report: ReplayReport, run_id: int, expected: dict[int, tuple[int, int]]
) -> None:
    recorded = {
        order_id: (quantity, price)
        for order_id, quantity, price in session.execute(
            select(Trade.order_id, Trade.quantity, Trade.price).where(
                Trade.run_id == run_id, Trade.order_id.is_not(None)
            )
        )
    }
    for order_id in sorted(set(expected) | set(recorded)):
        want, got = expected.get(order_id), recorded.get(order_id)
        if want != got:
            report.differ(f"order {order_id}: replay fills {want}, recorded fill {got}")


def _compare_journals(
    session: Session,
    report: ReplayReport,
    run_id: int,
    expected: dict[int, tuple[int, int]],
    journals: list[ledger.JournalView],
    bundle_net: int = 0,
    reserve: dict[str, int] | None = None,
) -> None:
    """Each fill's journal moves exactly its quantity and its cash, for its league.

    Checked on the league's main and escrow accounts together, so that the
    release of a hold's rest (an internal move) does not matter.
    """
    run = get_run(session, run_id)
    rights = ledger.market_asset(run.market_id)
    orders = {
        oid: (league, side)
        for oid, league, side in session.execute(
            select(Order.id, Order.league_code, Order.side).where(Order.id.in_(list(expected)))
        )
    }
    by_order: dict[int, list[ledger.JournalView]] = defaultdict(list)
    paid, received = max(bundle_net, 0), max(-bundle_net, 0)
    rent_recorded = 0
    reserve = reserve or {}
    reserve_journals: dict[str, int] = {}
    for journal in journals:
        tail = journal.reference.split("/", 1)[1] if "/" in journal.reference else ""
        if tail.startswith("order:"):
            by_order[int(tail.split(":", 1)[1])].append(journal)
        elif tail == "congestion":
            rent_recorded += sum(
                p.amount
                for p in journal.postings
                if p.account_kind == ledger.AccountKind.CONGESTION
            )
        elif tail in RESERVES:
            reserve_journals[tail] = reserve_journals.get(tail, 0) + 1
        elif not tail.startswith(("expire/", "bundle:")):  # bundles: replay_joint
            report.differ(f"journal {journal.id}: unexpected reference {journal.reference!r}")
    for order_id in sorted(set(expected) | set(by_order)):
        found = by_order.get(order_id, [])
        if order_id not in expected:
            report.differ(
                f"order {order_id}: settled in journals {[j.id for j in found]} "
                "but the replay gives it no fill"
            )
            continue
        if len(found) != 1:
            report.differ(f"order {order_id}: {len(found)} settlement journals, expected 1")
            continue
        league, side = orders.get(order_id, ("?", None))
        quantity, price = expected[order_id]
        moved = replay_joint.fill_moved(found[0], league, side, rights, quantity, price)
        if moved is not None:
            report.differ(f"order {order_id} (journal {found[0].id}): {moved}")
        if side is Side.BUY:
            paid += quantity * price
        else:
            received += quantity * price
    if reserve_journals != {k: 1 for k in reserve}:
        report.differ(f"reserve settlements: replay {sorted(reserve)}, journals {reserve_journals}")
    paid += reserve.get(matching.ECR_ID, 0)
    received += reserve.get(matching.CCR_ID, 0)
    if paid - received != rent_recorded:
        report.differ(f"congestion rent: replay {paid - received}, recorded {rent_recorded}")
