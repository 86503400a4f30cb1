"""Clearing runs: snapshot the book, call ``matching``, settle every fill in the ledger.

One run per (market, window), enforced by the database: the run locks the
market row, looks for a run of that window and inserts its own under a unique
key, all in the one transaction that also settles the fills. A run that fails
leaves nothing of itself but a ``failed`` record with the reason; a process
killed mid-run leaves nothing at all (its transaction never commits), so the
next run clears the book as if it had never started.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import bindparam, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

import ledger
import matching
from exchange.checkpointing import checkpoint_after_settlement
from exchange.db import close_quietly
from exchange.errors import Conflict, NotFound
from exchange.mechanisms.call_auction import stability
from exchange.mechanisms.call_auction import stats as run_stats
from exchange.mechanisms.call_auction.book import engine_order, load_book
from exchange.mechanisms.call_auction.settlement import Fill, settle_fills
from exchange.models import Market
from exchange.models.base import utcnow
from exchange.models.trading import (
    ClearingRun,
    ClearingSnapshot,
    Order,
    OrderStatus,
    RunStatus,
    RunTrigger,
    Side,
    Trade,
    Validity,
)
from exchange.observability import metrics
from exchange.paging import page_of
from exchange.uow import unit_of_work

MECHANISM = "call_auction"
CLEARING_HOUSE = ledger.EXCHANGE
"""The other side of every call-auction trade: the exchange's clearing house."""

MAX_CURVE_POINTS = 400


GroupClearing = Callable[[Session, int, datetime, RunTrigger, str], "RunOutcome | None"]
GROUP_CLEARINGS: list[GroupClearing] = []
"""Clearings that take a window of several markets at once (``joint.py`` registers the
clearing with bundle orders); None from each: the market clears alone, as below."""


class NotCallAuction(Conflict):
    """The market forms its trades otherwise (continuously, by contracts): it has no runs."""

    code = "not_call_auction"


def engine_versions() -> dict[str, str]:
    """Versions that determine a result bit for bit (zonal prices come from HiGHS in scipy)."""
    import numpy
    import scipy

    return {"numpy": numpy.__version__, "scipy": scipy.__version__}


@dataclass(frozen=True)
class RunOutcome:
    """What a request to clear a window did."""

    run_id: int
    created: bool  # False: the window had already been cleared (or had failed)


def market_rules(session: Session, market: Market) -> matching.Rules:
    """The matching rules of a market; the reference price is its last clearing price."""
    reference = session.scalar(
        select(ClearingRun.price)
        .where(
            ClearingRun.market_id == market.id,
            ClearingRun.status == RunStatus.COMPLETED,
            ClearingRun.price.is_not(None),
        )
        .order_by(ClearingRun.window.desc())
        .limit(1)
    )
    links = tuple(
        matching.Link(lk.from_zone, lk.to_zone, lk.capacity, loss=lk.loss_permille)
        for lk in market.links
    )
    zones = tuple(sorted({e.zone for e in market.eligibility})) if links else None
    if reference is not None and reference % market.tick:
        reference = None
    return matching.Rules(
        lot=market.lot,
        tick=market.tick,
        price_floor=market.price_floor,
        price_ceiling=market.price_ceiling,
        reference_price=reference,
        links=links,
        zones=zones,
    )


def run_clearing(
    factory: sessionmaker[Session],
    market_id: int,
    window: datetime,
    *,
    trigger: RunTrigger,
    actor: str,
) -> RunOutcome:
    """Clear ``market_id`` for ``window`` once; a second call returns the first run."""
    window = window.astimezone(UTC).replace(microsecond=0)
    session = factory()
    try:
        try:
            with unit_of_work(session):
                outcome = clear_in_session(session, market_id, window, trigger, actor)
            if outcome.created:  # sign the ledger's new state (never raises)
                checkpoint_after_settlement(factory, f"clearing_run:{outcome.run_id}")
            return outcome
        except IntegrityError:
            session.rollback()
            existing = _existing_run(session, market_id, window)
            if existing is None:
                raise
            return RunOutcome(existing, created=False)
        except (NotFound, NotCallAuction):
            raise
        except Exception as exc:  # the run failed: record why, in a transaction of its own
            session.rollback()
            return _record_failure(session, market_id, window, trigger, actor, exc)
    finally:
        close_quietly(session)


