"""Stability rules of a call-auction market, in the exchange (the rules are in ``matching``).

After the EU ETS auctions and RGGI's reserves (``shared/FACTS.md``, "Auction rules worth
knowing"; docs/trading.md, "Stability rules"): a run is *cancelled* when the bids cover less
than ``min_cover_percent`` of the offered volume, or when its price is below
``min_price_percent`` of the reference price; the market's reserve participant (kind
``reserve``, ``markets.reserve_code``) sells up to ``ccr_quantity`` units at
``ccr_trigger_price`` when the price would exceed it (cost containment reserve), and buys up
to ``ecr_quantity`` at ``ecr_trigger_price`` when the price would fall below it (emissions
containment reserve); the units it buys are retired at once, withheld from the market.

- The reference price of ``min_price_percent``: the market's ``reference_price`` when the
  regulator set one (like the EU's secondary-market price), else the last completed run's
  price; with neither, the rule waits for a first price.
- The reserves are capped by what the reserve holds (units for the CCR, cash at the trigger
  for the ECR), in whole lots, so a run never fails for a short reserve; the capped numbers
  are the ones stored in the run's snapshot, so a replay gives the same result.
- A cancelled run settles nothing: good-till-cancelled orders stay live with their holds;
  orders valid for one run expire and get their holds back, as when they do not trade.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

import ledger
import matching
from exchange.errors import InvalidInput
from exchange.mechanisms.call_auction.settlement import Fill
from exchange.models import League, Market
from exchange.models.registry import DEFAULT_MECHANISM, ParticipantKind
from exchange.models.trading import ClearingRun, RunStatus

SETTINGS = (
    "min_cover_percent",
    "min_price_percent",
    "ccr_trigger_price",
    "ccr_quantity",
    "ecr_trigger_price",
    "ecr_quantity",
)
"""The market columns of the stability rules (null: off)."""
RESERVE_IDS = (matching.CCR_ID, matching.ECR_ID)


def rules_on(market: Market) -> bool:
    """Does any stability rule apply to ``market``? (Bundles are not cleared in such a market:
    the joint clearing knows neither cancellation nor reserves.)"""
    return any(getattr(market, k) is not None for k in SETTINGS)


def check_settings(
    session: Session,
    *,
    mechanism: str,
    lot: int,
    tick: int,
    zonal: bool,
    values: dict[str, Any],
) -> None:
    """Raise :class:`InvalidInput` naming the field unless ``values`` (``SETTINGS`` and
    ``reserve_code``) fit a market of these terms."""
    on = {k: values.get(k) for k in SETTINGS if values.get(k) is not None}
    if on and mechanism != DEFAULT_MECHANISM:
        field = next(iter(on))
        raise InvalidInput("stability rules apply to call-auction markets only", field=field)
    try:
        st = matching.Stability(**{k: values.get(k) for k in SETTINGS})
        rules = matching.Rules(lot=lot, tick=tick, zones=("z",) if zonal else None)
        st.check(rules)
    except matching.InvalidBook as exc:
        field = (exc.field or "stability").removeprefix("stability.")
        message = exc.message.removeprefix("stability: ")
        if field == "stability":
            field = "ccr_quantity" if st.ccr_quantity is not None else "ecr_quantity"
        raise InvalidInput(message, field=field) from None
    reserve = values.get("reserve_code")
    needs = st.ccr_quantity is not None or st.ecr_quantity is not None
    if needs and reserve is None:
        raise InvalidInput("the reserves need a reserve participant", field="reserve")
    if reserve is not None:
        participant = session.get(League, reserve)
        if participant is None or participant.kind != ParticipantKind.RESERVE.value:
            raise InvalidInput(f"{reserve!r} is not a participant of kind reserve", field="reserve")


def settings_of(market: Market) -> dict[str, Any]:
    """The market's stability settings as shown by the API (``reserve``: the participant)."""
    out: dict[str, Any] = {k: getattr(market, k) for k in SETTINGS}
    out["reserve"] = market.reserve_code
    return out


def set_settings(session: Session, market: Market, values: dict[str, Any]) -> Market:
    """Replace a market's stability settings and reference price (absent keys: off).
    Never commits."""
    if market.mechanism != DEFAULT_MECHANISM:
        raise InvalidInput("stability rules apply to call-auction markets only", field="market_id")
    values = {**dict.fromkeys((*SETTINGS, "reserve_code", "reference_price")), **values}
    check_settings(
        session,
        mechanism=market.mechanism,
        lot=market.lot,
        tick=market.tick,
        zonal=bool(market.links),
        values=values,
    )
    reference = values["reference_price"]
    if reference is not None and reference % market.tick:
        raise InvalidInput(f"{reference} is not a multiple of the tick {market.tick}",
                           field="reference_price")  # fmt: skip
    for k in (*SETTINGS, "reserve_code", "reference_price"):
        setattr(market, k, values[k])
    session.flush()
    return market


