"""Bundle orders (issue 21 item 1): entry with its worst-case holds, cancel, reads.

A bundle names a call-auction window and legs in distinct call-auction markets whose schedules
all fire at that window. Every leg has the same side (mixed buy/sell legs are refused with 422:
the engine's bundle has one side). Its limit is on the total value:

- buy: ``limit_total`` = ``max_total``, or the sum of the legs' ``limit_price x quantity``, or
  the smaller of the two if both are given; one cash hold of ``limit_total`` (the worst case:
  the bundle never pays more);
- sell: ``limit_total`` = ``min_total``, or that sum, or the larger of the two; one rights hold
  per leg of its quantity.

Leg limit prices are not per-leg constraints: the point of a bundle is that a league may pay
more for water when carbon is cheap. Live (open) bundles are sealed like live orders
(:mod:`exchange.mechanisms.call_auction.visibility`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import and_, func, select
from sqlalchemy.orm import Session

import ledger
from exchange.errors import Conflict, InvalidInput, NotFound, insufficient_funds
from exchange.mechanisms.call_auction import stability
from exchange.mechanisms.call_auction import visibility as sealed
from exchange.mechanisms.call_auction.run import MECHANISM
from exchange.models import Market, MarketLeague, MarketStatus
from exchange.models.base import utcnow
from exchange.models.bundles import Bundle, BundleLeg, BundleStatus
from exchange.models.trading import Side
from exchange.paging import page_of
from exchange.schedule import next_run
from exchange.services import enterprises
from exchange.services.orders import MAX_ORDER_VALUE, check_order_terms

if TYPE_CHECKING:
    from exchange.identity.actor import Actor

MAX_LEGS = 12


@dataclass(frozen=True)
class LegCommand:
    market_id: int
    side: Side
    quantity: int
    limit_price: int | None = None


@dataclass(frozen=True)
class PlaceBundle:
    """Enter a bundle for a league (see the module doc)."""

    window: datetime
    legs: tuple[LegCommand, ...]
    client_order_id: str
    max_total: int | None = None
    min_total: int | None = None
    min_ratio: int | None = None

    @classmethod
    def from_data(cls, data: Mapping[str, Any]) -> PlaceBundle:
        """The command from the API's fields (every leg with its ``market_id``)."""
        legs = tuple(
            LegCommand(leg["market_id"], Side(leg["side"]), leg["quantity"], leg.get("limit_price"))
            for leg in data["legs"]
        )
        return cls(
            data["window"],
            legs,
            data["client_order_id"],
            data.get("max_total"),
            data.get("min_total"),
            data.get("min_ratio"),
        )


@dataclass(frozen=True)
class PlacedBundle:
    bundle: Bundle
    created: bool


def is_live(bundle: Bundle) -> bool:
    """An open bundle can still trade: sealed like a live order."""
    return bundle.status is BundleStatus.OPEN


def may_see(actor: Actor, bundle: Bundle) -> bool:
    """The call auction's sealed-bid rule, applied to a bundle."""
    return sealed.may_see(actor, bundle.league_code, live=is_live(bundle))


def _check_window(window: datetime, now: datetime) -> datetime:
    if window.tzinfo is None:
        raise InvalidInput(
            "window: give a time zone offset, e.g. 2027-03-01T10:00:00+08:00", field="window"
        )
    window = window.astimezone(UTC)
    if window.microsecond or window <= now:
        raise InvalidInput(
            f"window: {window.isoformat()} is not a future clearing time", field="window"
        )
    return window


def _check_leg(
    i: int, leg: LegCommand, found: tuple[Market, str | None] | None, league: str, window: datetime
) -> None:
    field = f"legs.{i}.market_id"
    if found is None:
        raise InvalidInput(f"legs[{i}]: no market with id {leg.market_id}", field=field)
    market, zone = found
    if market.mechanism != MECHANISM or not market.clearing_schedule:
        raise InvalidInput(f"legs[{i}]: market {market.code} is not a call auction", field=field)
    if market.status is not MarketStatus.OPEN:
        raise Conflict(
            f"legs[{i}]: market {market.code} is {market.status.value}",
            field=field,
            code="market_not_open",
        )
    if market.links:
        raise InvalidInput(
            f"legs[{i}]: market {market.code} clears by zone; bundles take "
            "single-zone markets only",
            field=field,
        )
    if stability.rules_on(market):
        raise InvalidInput(
            f"legs[{i}]: market {market.code} has stability rules (cancellation, containment "
            "reserves), which joint clearing does not apply; bundles take markets without them",
            field=field,
        )
    if next_run(market.clearing_schedule, window - timedelta(seconds=1)) != window:
        raise InvalidInput(
            f"window: {window.isoformat()} is not a time of market "
            f"{market.code}'s schedule {market.clearing_schedule!r}",
            field="window",
        )
    if zone is None:
        raise InvalidInput(
            f"legs[{i}]: league {league!r} may not trade in market {market.code}",
            field=field,
            code="not_eligible",
        )
    try:
        price = market.price_floor if leg.limit_price is None else leg.limit_price
        check_order_terms(market, leg.quantity, price)
    except InvalidInput as exc:
        raise InvalidInput(f"legs[{i}]: {exc.message}", field=f"legs.{i}.{exc.field}") from None