def _existing_run(session: Session, market_id: int, window: datetime) -> int | None:
    return session.scalar(
        select(ClearingRun.id).where(
            ClearingRun.market_id == market_id, ClearingRun.window == window
        )
    )


def _record_failure(
    session: Session,
    market_id: int,
    window: datetime,
    trigger: RunTrigger,
    actor: str,
    exc: Exception,
) -> RunOutcome:
    reason = f"{type(exc).__name__}: {exc}"[:2000]
    try:
        with unit_of_work(session):
            existing = _existing_run(session, market_id, window)
            if existing is not None:
                return RunOutcome(existing, created=False)
            run = ClearingRun(
                market_id=market_id,
                window=window,
                trigger=trigger,
                status=RunStatus.FAILED,
                started_at=utcnow(),
                finished_at=utcnow(),
                failure_reason=reason,
                triggered_by=actor,
            )
            session.add(run)
            session.flush()
            metrics.clearing_run(market_id, "failed", 0.0)  # metrics
            return RunOutcome(run.id, created=True)
    except IntegrityError:
        session.rollback()
        existing = _existing_run(session, market_id, window)
        if existing is None:
            raise
        return RunOutcome(existing, created=False)


def lock_market_for_run(session: Session, market_id: int) -> Market:
    """The market row, locked until commit (``FOR NO KEY UPDATE``; SQLite: the writer lock).

    Refused (``NotFound``, ``NotCallAuction``) if there is no such market or it forms its
    trades otherwise: only a call-auction market has runs. Bundles name call-auction markets
    only, so a joint clearing never reaches another market before this check.

    Runs of one market, and the regulator's changes to it, wait for each other. Order
    entry does not wait: its first statement takes only the key-share lock its foreign
    key needs, which this lock lets through. The run's book is the live orders committed
    when it loads them (an order committed later waits for the next window), and those
    orders are locked, so a cancel of one waits for the run.
    """
    market = session.get(
        Market, market_id, with_for_update={"key_share": True}, populate_existing=True
    )
    if market is None:
        raise NotFound(f"no market with id {market_id}", field="market_id")
    if market.mechanism != MECHANISM:  # its entries lock resting orders: a run could deadlock
        raise NotCallAuction(
            f"market {market_id} trades by {market.mechanism}, not in call auctions: it has "
            "no clearing runs",
            field="market_id",
        )
    return market


