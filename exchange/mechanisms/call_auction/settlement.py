"""Settlement policy of the call auction: delivery versus payment via the clearing house.

Each fill of a run becomes one journal against the exchange's clearing account
(the central counterparty): a sell fill moves ``quantity`` from the seller's
hold to the clearing account and ``price * quantity`` from the clearing account
to the seller's cash; a buy fill moves ``quantity`` from the clearing account
to the buyer and draws ``limit * quantity`` from the buyer's cash hold:
``price * quantity`` to the clearing account, the rest back to the buyer (the
buyer refund). Afterwards the clearing account must be flat in rights; the cash
left on it (buyers in dear zones paid more than sellers in cheap zones got) is
the congestion rent, booked to the market's congestion account in a last
journal. This module builds the journal specs; the ledger checks and posts them.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

import ledger
from ledger import AccountKey, HoldExceeded, HoldNotFound, InvalidPosting, JournalSpec, PostingSpec


@dataclass(frozen=True, slots=True)
class Fill:
    """One order's fill in a clearing run, drawn from the order's hold.

    A sell order's hold is on the market asset; a buy order's hold is on cash
    and was sized ``limit * quantity``: the buyer pays ``price * quantity`` and
    gets ``(limit - price) * quantity`` back. ``price`` is the price of the
    order's zone (fen per unit). ``release_rest`` releases whatever the hold
    still has after this fill (the order is done).
    """

    hold_id: int
    quantity: int
    price: int
    reference: str
    limit: int | None = None
    release_rest: bool = False


@dataclass(frozen=True, slots=True)
class Settlement:
    """What a clearing run's settlement posted."""

    journal_ids: list[int]
    volume: int
    paid_by_buyers: int
    paid_to_sellers: int
    congestion_rent: int


@dataclass
class _Totals:
    volume_in: int = 0
    volume_out: int = 0
    paid: int = 0
    received: int = 0


def settle_fills(
    session: Session,
    *,
    asset: str,
    fills: Sequence[Fill],
    reference: str,
    actor: str,
    cash_asset: str = ledger.CASH,
    now: datetime | None = None,
    lost: int = 0,
) -> Settlement:
    """Settle a clearing run of market ``asset``: one journal per fill, then the rent.

    Raises (a :class:`ledger.LedgerError`) and writes nothing when the run does
    not balance. All journals go on the market's chain, referenced
    ``<reference>/<fill reference>``.
    """
    if not fills:
        return Settlement([], 0, 0, 0, 0)
    specs, totals = settlement_specs(
        session,
        asset=asset,
        fills=fills,
        reference=reference,
        actor=actor,
        cash_asset=cash_asset,
        lost=lost,
    )
    ids = ledger.post_journals(session, specs, now=now)
    rent = totals.paid - totals.received
    return Settlement(ids, totals.volume_in, totals.paid, totals.received, rent)


def settlement_specs(
    session: Session,
    *,
    asset: str,
    fills: Sequence[Fill],
    reference: str,
    actor: str,
    cash_asset: str = ledger.CASH,
    lost: int = 0,
) -> tuple[list[JournalSpec], _Totals]:
    """Lock what the run touches and build its journals (not yet posted); ``lost``: the
    units sent on links with a conveyance loss that did not arrive (the matching's flows)."""
    holds = ledger.hold_owners(session, {f.hold_id for f in fills})
    clearing_rights = ledger.clearing_account(asset)
    clearing_cash = ledger.clearing_account(cash_asset)
    # Lock order: accounts, then holds (then chains, when posting).
    owners = {owner for owner, _a, _r in holds.values()}
    ledger.lock_accounts(
        session,
        [
            clearing_rights,
            clearing_cash,
            ledger.congestion_account(asset, cash_asset),
            ledger.conveyance_loss_account(asset),
        ]
        + [
            make(owner, a)
            for owner in owners
            for a in (asset, cash_asset)
            for make in (ledger.league_account, ledger.escrow_account)
        ],
    )
    remaining = ledger.lock_holds(session, set(holds))
    totals = _Totals()
    specs: list[JournalSpec] = []
    for fill in fills:
        if fill.hold_id not in holds:
            raise HoldNotFound(fill.hold_id)
        owner, hold_asset, _r = holds[fill.hold_id]
        legs, draw = _fill_legs(fill, owner, hold_asset, asset, cash_asset, totals)
        left = remaining[fill.hold_id] - draw
        if left < 0:
            raise HoldExceeded(fill.hold_id, remaining[fill.hold_id], draw)
        if fill.release_rest and left:
            legs += [
                PostingSpec(ledger.escrow_account(owner, hold_asset), -left, fill.hold_id),
                PostingSpec(ledger.league_account(owner, hold_asset), left),
            ]
            left = 0
        remaining[fill.hold_id] = left
        specs.append(
            JournalSpec(
                ledger.JournalKind.TRADE_SETTLEMENT,
                _join_reference(reference, fill.reference),
                actor,
                _merge(legs),
                chain=asset,
            )
        )
    specs += _congestion_rent(totals, lost, asset, cash_asset, reference, actor)
    return specs, totals


