"""Joint clearing of the markets of a window with open bundle orders (issue 21).

When a market's window comes and open bundles name that window with a leg in it, the run clears
the whole group (the markets of those bundles, and of the bundles touching those markets,
transitively) with ``matching.clear_joint``, in the caller's one unit of work: one clearing run
per market as a single run makes (its own book's snapshot, hashes of its own book and of its
market's result, its trades and settlement), the bundles' legs settled through the same
delivery-versus-payment path against the clearing house, and a ``joint_clearings`` row with the
joint book and hashes so that a replay reproduces it. Markets are locked in id order, so the
scheduled jobs of the group's markets firing together run the group once: the first does it,
the others find their runs done. A window without open bundles is not touched here.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

import ledger
import matching
from exchange.mechanisms.call_auction import run as single
from exchange.mechanisms.call_auction import stability
from exchange.mechanisms.call_auction import stats as run_stats
from exchange.mechanisms.call_auction.book import engine_order, load_book
from exchange.mechanisms.call_auction.settlement import Fill, settle_fills
from exchange.models import Market
from exchange.models.base import utcnow
from exchange.models.bundles import Bundle, BundleLeg, BundleStatus, JointClearing, JointClearingRun
from exchange.models.trading import (
    ClearingRun,
    RunStatus,
    RunTrigger,
    Side,
    Trade,
)
from exchange.observability import metrics

BUNDLE_PREFIX = "b"


def engine_id(bundle_id: int) -> str:
    """A bundle's id in the engine (order ids are digits, so they never collide)."""
    return f"{BUNDLE_PREFIX}{bundle_id}"


@dataclass
class _Market:
    market: Market
    run: ClearingRun
    rows: Sequence[Any]
    rules: matching.Rules
    book: list[matching.Order]


def group_markets(session: Session, market_id: int, window: datetime) -> set[int]:
    """The markets to clear with ``market_id`` at ``window``: empty if no open bundle names it."""
    markets: set[int] = set()
    frontier = {market_id}
    while frontier:
        markets |= frontier
        bundle_ids = (
            select(BundleLeg.bundle_id)
            .join(Bundle)
            .where(
                Bundle.window == window,
                Bundle.status == BundleStatus.OPEN,
                BundleLeg.market_id.in_(sorted(frontier)),
            )
        )
        found = set(
            session.scalars(select(BundleLeg.market_id).where(BundleLeg.bundle_id.in_(bundle_ids)))
        )
        if not found and markets == {market_id}:
            return set()
        frontier = found - markets
    return markets


def clear_with_bundles(
    session: Session, market_id: int, window: datetime, trigger: RunTrigger, actor: str
) -> single.RunOutcome | None:
    """Clear ``market_id``'s group jointly if open bundles name ``window``; None otherwise."""
    group = group_markets(session, market_id, window)
    if not group:
        expire_missed(session, market_id, window, actor)
        return None
    started = time.perf_counter()
    locked = {mid: single.lock_market_for_run(session, mid) for mid in sorted(group)}
    existing = single._existing_run(session, market_id, window)
    if existing is not None:
        return single.RunOutcome(existing, created=False)
    ruled = {mid for mid, m in locked.items() if stability.rules_on(m)}
    if ruled:  # rules set after the bundles came in: those markets clear alone, by their rules
        for b in _open_bundles(session, window, ruled):
            _reject(session, b, "stability_rules", "a market of the bundle has stability "
                    "rules (cancellation, containment reserves)", actor)  # fmt: skip
        return clear_with_bundles(session, market_id, window, trigger, actor)
    for mid in sorted(locked):
        expire_missed(session, mid, window, actor)
    bundles = _open_bundles(session, window, set(locked))
    done = {mid for mid in locked if single._existing_run(session, mid, window) is not None}
    for b in [b for b in bundles if any(leg.market_id in done for leg in b.legs)]:
        _reject(
            session,
            b,
            "market_cleared",
            "a market of the bundle was already cleared for this window",
            actor,
        )
        bundles.remove(b)
    parts = {
        mid: _prepare(session, locked[mid], window, trigger, actor)
        for mid in sorted(locked)
        if mid not in done
    }
    codes = {mid: p.market.code for mid, p in parts.items()}
    markets = {p.market.code: (p.book, p.rules) for p in parts.values()}
    engine_bundles = [_engine_bundle(b, codes) for b in bundles]
    loaded = time.perf_counter()
    result = matching.clear_joint(markets, engine_bundles)
    matched = time.perf_counter()
    joint = JointClearing(
        window=window,
        book=single._canonical_text(matching.joint_book_to_json(markets, engine_bundles)),
        book_hash=matching.joint_book_hash(markets, engine_bundles),
        result_hash=matching.joint_result_hash(result),
        created_at=utcnow(),
    )
    session.add(joint)
    session.flush()
    outcomes = {r.id: r for r in result.bundles}
    by_bundle = {engine_id(b.id): b for b in bundles}
    for p in parts.values():
        _settle_market(session, p, result.market(p.market.code), by_bundle, actor)
        session.add(JointClearingRun(run_id=p.run.id, joint_id=joint.id, code=p.market.code))
    prices = {mid: result.market(code).price for mid, code in codes.items()}
    for b in bundles:
        _finish_bundle(session, b, outcomes[engine_id(b.id)], prices, parts, joint.id, actor)
    settled = time.perf_counter()
    for p in parts.values():
        p.run.finished_at = utcnow()
        p.run.timings_ms = {
            "load": round((loaded - started) * 1000, 3),
            "match": round((matched - loaded) * 1000, 3),
            "settle": round((settled - matched) * 1000, 3),
        }
    session.flush()
    for mid in parts:
        metrics.clearing_run(mid, "completed", time.perf_counter() - started)  # metrics
    return single.RunOutcome(parts[market_id].run.id, created=True)