def clear_in_session(
    session: Session, market_id: int, window: datetime, trigger: RunTrigger, actor: str
) -> RunOutcome:
    """Clear one window in the caller's transaction (never commits); see the module doc."""
    for group_clearing in GROUP_CLEARINGS:  # bundles: the window's markets clear together
        joint_run = group_clearing(session, market_id, window, trigger, actor)
        if joint_run is not None:
            return joint_run
    started = time.perf_counter()
    market = lock_market_for_run(session, market_id)
    existing = _existing_run(session, market_id, window)
    if existing is not None:
        return RunOutcome(existing, created=False)
    run = ClearingRun(
        market_id=market_id,
        window=window,
        trigger=trigger,
        status=RunStatus.COMPLETED,
        started_at=utcnow(),
        triggered_by=actor,
    )
    session.add(run)
    session.flush()

    rows = load_book(session, market_id)
    rules = market_rules(session, market)
    book = [engine_order(r, zonal=rules.zonal) for r in rows]
    loaded = time.perf_counter()
    # Stability rules (matching.clear_stable); none on: matching.clear, as before.
    stable, settings = stability.clear(session, market, book, rules)
    result = stable.result or matching.ClearingResult(None, None, 0, ())
    run.auction_stats = run_stats.auction_stats((r[1], r[9], r[2]) for r in rows)
    _record_result(session, run, book, rules, result, stability.book_json(book, rules, settings))
    session.flush()
    matched = time.perf_counter()

    fills = {int(f.id): f for f in result.fills if f.id not in stability.RESERVE_IDS}
    by_id = {r[0]: r for r in rows}
    _update_orders(session, rows, fills, run.id)  # rows the run has locked since the load
    _record_trades(session, market, run.id, by_id, fills)
    # The ledger's writes lock the accounts of the leagues that traded, which their new
    # orders need too: last, so that those wait for the settlement and the commit only.
    settlement = settle_fills(
        session,
        asset=ledger.market_asset(market_id),
        fills=[_ledger_fill(by_id[oid], f) for oid, f in sorted(fills.items())]
        + stability.reserve_fills(session, market, run.id, stable, actor),
        reference=f"run:{run.id}",
        actor=actor,
        lost=sum(f.quantity - f.received for f in result.flows if f.received is not None),
    )
    _expire_single_run_orders(session, rows, fills, run.id, actor, market_id)
    stability.after_settlement(session, market, run, stable, settings, actor)
    settled = time.perf_counter()

    run.finished_at = utcnow()
    run.timings_ms = {
        "load": round((loaded - started) * 1000, 3),
        "match": round((matched - loaded) * 1000, 3),
        "settle": round((settled - matched) * 1000, 3),
        "journals": float(len(settlement.journal_ids)),
    }
    session.flush()
    metrics.clearing_run(market_id, run.status.value, time.perf_counter() - started)  # metrics
    return RunOutcome(run.id, created=True)


def _record_trades(
    session: Session,
    market: Market,
    run_id: int,
    by_id: dict[int, Any],
    fills: dict[int, matching.Fill],
) -> None:
    """One trade per fill, against the clearing house."""
    if not fills:
        return
    rows = []
    for oid, f in sorted(fills.items()):
        league, buy = by_id[oid][9], by_id[oid][1] is Side.BUY
        rows.append(
            {
                "market_id": market.id,
                "mechanism": MECHANISM,
                "buyer": league if buy else CLEARING_HOUSE,
                "seller": CLEARING_HOUSE if buy else league,
                "quantity": f.quantity,
                "price": f.price,
                "amount": f.quantity * f.price,
                "source": f"run:{run_id}",
                "run_id": run_id,
                "order_id": oid,
            }
        )
    session.execute(insert(Trade), rows)


def _record_result(
    session: Session,
    run: ClearingRun,
    book: list[matching.Order],
    rules: matching.Rules,
    result: Any,
    book_json: dict[str, Any],
) -> None:
    """The run's figures, and its snapshot: the book's canonical JSON, whose SHA-256 is the
    run's ``book_hash`` (``matching.book_hash``, or ``stable_book_hash`` with stability
    rules: the same function of the same JSON)."""
    snapshot = _canonical_text(book_json)
    session.add(ClearingSnapshot(run_id=run.id, book=snapshot))
    run.order_count = len(book)
    run.volume = result.volume
    run.price = result.price
    run.zone_prices = dict(result.zone_prices) if result.zone_prices is not None else None
    run.flows = [
        {"from": f.from_zone, "to": f.to_zone, "quantity": f.quantity} for f in result.flows
    ]
    run.curves = _curves(book, rules)
    run.book_hash = hashlib.sha256(snapshot.encode("ascii")).hexdigest()
    run.result_hash = matching.result_hash(result)
    run.engine = engine_versions()


def _ledger_fill(row: Any, fill: matching.Fill) -> Fill:
    order_id, side, remaining, limit, _zone, hold_id, validity = row[:7]
    done = fill.quantity == remaining or validity is Validity.SINGLE_RUN
    return Fill(
        hold_id=hold_id,
        quantity=fill.quantity,
        price=fill.price,
        reference=f"order:{order_id}",
        limit=limit if side is Side.BUY else None,
        release_rest=done,
    )


