"""The demo's book: allocations of every market to its leagues, and cash for each league."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

import ledger
from exchange.models import League, Market
from exchange.services.ledger_ops import Allocation, allocate_many

# Synthetic weights (no public per-league split is used): the Yellow River quota
# follows the rough order of irrigated area and industry along the river, Hetao
# (Bayannur) first; every other market splits evenly between its eligible leagues.
DEMO_WEIGHTS: dict[str, dict[str, int]] = {
    "YR-WATER-2027": {
        "bayannur": 40, "ordos": 20, "baotou": 12, "hohhot": 10, "wuhai": 6, "alxa": 6,
        "ulanqab": 6,
    },
}  # fmt: skip
DEMO_SHARE_OF_CAP = {"YR-WATER-2027": (1, 1)}  # the whole 5.86e9 m3; others 4/5 of the cap
DEMO_CASH_FEN = 5_000_000_000  # 50 million yuan per league (synthetic)


def split_lots(total: int, lot: int, weights: dict[str, int]) -> dict[str, int]:
    """Split ``total`` (a multiple of ``lot``) by weight in whole lots, largest remainder.

    The parts add up to ``total`` exactly; ties go to the league code first in order.
    """
    lots, weight_sum = total // lot, sum(weights.values())
    base = {k: lots * w // weight_sum for k, w in weights.items()}
    rest = lots - sum(base.values())
    by_remainder = sorted(weights, key=lambda k: (-(lots * weights[k] % weight_sum), k))
    for code in by_remainder[:rest]:
        base[code] += 1
    return {k: v * lot for k, v in base.items() if v}


def seed_demo_ledger(session: Session) -> str | None:
    """Allocate each demo market to its eligible leagues and give each league cash.

    Runs once (when the ledger is empty); returns what was done, for the CLI.
    """
    from ledger.models import Journal

    if session.scalar(select(Journal.id).limit(1)) is not None:
        return None
    markets = list(session.scalars(select(Market).order_by(Market.id)))
    if not markets:
        return None
    allocations: list[Allocation] = []
    for market in markets:
        eligible = [e.league_code for e in market.eligibility]
        weights = DEMO_WEIGHTS.get(market.code) or dict.fromkeys(eligible, 1)
        weights = {k: w for k, w in weights.items() if k in eligible}
        num, den = DEMO_SHARE_OF_CAP.get(market.code, (4, 5))
        total = market.cap * num // den // market.lot * market.lot
        for league, quantity in sorted(split_lots(total, market.lot, weights).items()):
            allocations.append(
                Allocation(league, market.code, quantity, f"allocation:demo:{market.code}")
            )
    allocate_many(session, allocations, actor="demo", system=True)
    leagues = list(session.scalars(select(League.code).order_by(League.code)))
    for league in leagues:
        ledger.deposit_cash(
            session, league=league, amount=DEMO_CASH_FEN, reference="deposit:demo", actor="demo"
        )
    return (
        f"ledger: {len(allocations)} allocations in {len(markets)} markets, "
        f"{DEMO_CASH_FEN // 100:,} yuan to each of {len(leagues)} leagues"
    )
