"""Negotiated term transfers (协议转让) and their yearly deliveries; four-eyes approvals."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Enum,
    ForeignKey,
    Index,
    Integer,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from exchange.models.base import Base, UTCDateTime, string_enum, utcnow


class TransferStatus(enum.StrEnum):
    """Life of a transfer: negotiation, four-eyes approval, yearly delivery."""

    PROPOSED = "proposed"
    ACCEPTED = "accepted"
    REVIEWED = "reviewed"
    ACTIVE = "active"
    COMPLETED = "completed"
    REJECTED = "rejected"
    WITHDRAWN = "withdrawn"
    DEFAULTED = "defaulted"


class Payment(enum.StrEnum):
    """How the buyer pays: all with the first delivery, or each year with its delivery."""

    UPFRONT = "upfront"
    YEARLY = "yearly"


class DeliveryStatus(enum.StrEnum):
    """One year of a transfer: waiting for its water, water held, delivered, or failed."""

    PENDING = "pending"
    SECURED = "secured"
    DELIVERED = "delivered"
    DEFAULTED = "defaulted"
    CANCELLED = "cancelled"


class ApprovalStep(enum.StrEnum):
    """A step of four-eyes approval."""

    REVIEW = "review"
    APPROVE = "approve"
    REJECT = "reject"


def _enum(cls: type[enum.Enum], name: str) -> Enum:
    return string_enum(cls, name, 16)


class Transfer(Base):
    """A seller's promise of ``quantity_per_year`` of a water family for a term, at ``price``."""

    __tablename__ = "transfers"
    __table_args__ = (
        UniqueConstraint("proposer", "client_ref", name="uq_transfers_client_ref"),
        CheckConstraint("quantity_per_year > 0", name="quantity_positive"),
        CheckConstraint("price >= 0", name="price_non_negative"),
        CheckConstraint("last_year >= first_year", name="term"),
        CheckConstraint("seller <> buyer", name="two_parties"),
        Index("ix_transfers_status", "status", "id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    market_family: Mapped[str] = mapped_column(String(64))
    seller: Mapped[str] = mapped_column(ForeignKey("leagues.code"))
    buyer: Mapped[str] = mapped_column(ForeignKey("leagues.code"))
    proposer: Mapped[str] = mapped_column(String(32))
    quantity_per_year: Mapped[int] = mapped_column(BigInteger)
    first_year: Mapped[int] = mapped_column(Integer)
    last_year: Mapped[int] = mapped_column(Integer)
    price: Mapped[int] = mapped_column(BigInteger)
    """Fen per unit per year."""
    payment: Mapped[Payment] = mapped_column(_enum(Payment, "transfer_payment"))
    client_ref: Mapped[str] = mapped_column(String(64))
    status: Mapped[TransferStatus] = mapped_column(
        _enum(TransferStatus, "transfer_status"), default=TransferStatus.PROPOSED
    )
    buyer_hold_id: Mapped[int | None] = mapped_column(BigInteger)
    """The buyer's cash hold placed at acceptance (the first payment)."""
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    accepted_by: Mapped[str | None] = mapped_column(String(64))
    accepted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    approved_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    closed_by: Mapped[str | None] = mapped_column(String(64))
    reason: Mapped[str | None] = mapped_column(String(500))
    """Why it was rejected, withdrawn or defaulted."""
    defaulted_party: Mapped[str | None] = mapped_column(String(32))
    defaulted_year: Mapped[int | None] = mapped_column(Integer)

    deliveries: Mapped[list[TransferDelivery]] = relationship(
        back_populates="transfer", order_by="TransferDelivery.year", lazy="selectin"
    )

    @property
    def parties(self) -> tuple[str, str]:
        """Seller and buyer."""
        return (self.seller, self.buyer)

    @property
    def counterparty(self) -> str:
        """The party that did not propose (it accepts or rejects)."""
        return self.buyer if self.proposer == self.seller else self.seller

    @property
    def years(self) -> range:
        """Every year of the term."""
        return range(self.first_year, self.last_year + 1)


class TransferDelivery(Base):
    """One year of a transfer: its volume, the payment due with it, and how it settled."""

    __tablename__ = "transfer_deliveries"
    __table_args__ = (
        UniqueConstraint("transfer_id", "year", name="uq_transfer_deliveries_year"),
        CheckConstraint("quantity > 0", name="quantity_positive"),
        CheckConstraint("payment >= 0", name="payment_non_negative"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    transfer_id: Mapped[int] = mapped_column(ForeignKey("transfers.id", ondelete="CASCADE"))
    year: Mapped[int] = mapped_column(Integer)
    quantity: Mapped[int] = mapped_column(BigInteger)
    payment: Mapped[int] = mapped_column(BigInteger)
    """Fen the buyer pays with this year's delivery."""
    status: Mapped[DeliveryStatus] = mapped_column(
        _enum(DeliveryStatus, "delivery_status"), default=DeliveryStatus.PENDING
    )
    market_id: Mapped[int | None] = mapped_column(ForeignKey("markets.id"))
    hold_id: Mapped[int | None] = mapped_column(BigInteger)
    """The seller's hold on this year's volume (once it is allocated)."""
    journal_id: Mapped[int | None] = mapped_column(BigInteger)
    journal_hash: Mapped[str | None] = mapped_column(String(64))
    trade_id: Mapped[int | None] = mapped_column(ForeignKey("trades.id"))
    received: Mapped[int | None] = mapped_column(BigInteger)
    """What reached the buyer: ``quantity`` less the conveyance loss between their zones."""
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    transfer: Mapped[Transfer] = relationship(back_populates="deliveries")


class Approval(Base):
    """One step of four-eyes approval of a subject (``transfer:12``, ...); append-only."""

    __tablename__ = "approvals"
    __table_args__ = (
        UniqueConstraint("subject", "step", name="uq_approvals_subject_step"),
        Index("ix_approvals_subject", "subject"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    subject: Mapped[str] = mapped_column(String(64))
    step: Mapped[ApprovalStep] = mapped_column(_enum(ApprovalStep, "approval_step"))
    user_id: Mapped[int | None] = mapped_column(Integer)
    username: Mapped[str] = mapped_column(String(64))
    reason: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