def _expire_single_run_orders(
    session: Session,
    rows: Sequence[Any],
    fills: dict[int, matching.Fill],
    run_id: int,
    actor: str,
    market_id: int,
) -> None:
    """Single-run orders that did not trade at all give their whole hold back."""
    for row in rows:
        if row[6] is Validity.SINGLE_RUN and row[0] not in fills and row[5] is not None:
            ledger.release_hold(
                session,
                row[5],
                actor=actor,
                reference=f"run:{run_id}/expire/order:{row[0]}",
                chain=ledger.market_asset(market_id),
            )


def _update_orders(
    session: Session, rows: Sequence[Any], fills: dict[int, matching.Fill], run_id: int
) -> None:
    now = utcnow()
    changes = []
    for row in rows:
        order_id, remaining, validity = row[0], row[2], row[6]
        fill = fills.get(order_id)
        if fill is None and validity is not Validity.SINGLE_RUN:
            continue
        quantity = fill.quantity if fill else 0
        amount = fill.quantity * fill.price if fill else 0
        if quantity == remaining:
            status = OrderStatus.FILLED
        elif validity is Validity.SINGLE_RUN:
            status = OrderStatus.EXPIRED
        else:
            status = OrderStatus.PARTIALLY_FILLED
        changes.append(
            {
                "b_id": order_id,
                "b_filled": row[7] + quantity,
                "b_amount": row[8] + amount,
                "b_status": status.value,
                "b_now": now,
                "b_run": run_id,
            }
        )
    if not changes:
        return
    table = Order.__table__
    stmt = (
        update(table)
        .where(table.c.id == bindparam("b_id"))
        .values(
            filled_quantity=bindparam("b_filled"),
            filled_amount=bindparam("b_amount"),
            status=bindparam("b_status"),
            updated_at=bindparam("b_now"),
            last_run_id=bindparam("b_run"),
        )
    )
    session.connection().execute(stmt, changes)


def _curves(book: Sequence[matching.Order], rules: matching.Rules) -> dict[str, Any]:
    """Aggregated demand and supply at each limit price, thinned for charts."""
    if not book:
        return {"prices": [], "demand": [], "supply": []}
    c = matching.curves(book, rules)
    prices, demand, supply = list(c.prices), list(c.demand), list(c.supply)
    if len(prices) > MAX_CURVE_POINTS:
        step = -(-len(prices) // MAX_CURVE_POINTS)
        keep = sorted(set(range(0, len(prices), step)) | {len(prices) - 1})
        prices = [prices[i] for i in keep]
        demand = [int(demand[i]) for i in keep]
        supply = [int(supply[i]) for i in keep]
    return {
        "prices": [int(p) for p in prices],
        "demand": [int(d) for d in demand],
        "supply": [int(s) for s in supply],
    }


def _canonical_text(obj: Any) -> str:
    return matching.canonical_bytes(obj).decode("ascii")


def get_run(session: Session, run_id: int) -> ClearingRun:
    """One clearing run, or ``NotFound``."""
    run = session.get(ClearingRun, run_id)
    if run is None:
        raise NotFound(f"no clearing run with id {run_id}", field="run_id")
    return run


def list_runs(
    session: Session, market_id: int, *, page: int = 1, per_page: int = 50
) -> tuple[int, Sequence[ClearingRun]]:
    """``(total, page)`` of a market's runs, newest window first."""
    from sqlalchemy import func

    query = select(ClearingRun).where(ClearingRun.market_id == market_id)
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    runs = session.scalars(page_of(query.order_by(ClearingRun.window.desc()), page, per_page)).all()
    return total, runs


def snapshot_book(session: Session, run_id: int) -> dict[str, Any]:
    """The stored book (rules and orders) of a run, as canonical JSON data."""
    snap = session.get(ClearingSnapshot, run_id)
    if snap is None:
        raise NotFound(f"clearing run {run_id} has no snapshot", field="run_id")
    data: dict[str, Any] = json.loads(snap.book)
    return data
