"""Builders for transfer tests: Yellow River vintage markets, allocations, cash, actors."""

from __future__ import annotations

from datetime import date

from sqlalchemy.orm import Session

import ledger
from exchange.identity.actor import Actor
from exchange.models import Market, Payment, RightType, Role
from exchange.services import registry, transfer_delivery, transfers
from exchange.services.commands import Allocation, CreateMarket, Deposit, EligibleLeague
from exchange.services.families import vintage_market
from exchange.services.ledger_ops import allocate, deposit
from exchange.uow import unit_of_work

FAMILY = "water:yellow"
YELLOW = ("alxa", "wuhai", "bayannur", "baotou", "ordos", "hohhot", "ulanqab")
REG_A = Actor("reg-a", Role.REGULATOR, user_id=9001)
REG_B = Actor("reg-b", Role.REGULATOR, user_id=9002)


def league(code: str) -> Actor:
    """A league user acting for ``code``."""
    return Actor(f"user-{code}", Role.LEAGUE, league_code=code, user_id=hash(code) % 10_000)


def year_market(session: Session, year: int) -> Market:
    """The Yellow River water market of ``year`` (registered if missing)."""
    found = vintage_market(session, FAMILY, year)
    if found is not None:
        return found
    with unit_of_work(session):
        return registry.create_market(
            session,
            CreateMarket(
                code=f"YR-WATER-{year}",
                name_zh=f"黄河水权（用水权）{year}年度",
                name_en=f"Yellow River water-use rights, {year}",
                right_type=RightType.WATER,
                basin="yellow",
                vintage=str(year),
                unit="m3",
                lot=1_000,
                tick=1,
                price_floor=1,
                cap=10**10,
                clearing_schedule="0 10 * * 1",
                eligible_leagues=tuple(EligibleLeague(code) for code in YELLOW),
            ),
        )


def allocate_water(session: Session, league_code: str, year: int, quantity: int) -> None:
    """The regulator allocates ``quantity`` m3 of ``year`` to a league (one unit of work)."""
    market = year_market(session, year)
    with unit_of_work(session):
        allocate(session, Allocation(league_code, market.code, quantity), actor="reg-a")


def fund_cash(session: Session, league_code: str, fen: int) -> None:
    with unit_of_work(session):
        deposit(session, Deposit(league_code, fen), actor="reg-a")


def available(session: Session, league_code: str, asset: str) -> int:
    return ledger.balance_of(session, ledger.league_account(league_code, asset))


def water(session: Session, league_code: str, year: int) -> int:
    return available(session, league_code, ledger.market_asset(year_market(session, year).id))


def propose(
    session: Session,
    *,
    seller: str = "bayannur",
    buyer: str = "ordos",
    by: str = "ordos",
    quantity: int = 100_000,
    first: int = 2027,
    last: int = 2031,
    price: int = 103,
    payment: Payment = Payment.YEARLY,
    ref: str = "t-1",
) -> int:
    with unit_of_work(session):
        transfer, _created = transfers.propose(
            session,
            transfers.ProposeTransfer(
                FAMILY, seller, buyer, quantity, first, last, price, payment, ref
            ),
            league(by),
        )
        return transfer.id


def act(session: Session, action: str, transfer_id: int, actor: Actor, reason: str | None = None):  # type: ignore[no-untyped-def]
    with unit_of_work(session):
        return getattr(transfers, action)(
            session, transfers.TransferAction(transfer_id, reason), actor
        ).status.value


def roll(session: Session, on: str) -> transfer_delivery.RollResult:
    with unit_of_work(session):
        return transfer_delivery.roll(session, date.fromisoformat(on), "test")


def matrix_transfers(session: Session) -> dict[str, int]:
    """Transfers of ordos (the matrix's own league) as buyer, one per state an action needs."""
    year_market(session, 2028)
    ids = {
        "transfer_in": propose(session, by="bayannur", first=2027, last=2028, ref="m-in"),
        "transfer_out": propose(session, first=2027, last=2028, ref="m-out"),
    }
    for name in ("accepted", "reviewed", "active"):
        tid = propose(session, first=2027, last=2028, quantity=1_000, ref=f"m-{name}")
        act(session, "accept", tid, league("bayannur"))
        if name != "accepted":
            act(session, "review", tid, Actor("matrix-reviewer", Role.REGULATOR))
        if name == "active":
            act(session, "approve", tid, Actor("matrix-approver", Role.REGULATOR))
        ids[f"transfer_{name}"] = tid
    return ids