single.GROUP_CLEARINGS.append(clear_with_bundles)


def expire_missed(session: Session, market_id: int, window: datetime, actor: str) -> None:
    """Open bundles of an earlier window with a leg in ``market_id`` missed their run (a
    market was closed, or the joint run failed): rejected, their holds released."""
    stale = (
        select(BundleLeg.bundle_id)
        .join(Bundle)
        .where(
            Bundle.window < window,
            Bundle.status == BundleStatus.OPEN,
            BundleLeg.market_id == market_id,
        )
    )
    for b in session.scalars(
        select(Bundle).where(Bundle.id.in_(stale)).order_by(Bundle.id).with_for_update(of=Bundle)
    ):
        _reject(
            session,
            b,
            "window_missed",
            f"its window {b.window.isoformat()} was not "
            f"cleared; market {market_id} cleared {window.isoformat()}",
            actor,
        )


def _open_bundles(session: Session, window: datetime, markets: set[int]) -> list[Bundle]:
    """The open bundles of ``window`` with a leg in ``markets``, locked, by id."""
    ids = select(BundleLeg.bundle_id).where(BundleLeg.market_id.in_(sorted(markets)))
    return list(
        session.scalars(
            select(Bundle)
            .where(Bundle.window == window, Bundle.status == BundleStatus.OPEN, Bundle.id.in_(ids))
            .order_by(Bundle.id)
            .with_for_update(of=Bundle)
        )
    )


def _prepare(
    session: Session, market: Market, window: datetime, trigger: RunTrigger, actor: str
) -> _Market:
    run = ClearingRun(
        market_id=market.id,
        window=window,
        trigger=trigger,
        status=RunStatus.COMPLETED,
        started_at=utcnow(),
        triggered_by=actor,
    )
    session.add(run)
    session.flush()
    rows = load_book(session, market.id)
    rules = single.market_rules(session, market)
    book = [engine_order(r, zonal=False) for r in rows]
    run.auction_stats = run_stats.auction_stats((r[1], r[9], r[2]) for r in rows)
    return _Market(market, run, rows, rules, book)


def _engine_bundle(b: Bundle, codes: dict[int, str]) -> matching.Bundle:
    legs = [matching.BundleLeg(codes[leg.market_id], leg.quantity) for leg in b.legs]
    return matching.Bundle(
        engine_id(b.id), b.side.value, legs, b.limit_total, b.id, b.min_ratio or 1000
    )


def _settle_market(
    session: Session,
    p: _Market,
    result: matching.ClearingResult,
    by_bundle: dict[str, Bundle],
    actor: str,
) -> None:
    """Settle one market's fills (orders as a single run does; bundle legs from their holds)."""
    run_id, market_id = p.run.id, p.market.id
    order_fills = {int(f.id): f for f in result.fills if f.id not in by_bundle}
    leg_fills = sorted((f for f in result.fills if f.id in by_bundle), key=lambda f: f.id)
    by_id = {r[0]: r for r in p.rows}
    fills = [single._ledger_fill(by_id[oid], f) for oid, f in sorted(order_fills.items())]
    for f in leg_fills:
        b = by_bundle[f.id]
        leg = next(leg for leg in b.legs if leg.market_id == market_id)
        hold = b.hold_id if b.side is Side.BUY else leg.hold_id
        assert hold is not None
        fills.append(
            Fill(
                hold_id=hold,
                quantity=f.quantity,
                price=f.price,
                reference=f"bundle:{b.id}",
                limit=f.price if b.side is Side.BUY else None,
                release_rest=b.side is Side.SELL,
            )
        )
    # As in a single run: orders, trades and figures first, the ledger's writes last.
    single._update_orders(session, p.rows, order_fills, run_id)
    single._record_trades(session, p.market, run_id, by_id, order_fills)
    if leg_fills:
        session.execute(
            insert(Trade), [_leg_trade(p.market.id, run_id, by_bundle[f.id], f) for f in leg_fills]
        )
    single._record_result(
        session, p.run, p.book, p.rules, result, matching.book_to_json(p.book, p.rules)
    )
    settle_fills(
        session,
        asset=ledger.market_asset(market_id),
        fills=fills,
        reference=f"run:{run_id}",
        actor=actor,
    )
    single._expire_single_run_orders(session, p.rows, order_fills, run_id, actor, market_id)