def _fill_legs(
    fill: Fill, owner: str, hold_asset: str, asset: str, cash_asset: str, totals: _Totals
) -> tuple[list[PostingSpec], int]:
    """The legs of one fill and how much it draws from its hold."""
    clearing_rights = ledger.clearing_account(asset)
    clearing_cash = ledger.clearing_account(cash_asset)
    q, p = fill.quantity, fill.price
    if type(q) is not int or q <= 0 or type(p) is not int or p < 0:
        raise InvalidPosting(f"{fill.reference}: quantity > 0 and price >= 0 (integers)")
    if hold_asset == asset:  # sell
        legs = [
            PostingSpec(ledger.escrow_account(owner, asset), -q, fill.hold_id),
            PostingSpec(clearing_rights, q),
        ]
        if p:
            legs += [
                PostingSpec(clearing_cash, -p * q),
                PostingSpec(ledger.league_account(owner, cash_asset), p * q),
            ]
        totals.volume_in += q
        totals.received += p * q
        return legs, q
    if hold_asset == cash_asset:  # buy
        if fill.limit is None or type(fill.limit) is not int or fill.limit < p:
            raise InvalidPosting(f"{fill.reference}: a buy fill needs limit >= price")
        draw = fill.limit * q
        legs = [
            PostingSpec(clearing_rights, -q),
            PostingSpec(ledger.league_account(owner, asset), q),
            PostingSpec(ledger.escrow_account(owner, cash_asset), -draw, fill.hold_id),
        ]
        if p:
            legs.append(PostingSpec(clearing_cash, p * q))
        if draw - p * q:  # the buyer refund
            legs.append(PostingSpec(ledger.league_account(owner, cash_asset), draw - p * q))
        totals.volume_out += q
        totals.paid += p * q
        return legs, draw
    raise InvalidPosting(f"hold {fill.hold_id} is on {hold_asset}, not {asset}")


def _congestion_rent(
    totals: _Totals, lost: int, asset: str, cash_asset: str, reference: str, actor: str
) -> list[JournalSpec]:
    """Check the run balances and leave the clearing accounts flat: the cash left on them
    is congestion rent; the rights lost on links with a conveyance loss (sold but not
    arrived) go to the market's conveyance-loss account.

    On a lossy link the exchange's take can be short by up to one lot's value (arrivals are
    rounded down to whole lots; docs/matching.md): that shortfall is paid from the market's
    congestion rent account, and a run whose rent account cannot pay it fails.
    """
    if totals.volume_in - totals.volume_out != lost:
        raise InvalidPosting(
            f"run sells {totals.volume_in} but buys {totals.volume_out}"
            + (f" with {lost} lost on the way" if lost else "")
        )
    rent = totals.paid - totals.received
    if rent < 0 and not lost:
        raise InvalidPosting(f"sellers get {totals.received} but buyers pay only {totals.paid}")
    clearing_cash = ledger.clearing_account(cash_asset)
    congestion = ledger.congestion_account(asset, cash_asset)
    legs: list[PostingSpec] = []
    if lost:
        legs += [
            PostingSpec(ledger.clearing_account(asset), -lost),
            PostingSpec(ledger.conveyance_loss_account(asset), lost),
        ]
    if rent:
        legs += [PostingSpec(clearing_cash, -rent), PostingSpec(congestion, rent)]
    if not legs:
        return []
    return [
        JournalSpec(
            ledger.JournalKind.TRADE_SETTLEMENT,
            _join_reference(reference, "congestion"),
            actor,
            tuple(legs),
            chain=asset,
        )
    ]


def _merge(legs: list[PostingSpec]) -> tuple[PostingSpec, ...]:
    """Add up legs on the same (account, hold); drop those that net to zero."""
    totals: dict[tuple[AccountKey, int | None], int] = defaultdict(int)
    for leg in legs:
        totals[(leg.account, leg.hold_id)] += leg.amount
    return tuple(PostingSpec(k, a, h) for (k, h), a in totals.items() if a)


def _join_reference(run: str, item: str) -> str:
    return f"{run}/{item}"[:128]
