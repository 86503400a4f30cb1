"""Demo stability rules: the carbon call auction CEA-2026 with the EU's cancellation rules and
RGGI-style reserves, and the region's reserve participant holding what the reserves need.

Sources (``shared/FACTS.md``, "Auction rules worth knowing"): EU ETS auctions are cancelled
when the bids fall short of the volume offered (cover 100 %) or the price is well below the
secondary market; RGGI releases a cost containment reserve above a trigger price and withholds
an emissions containment reserve below one. The reference is the national carbon market's
2024 close, 97.49 yuan/tCO2e (MEE annual report, as in ``exchange.data.demo_registry``).
Synthetic (FACTS gives the rules, not these figures): the price share (60 %), the triggers
(130 and 60 yuan, about a third above and 40 % below the reference) and the reserve sizes.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

import ledger
from exchange.mechanisms.call_auction import stability
from exchange.models import League, Market, ParticipantKind
from exchange.services.participants import RegisterParticipant, register_participant

RESERVE = "region_reserve"
MARKET = "CEA-2026"
RULES = {
    "min_cover_percent": 100,  # EU ETS: cancelled when bids fall short of the volume offered
    "min_price_percent": 60,  # "well below the secondary market" (share synthetic)
    "reference_price": 9_749,  # 97.49 yuan, national close 2024
    "ccr_trigger_price": 13_000,  # synthetic
    "ccr_quantity": 1_000_000,  # synthetic: 1 Mt
    "ecr_trigger_price": 6_000,  # synthetic
    "ecr_quantity": 1_000_000,  # synthetic: 1 Mt
}


def seed_demo_stability(session: Session) -> str | None:
    """Register the reserve (once), fund it for the CCR and ECR, and turn the rules on."""
    market = session.scalar(select(Market).where(Market.code == MARKET))
    if market is None or market.reserve_code is not None:
        return None
    reserve = session.scalar(
        select(League.code)
        .where(League.kind == ParticipantKind.RESERVE.value)
        .order_by(League.code)
    )
    if reserve is None:
        reserve = register_participant(
            session,
            RegisterParticipant(RESERVE, "自治区储备", "Regional reserve", ParticipantKind.RESERVE),
        ).code
    asset = ledger.market_asset(market.id)
    units, cash = RULES["ccr_quantity"], RULES["ecr_quantity"] * RULES["ecr_trigger_price"]
    ref = f"allocation:demo:{MARKET}:ccr"
    ledger.issue(session, league=reserve, asset=asset, amount=units, reference=ref,
                 actor="demo", cap=market.cap)  # fmt: skip
    ledger.deposit_cash(session, league=reserve, amount=cash, reference="deposit:demo:ecr",
                        actor="demo")  # fmt: skip
    stability.set_settings(session, market, {**RULES, "reserve_code": reserve})
    return (
        f"stability: {MARKET} cancels below 100 % cover or 60 % of 97.49 yuan; reserve "
        f"{reserve} holds 1 Mt for the CCR (130 yuan) and cash for the ECR (60 yuan)"
    )