def _leg_trade(market_id: int, run_id: int, b: Bundle, f: matching.Fill) -> dict[str, Any]:
    buy = b.side is Side.BUY
    return {
        "market_id": market_id,
        "mechanism": single.MECHANISM,
        "buyer": b.league_code if buy else single.CLEARING_HOUSE,
        "seller": single.CLEARING_HOUSE if buy else b.league_code,
        "quantity": f.quantity,
        "price": f.price,
        "amount": f.quantity * f.price,
        "source": f"bundle:{b.id}",
        "run_id": run_id,
        "order_id": None,
    }


def _finish_bundle(
    session: Session,
    b: Bundle,
    outcome: matching.BundleResult,
    prices: dict[int, int | None],
    parts: dict[int, _Market],
    joint_id: int,
    actor: str,
) -> None:
    b.joint_id = joint_id
    b.updated_at = utcnow()
    if not outcome.accepted:
        reason, detail = rejection_reason(b, prices, parts)
        _reject(session, b, reason, detail, actor)
        return
    b.status = BundleStatus.ACCEPTED
    b.steps, b.of = outcome.steps, outcome.of
    amount = 0
    for leg in b.legs:
        price = prices[leg.market_id]
        assert price is not None
        leg.filled_quantity = leg.quantity * outcome.steps // outcome.of
        leg.price = price
        leg.run_id = parts[leg.market_id].run.id
        amount += leg.filled_quantity * price
    b.amount = amount
    # the buyer refund: the cash hold's rest (limit minus cost); a sell leg's rest (partial)
    _release_all(session, b, actor, f"bundle:{b.id}/refund")


def _release_all(session: Session, b: Bundle, actor: str, reference: str) -> None:
    ids = [(b.hold_id, b.legs[0].market_id)] if b.hold_id is not None else []
    ids += [(leg.hold_id, leg.market_id) for leg in b.legs if leg.hold_id is not None]
    for hold_id, market_id in ids:
        assert hold_id is not None
        ledger.release_hold(
            session, hold_id, actor=actor, reference=reference, chain=ledger.market_asset(market_id)
        )


def _reject(session: Session, b: Bundle, reason: str, detail: str, actor: str) -> None:
    b.status = BundleStatus.REJECTED
    b.reason, b.reason_detail = reason, detail
    b.updated_at = utcnow()
    _release_all(session, b, actor, f"bundle:{b.id}/rejected")


def rejection_reason(
    b: Bundle, prices: dict[int, int | None], parts: dict[int, _Market]
) -> tuple[str, str]:
    """Why a bundle was not accepted, from the run's outcome (reason code, detail in English).

    ``no_counterpart``: a market's book cannot absorb a leg at all (its opposite side holds less
    than the leg); ``limit_not_met``: at the clearing prices the legs are worth more (buy) or
    less (sell) than the limit; ``not_selected``: the limit is met at the clearing prices, but
    accepting the bundle would move those prices against it (it would be paradoxically
    accepted) or lower the total surplus of the window.
    """
    for leg in b.legs:
        p = parts[leg.market_id]
        opposite = Side.SELL if b.side is Side.BUY else Side.BUY
        available = sum(r[2] for r in p.rows if r[1] is opposite)
        if available < leg.quantity:
            return "no_counterpart", (
                f"market {p.market.code}: the book offers {available} "
                f"against a leg of {leg.quantity}"
            )
    value = 0
    for leg in b.legs:
        price = prices[leg.market_id]
        if price is None:  # nothing traded there: the best opposite limit is the least cost
            p = parts[leg.market_id]
            limits = [r[3] for r in p.rows if r[1] is not b.side]
            best = min(limits) if b.side is Side.BUY else max(limits)
            price = max(best, p.market.price_floor)
        value += price * leg.quantity
    if (b.side is Side.BUY and value > b.limit_total) or (
        b.side is Side.SELL and value < b.limit_total
    ):
        return (
            "limit_not_met",
            f"the legs are worth {value} fen at the clearing prices, the limit is {b.limit_total}",
        )
    return "not_selected", (
        f"the legs are worth {value} fen at the clearing prices (limit "
        f"{b.limit_total}), but accepting the bundle would move the prices "
        "against it or lower the window's total surplus"
    )