def _active(market: Market) -> bool:
    return any(getattr(market, k) is not None for k in SETTINGS)


def _last_price(session: Session, market_id: int) -> int | None:
    return session.scalar(
        select(ClearingRun.price)
        .where(
            ClearingRun.market_id == market_id,
            ClearingRun.status == RunStatus.COMPLETED,
            ClearingRun.price.is_not(None),
        )
        .order_by(ClearingRun.window.desc())
        .limit(1)
    )


def _capped(quantity: int | None, available: int, lot: int) -> int | None:
    if quantity is None:
        return None
    return min(quantity, max(available, 0) // lot * lot)


def stability_for(session: Session, market: Market) -> matching.Stability | None:
    """The settings in force for a run of ``market`` now, or None (no rule on)."""
    if not _active(market):
        return None
    reference = market.reference_price
    if reference is None and market.min_price_percent is not None:
        reference = _last_price(session, market.id)
    ccr, ecr = market.ccr_quantity, market.ecr_quantity
    reserve = market.reserve_code
    if reserve is not None and (ccr or ecr):
        units_key = ledger.league_account(reserve, ledger.market_asset(market.id))
        cash_key = ledger.league_account(reserve, ledger.CASH)
        held = ledger.lock_accounts(session, [units_key, cash_key])  # available balances
        ccr = _capped(ccr, held[units_key], market.lot)
        if ecr and market.ecr_trigger_price:
            ecr = _capped(ecr, held[cash_key] // market.ecr_trigger_price, market.lot)
    elif reserve is None:
        ccr = 0 if ccr is not None else None
        ecr = 0 if ecr is not None else None
    return matching.Stability(
        min_cover_percent=market.min_cover_percent,
        min_price_percent=market.min_price_percent,
        reference_price=reference,
        ccr_trigger_price=market.ccr_trigger_price,
        ccr_quantity=ccr,
        ecr_trigger_price=market.ecr_trigger_price,
        ecr_quantity=ecr,
    )


def clear(
    session: Session, market: Market, book: Sequence[matching.Order], rules: matching.Rules
) -> tuple[matching.StableResult, matching.Stability | None]:
    """Clear ``book`` under the market's stability rules (none on: plain ``matching.clear``)."""
    st = stability_for(session, market)
    if st is None:
        result = matching.clear(book, rules)
        return matching.StableResult(None, result, tuple(book)), None
    return matching.clear_stable(book, rules, st), st


def reserve_fills(
    session: Session, market: Market, run_id: int, out: matching.StableResult, actor: str
) -> list[Fill]:
    """Hold what the reserve sells (CCR) or pays (ECR) and return its fills to settle."""
    if out.result is None or not (out.ccr_released or out.ecr_withheld):
        return []
    assert market.reserve_code is not None
    asset = ledger.market_asset(market.id)
    fills = []
    for f in out.result.fills:
        if f.id not in RESERVE_IDS:
            continue
        sell = f.id == matching.CCR_ID
        hold = ledger.place_hold(
            session,
            league=market.reserve_code,
            asset=asset if sell else ledger.CASH,
            amount=f.quantity if sell else f.quantity * f.price,
            reference=f"run:{run_id}/{f.id}",
            actor=actor,
            chain=None if sell else asset,
        )
        fills.append(Fill(hold, f.quantity, f.price, f.id, None if sell else f.price, True))
    return fills


def after_settlement(
    session: Session,
    market: Market,
    run: ClearingRun,
    out: matching.StableResult,
    st: matching.Stability | None,
    actor: str,
) -> None:
    """Retire what the ECR bought; record what the reserves did and the stable hashes."""
    if st is None:
        return
    if out.ecr_withheld:
        assert market.reserve_code is not None
        ledger.retire(
            session,
            league=market.reserve_code,
            asset=ledger.market_asset(market.id),
            amount=out.ecr_withheld,
            reference=f"run:{run.id}/{matching.ECR_ID}/withheld",
            actor=actor,
        )
    run.reserves = {
        "settings": matching.stability_to_json(st),
        "reserve": market.reserve_code,
        "ccr_released": out.ccr_released,
        "ecr_withheld": out.ecr_withheld,
    }
    if out.cancellation is not None:
        run.status = RunStatus.CANCELLED
        run.cancellation = cancellation_json(out.cancellation)
    run.result_hash = matching.stable_result_hash(out)


def cancellation_json(c: matching.Cancellation) -> dict[str, Any]:
    """The published reason of a cancelled run: its code and the numbers behind it."""
    doc = matching.stable_result_to_json(matching.StableResult(c, None, ()))
    cancelled: dict[str, Any] = doc["cancelled"]
    return cancelled


def book_json(
    book: Sequence[matching.Order], rules: matching.Rules, st: matching.Stability | None
) -> dict[str, Any]:
    """The run's snapshot: the book as entered, with the stability settings in force."""
    return matching.stable_book_to_json(book, rules, st)