def with_market_ids(session: Session, data: Mapping[str, Any]) -> dict[str, Any]:
    """``data`` with each leg's ``market`` (a market code) turned into its ``market_id``;
    an unknown code is refused naming the leg's field."""
    legs = []
    for i, leg in enumerate(data["legs"]):
        leg = dict(leg)
        code = leg.pop("market", None)
        if code is not None:
            leg["market_id"] = session.scalar(select(Market.id).where(Market.code == code))
            if leg["market_id"] is None:
                raise InvalidInput(f"legs[{i}]: no market {code!r}", field=f"legs.{i}.market")
        legs.append(leg)
    return {**data, "legs": legs}


def limit_total(command: PlaceBundle, side: Side) -> int:
    """The effective limit on the bundle's total value (module doc); 422 if none or not > 0."""
    priced = [leg for leg in command.legs if leg.limit_price is not None]
    total = sum(leg.quantity * (leg.limit_price or 0) for leg in priced)
    given, other, name = (
        (command.max_total, command.min_total, "max_total")
        if side is Side.BUY
        else (command.min_total, command.max_total, "min_total")
    )
    if other is not None:
        wrong = "min_total" if side is Side.BUY else "max_total"
        raise InvalidInput(f"{wrong}: a {side.value} bundle takes {name}", field=wrong)
    full = len(priced) == len(command.legs)
    if given is None and not full:
        raise InvalidInput(f"{name}: give {name} or a limit_price on every leg", field=name)
    if given is None:
        limit = total
    elif not full:
        limit = given
    else:
        limit = min(given, total) if side is Side.BUY else max(given, total)
    if limit <= 0:
        raise InvalidInput(f"{name}: the bundle's limit must be above 0 fen", field=name)
    if limit > MAX_ORDER_VALUE:
        raise InvalidInput(f"{name}: {limit} fen is more than a bundle may reserve", field=name)
    return limit


def _markets(
    session: Session, league: str, ids: Sequence[int]
) -> dict[int, tuple[Market, str | None]]:
    rows = session.execute(
        select(Market, MarketLeague.zone)
        .outerjoin(
            MarketLeague,
            and_(MarketLeague.market_id == Market.id, MarketLeague.league_code == league),
        )
        .where(Market.id.in_(sorted(set(ids))))
        # The key-share lock the legs' foreign keys take anyway, taken before any account (as
        # order entry does): a bundle never waits for a market while holding an account.
        .with_for_update(read=True, key_share=True, of=Market)
    ).all()
    return {market.id: (market, zone) for market, zone in rows}


def place_bundle(
    session: Session, command: PlaceBundle, *, league: str, actor: str
) -> PlacedBundle:
    """Validate and enter a bundle with its holds, in the caller's unit of work."""
    existing = session.scalar(
        select(Bundle).where(
            Bundle.league_code == league, Bundle.client_order_id == command.client_order_id
        )
    )
    if existing is not None:
        return PlacedBundle(existing, created=False)
    enterprises.require_state(session, league, enterprises.TRADE)
    window = _check_window(command.window, utcnow())
    if not 1 <= len(command.legs) <= MAX_LEGS:
        raise InvalidInput(f"legs: give 1 to {MAX_LEGS} legs", field="legs")
    sides = {leg.side for leg in command.legs}
    if len(sides) != 1:
        raise InvalidInput(
            "legs: every leg of a bundle must have the same side (a bundle "
            "buys or sells; enter two bundles)",
            field="legs",
        )
    side = sides.pop()
    ids = [leg.market_id for leg in command.legs]
    if len(set(ids)) != len(ids):
        raise InvalidInput("legs: two legs in the same market", field="legs")
    markets = _markets(session, league, ids)
    for i, leg in enumerate(command.legs):
        _check_leg(i, leg, markets.get(leg.market_id), league, window)
    limit = limit_total(command, side)
    now = utcnow()
    bundle = Bundle(
        league_code=league,
        window=window,
        side=side,
        max_total=command.max_total,
        min_total=command.min_total,
        limit_total=limit,
        min_ratio=command.min_ratio,
        client_order_id=command.client_order_id,
        status=BundleStatus.OPEN,
        amount=0,
        created_by=actor,
        created_at=now,
        updated_at=now,
        legs=[
            BundleLeg(
                market_id=leg.market_id,
                quantity=leg.quantity,
                limit_price=leg.limit_price,
                filled_quantity=0,
            )
            for leg in sorted(command.legs, key=lambda leg: leg.market_id)
        ],
    )
    session.add(bundle)
    session.flush()
    _hold(session, bundle, actor)
    return PlacedBundle(bundle, created=True)


