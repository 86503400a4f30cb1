"""Reads the pages need and the services do not offer (small, read-only, no commits)."""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

import ledger
from exchange.errors import ExchangeError
from exchange.models import (
    ClearingRun,
    League,
    Market,
    MarketLeague,
    Order,
    OrderStatus,
    RunStatus,
    Trade,
    utcnow,
)
from exchange.paging import first_row
from exchange.references import user_reference_error
from exchange.schedule import next_run
from exchange.services import ledger_ops


@dataclass(frozen=True)
class MarketSummary:
    """A market with its last completed run and its next scheduled window."""

    market: Market
    last_run: ClearingRun | None
    next_run: datetime | None


def last_runs(session: Session) -> dict[int, ClearingRun]:
    """The latest completed run of each market."""
    latest = (
        select(ClearingRun.market_id, func.max(ClearingRun.window).label("window"))
        .where(ClearingRun.status == RunStatus.COMPLETED)
        .group_by(ClearingRun.market_id)
        .subquery()
    )
    runs = session.scalars(
        select(ClearingRun).join(
            latest,
            (latest.c.market_id == ClearingRun.market_id) & (latest.c.window == ClearingRun.window),
        )
    )
    return {run.market_id: run for run in runs}


def market_summaries(session: Session, markets: Sequence[Market]) -> list[MarketSummary]:
    """Each market with its last run and next window (now, in the exchange's schedule)."""
    runs = last_runs(session)
    now = utcnow()
    summaries = []
    for market in markets:
        try:
            upcoming = next_run(market.clearing_schedule, now)
        except ValueError:
            upcoming = None
        summaries.append(MarketSummary(market, runs.get(market.id), upcoming))
    return summaries


def price_history(session: Session, market_id: int, limit: int = 300) -> list[ClearingRun]:
    """The latest ``limit`` completed runs of a market, oldest first."""
    runs = session.scalars(
        select(ClearingRun)
        .where(ClearingRun.market_id == market_id, ClearingRun.status == RunStatus.COMPLETED)
        .order_by(ClearingRun.window.desc())
        .limit(limit)
    ).all()
    return list(reversed(runs))


def recent_runs(
    session: Session, *, market_id: int | None = None, page: int = 1, per_page: int = 50
) -> tuple[int, list[tuple[ClearingRun, str]]]:
    """``(total, page)`` of runs of every market (or one), newest start first, with codes."""
    query = select(ClearingRun, Market.code).join(Market, Market.id == ClearingRun.market_id)
    if market_id is not None:
        query = query.where(ClearingRun.market_id == market_id)
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = session.execute(
        query.order_by(ClearingRun.started_at.desc(), ClearingRun.id.desc())
        .offset(first_row(page, per_page))
        .limit(per_page)
    ).all()
    return total, [(run, code) for run, code in rows]


@dataclass(frozen=True)
class FillRow:
    """A fill with its order's side, league and market."""

    fill: Trade
    order: Order
    run: ClearingRun
    market_code: str
    unit: str


def fills(
    session: Session, *, league: str | None = None, run_id: int | None = None, limit: int = 100
) -> list[FillRow]:
    """Fills, newest first: of one league's orders, or of one run."""
    query = (
        select(Trade, Order, ClearingRun, Market.code, Market.unit)
        .join(Order, Order.id == Trade.order_id)
        .join(ClearingRun, ClearingRun.id == Trade.run_id)
        .join(Market, Market.id == Order.market_id)
    )
    if league is not None:
        query = query.where(Order.league_code == league)
    if run_id is not None:
        query = query.where(Trade.run_id == run_id)
    rows = session.execute(query.order_by(Trade.id.desc()).limit(limit)).all()
    return [FillRow(*row) for row in rows]


def live_order_count(session: Session, market_id: int) -> int:
    """How many orders of a market are open or partially filled."""
    return (
        session.scalar(
            select(func.count())
            .select_from(Order)
            .where(
                Order.market_id == market_id,
                Order.status.in_([OrderStatus.OPEN, OrderStatus.PARTIALLY_FILLED]),
            )
        )
        or 0
    )


def order_states(session: Session, order_ids: Sequence[int]) -> dict[int, tuple[str, OrderStatus]]:
    """Order id -> (league, status) for the orders of a snapshot."""
    result: dict[int, tuple[str, OrderStatus]] = {}
    ids = list(order_ids)
    for start in range(0, len(ids), 900):
        chunk = ids[start : start + 900]
        for oid, league, status in session.execute(
            select(Order.id, Order.league_code, Order.status).where(Order.id.in_(chunk))
        ):
            result[oid] = (league, status)
    return result


def market_of_asset(session: Session) -> dict[str, dict[str, Any]]:
    """Ledger asset -> market code and unit (cash: ``cash``, fen)."""
    return ledger_ops.asset_names(session)


# --------------------------------------------------------------------------- allocation upload


