"""A clearing run as a person reads it: the headline (price, volume, bids and bidders,
why nothing traded) and the order snapshot as a price-sorted book."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from flask_babel import gettext as _

from exchange.models import ClearingRun, RunStatus
from exchange.web.formatting import run_price, yuan


@dataclass(frozen=True)
class Headline:
    """What a run did, in a few figures and one sentence when nothing traded."""

    price: str | None
    volume: int
    orders: int
    bids: int | None = None
    offers: int | None = None
    bidders: int | None = None
    sellers: int | None = None
    best_bid: int | None = None
    best_offer: int | None = None
    why_no_trade: str | None = None
    reserves: str | None = None


@dataclass(frozen=True)
class Book:
    """The snapshot's orders: bids highest price first, offers lowest price first."""

    bids: list[dict[str, Any]] = field(default_factory=list)
    offers: list[dict[str, Any]] = field(default_factory=list)


def _best(run: ClearingRun) -> tuple[int | None, int | None]:
    """Best bid and best offer from the run's (public, aggregated) curves."""
    curves = run.curves or {}
    prices = curves.get("prices") or []
    demand = curves.get("demand") or []
    supply = curves.get("supply") or []
    bids = [p for p, d in zip(prices, demand, strict=False) if d > 0]
    offers = [p for p, s in zip(prices, supply, strict=False) if s > 0]
    return (max(bids) if bids else None, min(offers) if offers else None)


def _why(
    run: ClearingRun, best_bid: int | None, best_offer: int | None, prices_visible: bool
) -> str | None:
    if run.status is RunStatus.FAILED:
        from exchange.web.messages import technical

        return technical(
            _("The clearing run failed; nothing of it was settled."), run.failure_reason or "?"
        )
    if run.status is RunStatus.CANCELLED:
        return cancellation_text(run.cancellation or {})
    if run.volume:
        return None
    if best_bid is None and best_offer is None:
        return _("Nothing traded: there were no orders.")
    if best_bid is None:
        return _("Nothing traded: there was no buy order.")
    if best_offer is None:
        return _("Nothing traded: there was no sell order.")
    if best_bid < best_offer and prices_visible:
        return _(
            "Nothing traded: the best bid (%(bid)s yuan) was below the best offer "
            "(%(offer)s yuan).",
            bid=yuan(best_bid),
            offer=yuan(best_offer),
        )
    if best_bid < best_offer:  # the prices of sealed bids stay sealed
        return _("Nothing traded: every bid was below every offer.")
    return _("Nothing traded: no buy and sell orders could be matched under the market's rules.")


def cancellation_text(c: dict[str, Any]) -> str:
    """Why a stability rule cancelled a run, with its numbers (the published reason)."""
    if c.get("reason") == "insufficient_cover":
        return _(
            "Cancelled, nothing settled: bids for %(bids)s units covered %(cover)s %% of the "
            "%(offered)s units offered, less than the required %(required)s %%. "
            "Good-till-cancelled orders stay in the book.",
            bids=c.get("bid_volume"),
            offered=c.get("offered_volume"),
            cover=c.get("cover_percent"),
            required=c.get("min_cover_percent"),
        )
    if c.get("reason") == "price_below_reference":
        return _(
            "Cancelled, nothing settled: the clearing price %(price)s yuan was below "
            "%(share)s %% of the reference price %(reference)s yuan. "
            "Good-till-cancelled orders stay in the book.",
            price=yuan(c.get("price")),
            share=c.get("min_price_percent"),
            reference=yuan(c.get("reference_price")),
        )
    return _("Cancelled by a stability rule, nothing settled.")


def reserves_text(run: ClearingRun) -> str | None:
    """What the reserves did in a run, as the published results say it."""
    r = run.reserves or {}
    parts = []
    if r.get("ccr_released"):
        parts.append(_("The cost containment reserve released %(units)s units.",
                       units=r["ccr_released"]))  # fmt: skip
    if r.get("ecr_withheld"):
        parts.append(_("The emissions containment reserve withheld %(units)s units (retired).",
                       units=r["ecr_withheld"]))  # fmt: skip
    return " ".join(parts) or None


def headline(run: ClearingRun, book: Book | None = None, prices_visible: bool = False) -> Headline:
    """The headline of ``run``: the published auction results (``run.auction_stats``), or
    with its ``book`` (roles that may see it) the counts of the book; the best bid and offer
    only when ``prices_visible`` (``visibility.curves_visible``)."""
    best_bid, best_offer = _best(run)
    stats = run.auction_stats or {}
    counts: dict[str, Any] = {k: stats.get(k) for k in ("bids", "offers", "bidders", "sellers")}
    if book is not None:
        counts = {
            "bids": len(book.bids),
            "offers": len(book.offers),
            "bidders": len({o["league"] for o in book.bids}),
            "sellers": len({o["league"] for o in book.offers}),
        }
    if any(v is None for v in counts.values()):
        counts = {}
    why = _why(run, best_bid, best_offer, prices_visible)
    return Headline(
        price=run_price(run),
        volume=run.volume or 0,
        orders=run.order_count or 0,
        best_bid=best_bid if prices_visible else None,
        best_offer=best_offer if prices_visible else None,
        why_no_trade=why,
        reserves=reserves_text(run),
        **counts,
    )


def price_sorted(orders: list[dict[str, Any]]) -> Book:
    """Split snapshot orders into bids (highest first) and offers (lowest first)."""
    bids = [o for o in orders if o.get("side") == "buy"]
    offers = [o for o in orders if o.get("side") == "sell"]
    bids.sort(key=lambda o: (-int(o["price"]), int(o.get("seq", 0))))
    offers.sort(key=lambda o: (int(o["price"]), int(o.get("seq", 0))))
    return Book(bids=bids, offers=offers)