def _hold(session: Session, bundle: Bundle, actor: str) -> None:
    """The worst case: the buy limit in cash, or every sell leg's rights."""
    ref = f"bundle:{bundle.id}"
    try:
        if bundle.side is Side.BUY:
            bundle.hold_id = ledger.place_hold(
                session,
                league=bundle.league_code,
                asset=ledger.CASH,
                amount=bundle.limit_total,
                reference=ref,
                actor=actor,
                chain=ledger.market_asset(bundle.legs[0].market_id),
            )
            return
        requests = [
            ledger.HoldRequest(
                bundle.league_code, ledger.market_asset(leg.market_id), leg.quantity, ref
            )
            for leg in bundle.legs
        ]
        for leg, hold_id in zip(
            bundle.legs, ledger.place_holds(session, requests, actor=actor), strict=True
        ):
            leg.hold_id = hold_id
    except ledger.InsufficientFunds as exc:
        what = "cash (fen)" if bundle.side is Side.BUY else "rights"
        raise insufficient_funds(
            exc,
            f"not enough available {what}: the bundle needs {exc.requested}, "
            f"{exc.available} available",
            field="max_total" if bundle.side is Side.BUY else "legs",
        ) from exc


def release_holds(session: Session, bundle: Bundle, *, actor: str, reference: str) -> None:
    """Give back whatever the bundle's holds still reserve."""
    if bundle.hold_id is not None:
        ledger.release_hold(
            session,
            bundle.hold_id,
            actor=actor,
            reference=reference,
            chain=ledger.market_asset(bundle.legs[0].market_id),
        )
    for leg in bundle.legs:
        if leg.hold_id is not None:
            ledger.release_hold(
                session,
                leg.hold_id,
                actor=actor,
                reference=reference,
                chain=ledger.market_asset(leg.market_id),
            )


def cancel_bundle(session: Session, *, bundle_id: int, viewer: Actor, actor: str) -> Bundle:
    """Cancel an open bundle (its league or the regulator) and release its holds."""
    bundle = session.get(Bundle, bundle_id, with_for_update=True, populate_existing=True)
    if bundle is None or not _may_act(viewer, bundle):
        raise NotFound(f"no bundle with id {bundle_id}", field="bundle_id")
    if bundle.status is not BundleStatus.OPEN:
        raise Conflict(
            f"bundle {bundle_id} is {bundle.status.value}; only open bundles can be cancelled",
            field="bundle_id",
            code="bundle_not_open",
        )
    release_holds(session, bundle, actor=actor, reference=f"bundle:{bundle.id}/cancel")
    bundle.status = BundleStatus.CANCELLED
    bundle.updated_at = utcnow()
    return bundle


def _may_act(viewer: Actor, bundle: Bundle) -> bool:
    return sealed.sees_live_orders(viewer) or viewer.party == bundle.league_code


def get_bundle(session: Session, bundle_id: int, viewer: Actor) -> Bundle:
    """One bundle, if ``viewer`` may see it (else 404, as for a sealed order)."""
    bundle = session.get(Bundle, bundle_id)
    if bundle is None or not may_see(viewer, bundle):
        raise NotFound(f"no bundle with id {bundle_id}", field="bundle_id")
    return bundle


def list_bundles(
    session: Session,
    viewer: Actor,
    *,
    league: str | None = None,
    status: BundleStatus | None = None,
    page: int = 1,
    per_page: int = 50,
) -> tuple[int, Sequence[Bundle]]:
    """``(total, page)`` of the bundles ``viewer`` may see, newest first."""
    query = select(Bundle)
    if not sealed.sees_live_orders(viewer):
        if viewer.party is not None and sealed.may_see(viewer, viewer.party, live=True):
            query = query.where(Bundle.league_code == viewer.party)
        elif sealed.may_see(viewer, "", live=False):  # auditors: once no longer live
            query = query.where(Bundle.status != BundleStatus.OPEN)
        else:
            query = query.where(Bundle.id.is_(None))
    if league is not None:
        query = query.where(Bundle.league_code == league)
    if status is not None:
        query = query.where(Bundle.status == status)
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    items = session.scalars(page_of(query.order_by(Bundle.id.desc()), page, per_page)).all()
    return total, items


def holds_of(session: Session, bundle: Bundle) -> list[dict[str, Any]]:
    """The bundle's holds as stored (asset, amount, remaining)."""
    ids = [bundle.hold_id] if bundle.hold_id is not None else []
    ids += [leg.hold_id for leg in bundle.legs if leg.hold_id is not None]
    out = []
    for hold_id in ids:
        h = ledger.get_hold(session, hold_id)
        out.append({"id": h.id, "asset": h.asset, "amount": h.amount, "remaining": h.remaining})
    return out
