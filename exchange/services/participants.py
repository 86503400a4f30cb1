"""Participants beyond the leagues: the regional water-rights reserve and other provinces.

- the reserve (收储, kind ``reserve``) is operated by the regulator: a regulator user
  proposes, accepts, rejects and withdraws transfers for it (:func:`acts_for`);
- participants of neighbouring provinces (kind ``external``, e.g. Ningxia's Ningdong
  base) are registered by the regulator and may be a party to transfers of the
  markets they are made eligible for; the region's total of a market (its cap, e.g.
  the Yellow River's 5.86 billion m3 a year) is never exceeded by what they sell into
  the region (:func:`check_region_total`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

import ledger
from exchange.errors import Conflict, InvalidInput
from exchange.identity.actor import Actor
from exchange.models import (
    Basin,
    League,
    Market,
    MarketLeague,
    ParticipantKind,
    Region,
    Rights,
    Role,
)
from exchange.models.trading import Trade
from exchange.services import families

CODE_CHARS = set("abcdefghijklmnopqrstuvwxyz0123456789_-")
REGION_TOTALS = {"water:yellow": 5_860_000_000}
"""The region's yearly total per family: the Yellow River allocation to Inner Mongolia under
the 1987 State Council scheme, 5.86 billion m3 (FACTS.md). A market shared with other
provinces may have a larger cap; the region's own holdings never pass this."""


@dataclass(frozen=True)
class RegisterParticipant:
    """Register the reserve or another province's participant, eligible in some markets."""

    code: str
    name_zh: str
    name_en: str
    kind: ParticipantKind
    region: Region = Region.WEST
    province: str | None = None
    basins: tuple[str, ...] = ()
    market_families: tuple[str, ...] = field(default_factory=tuple)


def register_participant(session: Session, command: RegisterParticipant) -> League:
    """Add a participant and make it eligible in every market of the given families."""
    code = command.code
    if not 1 <= len(code) <= 32 or not set(code) <= CODE_CHARS:
        raise InvalidInput("code: 1-32 lower-case letters, digits, _ or -", field="code")
    if session.get(League, code) is not None:
        raise Conflict(f"participant {code!r} exists", field="code")
    if command.kind is ParticipantKind.LEAGUE:
        raise InvalidInput("leagues are registered with the registry", field="kind")
    if command.kind is ParticipantKind.EXTERNAL and not command.province:
        raise InvalidInput("a participant of another province names it", field="province")
    basins = [session.get(Basin, b) for b in command.basins]
    if any(b is None for b in basins):
        raise InvalidInput("unknown basin", field="basins")
    participant = League(
        code=code,
        name_zh=command.name_zh,
        name_en=command.name_en,
        region=command.region,
        kind=command.kind.value,
        province=command.province,
        basins=[b for b in basins if b is not None],
    )
    session.add(participant)
    session.flush()
    for family in command.market_families:
        for market in families.family_markets(session, family):
            session.add(MarketLeague(market_id=market.id, league_code=code, zone=code))
    session.flush()
    return participant


def kind_of(session: Session, code: str) -> ParticipantKind:
    """The kind of a participant (a league if unknown)."""
    participant = session.get(League, code)
    return ParticipantKind(participant.kind) if participant else ParticipantKind.LEAGUE


INITIATING_RIGHTS = frozenset({Rights.INITIATE.value, Rights.INITIATE_AND_APPROVE.value})
APPROVING_RIGHTS = frozenset({Rights.APPROVE.value, Rights.INITIATE_AND_APPROVE.value})
SURRENDERING_RIGHTS = INITIATING_RIGHTS | {Rights.SURRENDER_ONLY.value}


def represents(actor: Actor, party: str, rights: frozenset[str]) -> bool:
    """Whether ``actor`` is a representative of ``party`` holding one of ``rights``."""
    return (
        actor.role is Role.REPRESENTATIVE and actor.participant == party and actor.rights in rights
    )


def acts_for(session: Session, actor: Actor, party: str) -> bool:
    """Whether ``actor`` may initiate for ``party`` (the one rule of who acts for whom):
    its own league's user; a representative of an enterprise with a right to initiate
    (``initiate`` alone still needs a second representative, see
    ``exchange.services.instructions``); a regulator for the reserve."""
    if actor.role is Role.LEAGUE:
        return actor.league_code == party
    if actor.role is Role.REPRESENTATIVE:
        return represents(actor, party, INITIATING_RIGHTS)
    if actor.role is Role.REGULATOR:
        return kind_of(session, party) is ParticipantKind.RESERVE
    return False


def parties_of(session: Session, actor: Actor, candidates: Sequence[str]) -> list[str]:
    """The candidates ``actor`` acts for."""
    return [p for p in candidates if acts_for(session, actor, p)]


def region_total(session: Session, market: Market) -> int:
    """What the region holds of a market: everything issued but other provinces' holdings."""
    asset = ledger.market_asset(market.id)
    total = ledger.issued_total(session, asset)
    externals = session.scalars(
        select(League.code).where(League.kind == ParticipantKind.EXTERNAL.value)
    ).all()
    for code in externals:
        total -= ledger.balance_of(session, ledger.league_account(code, asset))
        total -= ledger.balance_of(session, ledger.escrow_account(code, asset))
    return total


def check_region_total(
    session: Session, market: Market, seller: str, buyer: str, quantity: int
) -> None:
    """An import (another province sells into the region) keeps the region within the
    market's cap (the Yellow River's 5.86 billion m3 a year); exports always may."""
    importing = kind_of(session, seller) is ParticipantKind.EXTERNAL
    if not importing or kind_of(session, buyer) is ParticipantKind.EXTERNAL:
        return
    limit = min(market.cap, REGION_TOTALS.get(families.family_of(market), market.cap))
    held = region_total(session, market)
    if held + quantity > limit:
        raise Conflict(
            f"importing {quantity} into {market.code} would bring the region to "
            f"{held + quantity}, above its total {limit}",
            field="quantity_per_year",
            code="region_total_exceeded",
            details={"region_total": held, "limit": limit, "requested": quantity},
        )


def cross_border(session: Session) -> list[dict[str, Any]]:
    """Per market of a family with a regional total (the Yellow River's water): what the
    region holds against that total, and the volumes delivered into it from other
    provinces (imports) and out of it (exports), for the public report."""
    externals = set(
        session.scalars(select(League.code).where(League.kind == ParticipantKind.EXTERNAL.value))
    )
    report = []
    for family, total in sorted(REGION_TOTALS.items()):
        for market in families.family_markets(session, family):
            trades = session.execute(
                select(Trade.seller, Trade.buyer, Trade.quantity).where(
                    Trade.market_id == market.id
                )
            ).all()
            report.append(
                {
                    "market": market.code,
                    "vintage": market.vintage,
                    "limit": min(market.cap, total),
                    "held": region_total(session, market),
                    "imported": sum(
                        q for s, b, q in trades if s in externals and b not in externals
                    ),
                    "exported": sum(
                        q for s, b, q in trades if b in externals and s not in externals
                    ),
                }
            )
    return report
