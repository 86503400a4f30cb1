"""What the public learns of a clearing run: the results of a sealed auction.

Like the published results of the EU ETS and RGGI auctions: the price (or
zone prices), the volume, the number of bids and bidders, of offers and
sellers, and the bid-to-cover ratio. Never a price level or a size of one
order: the aggregated curves stay with the regulator (and with auditors once
no order of the run is live, ``exchange.mechanisms.call_auction.visibility``).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from sqlalchemy.orm import Session

from exchange import checkpointing
from exchange.mechanisms.call_auction import visibility
from exchange.models.trading import ClearingRun, ClearingSnapshot, Side

if TYPE_CHECKING:
    from exchange.identity.actor import Actor

PUBLIC_FIELDS = (
    "id", "market_id", "window", "trigger", "status", "started_at", "finished_at",
    "order_count", "volume", "price", "zone_prices", "flows", "book_hash", "result_hash",
    "engine", "timings_ms", "failure_reason", "cancellation", "reserves",
)  # fmt: skip


def auction_stats(book: Iterable[tuple[Side, str, int]]) -> dict[str, Any]:
    """Counts of a run's book, given as (side, league, remaining quantity) per live order."""
    orders = {Side.BUY: 0, Side.SELL: 0}
    leagues: dict[Side, set[str]] = {Side.BUY: set(), Side.SELL: set()}
    quantity = {Side.BUY: 0, Side.SELL: 0}
    for side, league, remaining in book:
        orders[side] += 1
        leagues[side].add(league)
        quantity[side] += remaining
    bid_qty, offer_qty = quantity[Side.BUY], quantity[Side.SELL]
    return {
        "bids": orders[Side.BUY],
        "bidders": len(leagues[Side.BUY]),
        "offers": orders[Side.SELL],
        "sellers": len(leagues[Side.SELL]),
        "bid_to_cover": round(bid_qty / offer_qty, 2) if offer_qty else None,
    }


def live_in_snapshot(session: Session, run_id: int) -> int:
    """How many orders of run ``run_id``'s snapshot are still live."""
    snap = session.get(ClearingSnapshot, run_id)
    if snap is None:
        return 0
    ids = [int(o["id"]) for o in json.loads(snap.book).get("orders", [])]
    return len(visibility.live_order_ids(session, ids))


def run_view(session: Session, run: ClearingRun, actor: Actor) -> dict[str, Any]:
    """The run as ``actor`` may see it: results for all, curves only where allowed."""
    view = {name: getattr(run, name) for name in PUBLIC_FIELDS}
    stats = run.auction_stats or {}
    view.update(
        bids=stats.get("bids"),
        bidders=stats.get("bidders"),
        offers=stats.get("offers"),
        sellers=stats.get("sellers"),
        bid_to_cover=stats.get("bid_to_cover"),
    )
    curves = None
    if run.curves is not None and visibility.curves_visible(
        actor, lambda: live_in_snapshot(session, run.id)
    ):
        curves = run.curves
    view["curves"] = curves
    view["checkpoint"] = checkpointing.run_checkpoint(session, run.id, run.finished_at)
    return view
