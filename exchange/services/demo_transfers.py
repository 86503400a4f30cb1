"""The demo's negotiated transfers of Yellow River water, one in each stage of their life.

Figures after the region's practice (FACTS.md, Water): the Hetao irrigation district's
saved water sold to industry at about 1.03 yuan per m3 per year, idle quota moved between
leagues. Years after 2027 have no market yet: they are delivered when allocated.
"""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from exchange.identity.actor import Actor
from exchange.models import Basin, League, Market, Payment, RightType, Role, Transfer
from exchange.services import families, registry, transfers
from exchange.services.commands import Allocation, CreateMarket, EligibleLeague
from exchange.services.ledger_ops import allocate_many

FAMILY = "water:yellow"
REVIEWER = Actor("demo-reviewer", Role.REGULATOR)
APPROVER = Actor("demo-approver", Role.REGULATOR)

# (seller, buyer, proposer, m3 per year, first, last, fen per m3 per year, payment, stage)
DEMO_TRANSFERS = (
    ("bayannur", "ordos", "ordos", 5_000_000, 2027, 2031, 103, Payment.YEARLY, "active"),
    ("alxa", "wuhai", "wuhai", 1_000_000, 2027, 2029, 95, Payment.UPFRONT, "reviewed"),
    ("bayannur", "baotou", "baotou", 2_000_000, 2027, 2029, 100, Payment.YEARLY, "accepted"),
    ("baotou", "hohhot", "baotou", 500_000, 2027, 2028, 110, Payment.YEARLY, "proposed"),
    ("ordos", "alxa", "ordos", 300_000, 2027, 2027, 90, Payment.YEARLY, "withdrawn"),
    ("wuhai", "ordos", "ordos", 400_000, 2027, 2028, 60, Payment.YEARLY, "rejected"),
)
STAGES = ("proposed", "accepted", "reviewed", "active")


# 引绰济辽 (Chuo River to West Liao River) diversion: multi-year average 436 million m3 a
# year, 149 to Hinggan League and 287 to Tongliao (FACTS.md, Water). Its own family.
DIVERSION_BASIN = {"code": "yinchuo", "name_zh": "引绰济辽", "name_en": "Chuo-to-Liao diversion"}
DIVERSION_ALLOCATIONS = {"hinggan": 149_000_000, "tongliao": 287_000_000}
DIVERSION_MARKET = CreateMarket(
    code="YCJL-WATER-2027",
    name_zh="引绰济辽调水水权 2027年度",
    name_en="Chuo-to-Liao diversion water, 2027",
    right_type=RightType.WATER,
    basin="yinchuo",
    vintage="2027",
    unit="m3",
    lot=1_000,
    tick=1,
    price_floor=40,
    price_ceiling=500,
    cap=436_000_000,
    clearing_schedule="2-59/5 * * * *",
    description="Water of the Chuo-to-Liao diversion: 149 million m3 a year to Hinggan, "
    "287 million to Tongliao; traded between them by transfer and by auction.",
    description_zh="引绰济辽工程调水：兴安盟每年1.49亿立方米，通辽市2.87亿立方米；"
    "两地之间可协议转让或竞价交易。",
    eligible_leagues=(EligibleLeague("hinggan"), EligibleLeague("tongliao")),
)


def seed_demo_diversion(session: Session) -> str | None:
    """The diversion's family, its 2027 market and allocations, and one transfer (idempotent)."""
    if session.get(Basin, DIVERSION_BASIN["code"]) is not None:
        return None
    if any(session.get(League, code) is None for code in DIVERSION_ALLOCATIONS):
        return None
    session.add(Basin(**DIVERSION_BASIN))
    session.flush()
    market: Market = registry.create_market(session, DIVERSION_MARKET)
    allocate_many(
        session,
        [Allocation(code, market.code, q) for code, q in DIVERSION_ALLOCATIONS.items()],
        actor="demo",
        system=True,
    )
    transfer, _created = transfers.propose(
        session,
        transfers.ProposeTransfer(
            "water:yinchuo",
            "hinggan",
            "tongliao",
            10_000_000,
            2027,
            2029,
            90,
            Payment.YEARLY,
            "demo-diversion",
        ),
        _league_actor("tongliao"),
    )
    action = transfers.TransferAction(transfer.id)
    transfers.accept(session, action, _league_actor("hinggan"))
    transfers.review(session, action, REVIEWER)
    transfers.approve(session, action, APPROVER)
    return "diversion: 引绰济辽 water family, 2027 allocations to Hinggan and Tongliao, a transfer"


def _league_actor(code: str) -> Actor:
    return Actor(f"demo-{code}", Role.LEAGUE, league_code=code)


def seed_demo_transfers(session: Session) -> str | None:
    """Add the demo transfers unless some transfer exists (or there is no Yellow River market)."""
    if session.scalar(select(func.count()).select_from(Transfer)):
        return None
    if families.vintage_market(session, FAMILY, 2027) is None:
        return None
    for index, row in enumerate(DEMO_TRANSFERS):
        seller, buyer, proposer, quantity, first, last, price, payment, stage = row
        transfer, _created = transfers.propose(
            session,
            transfers.ProposeTransfer(
                FAMILY, seller, buyer, quantity, first, last, price, payment, f"demo-{index + 1}"
            ),
            _league_actor(proposer),
        )
        counterparty = _league_actor(transfer.counterparty)
        action = transfers.TransferAction(transfer.id)
        if stage == "withdrawn":
            transfers.withdraw(session, action, _league_actor(proposer))
            continue
        if stage == "rejected":
            transfers.accept(session, action, counterparty)
            reason = transfers.TransferAction(transfer.id, "price far below the reference")
            transfers.reject(session, reason, REVIEWER)
            continue
        reached = STAGES.index(stage)
        if reached >= 1:
            transfers.accept(session, action, counterparty)
        if reached >= 2:
            transfers.review(session, action, REVIEWER)
        if reached >= 3:
            transfers.approve(session, action, APPROVER)
    return f"transfers: {len(DEMO_TRANSFERS)} Yellow River water transfers in various states"
