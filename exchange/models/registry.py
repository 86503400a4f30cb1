"""The registry: leagues, basins, markets, eligibility and transfer limits."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Enum,
    ForeignKey,
    Integer,
    String,
    UniqueConstraint,
    false,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from exchange.models.base import Base, UTCDateTime, string_enum, utcnow


class Region(enum.StrEnum):
    """The three groups of leagues named in the regional-coordination policy."""

    EAST = "east"
    CENTRAL = "central"
    WEST = "west"


class RightType(enum.StrEnum):
    """Kinds of environmental rights traded on the exchange."""

    WATER = "water"
    POLLUTANT = "pollutant"
    CARBON = "carbon"
    ENERGY = "energy"


class Pollutant(enum.StrEnum):
    """Sub-types of pollutant-discharge rights."""

    COD = "COD"
    NH3N = "NH3-N"
    SO2 = "SO2"
    NOX = "NOx"


class MarketStatus(enum.StrEnum):
    """Whether a market accepts orders."""

    OPEN = "open"
    HALTED = "halted"
    CLOSED = "closed"


# Units a market may trade in, per right type.
UNITS: dict[RightType, tuple[str, ...]] = {
    RightType.WATER: ("m3",),
    RightType.POLLUTANT: ("t", "kg"),
    RightType.CARBON: ("tCO2e",),
    RightType.ENERGY: ("tce",),
}


def _enum(cls: type[enum.Enum], name: str) -> Enum:
    return string_enum(cls, name, 16)


class Basin(Base):
    """A river basin (Yellow River, Nen River, ...)."""

    __tablename__ = "basins"

    code: Mapped[str] = mapped_column(String(32), primary_key=True)
    name_zh: Mapped[str] = mapped_column(String(64))
    name_en: Mapped[str] = mapped_column(String(128))


class LeagueBasin(Base):
    """A league lies (partly) in a basin."""

    __tablename__ = "league_basins"

    league_code: Mapped[str] = mapped_column(
        ForeignKey("leagues.code", ondelete="CASCADE"), primary_key=True
    )
    basin_code: Mapped[str] = mapped_column(ForeignKey("basins.code"), primary_key=True)


class ParticipantKind(enum.StrEnum):
    """What kind of participant a ``leagues`` row is."""

    LEAGUE = "league"
    """One of the 12 league-level divisions; its own users act for it."""
    RESERVE = "reserve"
    """The regional water-rights reserve (收储); the regulator acts for it."""
    EXTERNAL = "external"
    """A participant of a neighbouring province (e.g. Ningxia's Ningdong base)."""
    ENTERPRISE = "enterprise"
    """An enterprise below one league (``parent_code``); its representatives act for it."""


class ParticipantState(enum.StrEnum):
    """The state of a participant's accounts (the UK ETS registry's account states)."""

    PENDING = "pending"
    """Requested, not yet approved by a second official: holds nothing, trades nothing."""
    OPEN = "open"
    RESTRICTED = "restricted"
    """Surrender only."""
    SUSPENDED = "suspended"
    """Nothing moves."""
    CLOSURE_PENDING = "closure_pending"
    """Closing: nothing new, no incoming rights; closed once balances are zero."""
    CLOSED = "closed"
    REJECTED = "rejected"
    """The opening request was refused."""


class League(Base):
    """A participant of the exchange: a league-level division (盟市), the regional
    water-rights reserve, or a participant of a neighbouring province (``kind``)."""

    __tablename__ = "leagues"

    code: Mapped[str] = mapped_column(String(32), primary_key=True)
    name_zh: Mapped[str] = mapped_column(String(64))
    name_en: Mapped[str] = mapped_column(String(128))
    region: Mapped[Region] = mapped_column(_enum(Region, "region"))
    kind: Mapped[str] = mapped_column(
        String(16), default=ParticipantKind.LEAGUE.value, server_default="league"
    )
    province: Mapped[str | None] = mapped_column(String(64))
    """Another province's participants: its name (e.g. ``Ningxia``); else None."""
    parent_code: Mapped[str | None] = mapped_column(ForeignKey("leagues.code"), index=True)
    """An enterprise's league (the local authority above it); else None."""
    sector: Mapped[str | None] = mapped_column(String(32))
    credit_code: Mapped[str | None] = mapped_column(String(18), index=True, unique=True)
    """An enterprise's unified social credit code (统一社会信用代码)."""
    status: Mapped[str] = mapped_column(
        String(16), default=ParticipantState.OPEN.value, server_default="open"
    )
    """The accounts' state (:class:`ParticipantState`)."""
    status_reason: Mapped[str | None] = mapped_column(String(500))
    """Why the state was last changed (the change itself is in the action log)."""
    synthetic: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    """Invented for the demo (not a real enterprise)."""
    basins: Mapped[list[Basin]] = relationship(
        secondary="league_basins", order_by="Basin.code", lazy="selectin"
    )

    @property
    def basin_codes(self) -> list[str]:
        """Codes of the basins the league lies in."""
        return [b.code for b in self.basins]


DEFAULT_MECHANISM = "call_auction"
"""The mechanism of markets that name none (every market before mechanisms existed)."""


class Market(Base):
    """One tradable instrument: a right type (and pollutant), a zone scope and a vintage."""

    __tablename__ = "markets"
    __table_args__ = (
        CheckConstraint("lot > 0", name="lot_positive"),
        CheckConstraint("tick > 0", name="tick_positive"),
        CheckConstraint("price_floor >= 0", name="floor_non_negative"),
        CheckConstraint(
            "price_ceiling IS NULL OR price_ceiling >= price_floor", name="ceiling_above_floor"
        ),
        CheckConstraint("cap > 0", name="cap_positive"),
        CheckConstraint(
            "(right_type = 'pollutant') = (pollutant IS NOT NULL)", name="pollutant_iff_type"
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    name_zh: Mapped[str] = mapped_column(String(128))
    name_en: Mapped[str] = mapped_column(String(200))
    right_type: Mapped[RightType] = mapped_column(_enum(RightType, "right_type"))
    pollutant: Mapped[Pollutant | None] = mapped_column(_enum(Pollutant, "pollutant"))
    basin_code: Mapped[str | None] = mapped_column(ForeignKey("basins.code"))
    vintage: Mapped[str] = mapped_column(String(32))
    unit: Mapped[str] = mapped_column(String(16))
    lot: Mapped[int] = mapped_column(BigInteger)
    tick: Mapped[int] = mapped_column(BigInteger)
    price_floor: Mapped[int] = mapped_column(BigInteger)
    price_ceiling: Mapped[int | None] = mapped_column(BigInteger)
    cap: Mapped[int] = mapped_column(BigInteger)
    clearing_schedule: Mapped[str] = mapped_column(String(120))
    mechanism: Mapped[str] = mapped_column(
        String(32), default=DEFAULT_MECHANISM, server_default=DEFAULT_MECHANISM
    )
    """How the market trades: a name registered in ``exchange.mechanisms``."""
    status: Mapped[MarketStatus] = mapped_column(
        _enum(MarketStatus, "market_status"), default=MarketStatus.OPEN
    )
    description: Mapped[str] = mapped_column(String(2000), default="")
    description_zh: Mapped[str] = mapped_column(String(2000), default="", server_default="")
    band_percent: Mapped[int | None] = mapped_column(Integer)
    """Continuous trading: limit prices within this % of the previous close (None: no band)."""
    session_calendar: Mapped[str | None] = mapped_column(String(32))
    """Continuous trading: when the book is open (``cn_workdays`` or ``always``)."""
    reference_price: Mapped[int | None] = mapped_column(BigInteger)
    """Continuous trading: the band's reference until the market has a close (fen); call
    auctions: the reference of ``min_price_percent`` (else the last run's price)."""
    min_cover_percent: Mapped[int | None] = mapped_column(Integer)
    """Call auction: cancel a run whose bids cover less than this % of the offered volume."""
    min_price_percent: Mapped[int | None] = mapped_column(Integer)
    """Call auction: cancel a run clearing below this % of the reference price."""
    ccr_trigger_price: Mapped[int | None] = mapped_column(BigInteger)
    """Cost containment reserve: the reserve offers ``ccr_quantity`` at this price (fen),
    released only when the price would exceed it."""
    ccr_quantity: Mapped[int | None] = mapped_column(BigInteger)
    ecr_trigger_price: Mapped[int | None] = mapped_column(BigInteger)
    """Emissions containment reserve: the reserve bids for ``ecr_quantity`` at this price,
    only when the price would fall below it; what it buys is withheld (retired)."""
    ecr_quantity: Mapped[int | None] = mapped_column(BigInteger)
    reserve_code: Mapped[str | None] = mapped_column(String(32))
    """The participant (kind ``reserve``) whose account the CCR sells from and the ECR buys
    into (checked by the service; no foreign key, which SQLite cannot add to a table)."""
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    eligibility: Mapped[list[MarketLeague]] = relationship(
        back_populates="market",
        cascade="all, delete-orphan",
        order_by="MarketLeague.league_code",
        lazy="selectin",
    )
    links: Mapped[list[TransferLimit]] = relationship(
        back_populates="market",
        cascade="all, delete-orphan",
        order_by="(TransferLimit.from_zone, TransferLimit.to_zone)",
        lazy="selectin",
    )

    @property
    def zone_scope(self) -> str:
        """``basin:<code>`` for a basin market, else ``region`` (all of Inner Mongolia)."""
        return f"basin:{self.basin_code}" if self.basin_code else "region"

    @property
    def zonal(self) -> bool:
        """True where transfers between zones are limited (zonal clearing)."""
        return bool(self.links)


class MarketLeague(Base):
    """A league may trade in a market, in a zone (by default the league itself)."""

    __tablename__ = "market_leagues"

    market_id: Mapped[int] = mapped_column(
        ForeignKey("markets.id", ondelete="CASCADE"), primary_key=True
    )
    league_code: Mapped[str] = mapped_column(ForeignKey("leagues.code"), primary_key=True)
    zone: Mapped[str] = mapped_column(String(32))

    market: Mapped[Market] = relationship(back_populates="eligibility")


class TransferLimit(Base):
    """A directed link between two zones of a market with a capacity per clearing run."""

    __tablename__ = "transfer_limits"
    __table_args__ = (
        UniqueConstraint("market_id", "from_zone", "to_zone", name="uq_transfer_limits_link"),
        CheckConstraint("capacity IS NULL OR capacity >= 0", name="capacity_non_negative"),
        CheckConstraint("from_zone <> to_zone", name="distinct_zones"),
        CheckConstraint("loss_permille >= 0 AND loss_permille < 1000", name="loss_range"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    market_id: Mapped[int] = mapped_column(ForeignKey("markets.id", ondelete="CASCADE"))
    from_zone: Mapped[str] = mapped_column(String(32))
    to_zone: Mapped[str] = mapped_column(String(32))
    capacity: Mapped[int | None] = mapped_column(BigInteger)
    loss_permille: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    """Conveyance loss on this link, per mille of what is sent (water)."""

    market: Mapped[Market] = relationship(back_populates="links")