@dataclass
class AllocationPreview:
    """Rows of an uploaded allocation file: those that can be allocated and those that cannot."""

    accepted: list[dict[str, Any]] = field(default_factory=list)
    rejected: list[dict[str, Any]] = field(default_factory=list)
    error: str | None = None  # the whole file is unusable (e.g. its header)


def preview_allocations(session: Session, text: str, progress: Any = None) -> AllocationPreview:
    """Check each row of ``league,market,quantity[,reference]`` on its own.

    Each line is parsed by the service's own parser (``read_allocations_csv``), then
    checked against the registry (league, market, eligibility, lot) and the markets'
    remaining caps (cumulatively, in file order). The allocation itself
    (``allocate_many``) checks everything again in its transaction.
    """
    preview = AllocationPreview()
    reader = csv.reader(io.StringIO(text))
    try:
        header = next(reader)
    except StopIteration:
        preview.error = "the file is empty"
        return preview
    except csv.Error as exc:
        preview.error = f"not a CSV file: {exc}"
        return preview
    header_line = _csv_line(header)
    try:
        ledger_ops.read_allocations_csv([header_line])
    except ExchangeError as exc:
        preview.error = exc.message
        return preview
    leagues = set(session.scalars(select(League.code)))
    markets = {m.code: m for m in session.scalars(select(Market))}
    eligible: dict[int, set[str]] = defaultdict(set)
    for market_id, league in session.execute(
        select(MarketLeague.market_id, MarketLeague.league_code)
    ):
        eligible[market_id].add(league)
    issued: dict[str, int] = {}
    line_no = 1
    while True:
        try:
            row = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            preview.rejected.append(
                {"line": reader.line_num, "raw": "", "problem": {"text": str(exc), "code": "csv"}}
            )
            break
        line_no = reader.line_num
        if not any(cell.strip() for cell in row):
            continue
        raw = _csv_line(row)
        problem, item = _check_row(header_line, raw, leagues, markets, eligible)
        if item is not None:
            market = markets[item.market]
            asset = ledger.market_asset(market.id)
            if item.market not in issued:
                issued[item.market] = ledger.issued_total(session, asset)
            if issued[item.market] + item.quantity > market.cap:
                left = market.cap - issued[item.market]
                problem = {
                    "text": f"over the cap of {market.code}: {left} {market.unit} left, "
                    f"{item.quantity} asked",
                    "code": "over_cap", "market": market.code, "left": left, "unit": market.unit,
                }  # fmt: skip
            else:
                issued[item.market] += item.quantity
        if problem is not None or item is None:
            preview.rejected.append({"line": line_no, "raw": raw, "problem": problem})
        else:
            preview.accepted.append(
                {
                    "line": line_no,
                    "league": item.league,
                    "market": item.market,
                    "quantity": item.quantity,
                    "unit": markets[item.market].unit,
                    "reference": item.reference,
                }
            )
        if progress is not None and line_no % 500 == 0:
            progress(line_no)
    return preview


def _csv_line(row: Sequence[str]) -> str:
    out = io.StringIO()
    csv.writer(out, lineterminator="").writerow(row)
    return out.getvalue()


def _check_row(
    header: str,
    raw: str,
    leagues: set[str],
    markets: dict[str, Market],
    eligible: dict[int, set[str]],
) -> tuple[dict[str, Any] | None, ledger_ops.Allocation | None]:
    """The row's allocation, or its problem: ``{"text": English, "code": ..., params}``
    (the page words the code in its language; ``text`` is the service's message)."""
    try:
        (item,) = ledger_ops.read_allocations_csv([header, raw])
    except ExchangeError as exc:
        message = exc.message
        if message.startswith("line "):
            message = message.split(": ", 1)[-1]
        code = "not_integer" if "not a positive integer" in message else "quantity_positive"
        if "quantity" not in message:
            code = "row"
        return {"text": message, "code": code}, None
    except ValueError:
        return {"text": "not one row of league,market,quantity[,reference]", "code": "row"}, None
    if item.league not in leagues:
        return {"text": f"unknown league {item.league!r}", "code": "unknown_league",
                "league": item.league}, None  # fmt: skip
    market = markets.get(item.market)
    if market is None:
        return {"text": f"unknown market {item.market!r}", "code": "unknown_market",
                "market": item.market}, None  # fmt: skip
    if item.league not in eligible[market.id]:
        return {"text": f"league {item.league!r} is not eligible for {market.code}",
                "code": "not_eligible", "league": item.league,
                "market": market.code}, None  # fmt: skip
    if item.quantity % market.lot:
        return {"text": f"quantity {item.quantity} is not a multiple of the lot {market.lot}",
                "code": "lot", "lot": market.lot, "unit": market.unit}, None  # fmt: skip
    if item.reference is not None and not ledger_ops.REFERENCE.match(item.reference):
        return {"text": "reference: 1-100 characters without '|' or control characters",
                "code": "reference"}, None  # fmt: skip
    if item.reference is not None and (reserved := user_reference_error(item.reference)):
        return {"text": reserved, "code": "reserved_reference"}, None
    return None, item
