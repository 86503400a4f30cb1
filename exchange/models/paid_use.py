"""Paid use of discharge rights (有偿使用): the bill of an issuance, and its payments."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    ForeignKey,
    Integer,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from exchange.models.base import Base, UTCDateTime, utcnow


class PaidUseBill(Base):
    """The paid-use fee of one issuance of discharge rights: a cash claim on the league."""

    __tablename__ = "paid_use_bills"
    __table_args__ = (
        CheckConstraint("amount > 0", name="amount_positive"),
        CheckConstraint("paid BETWEEN 0 AND amount", name="paid_range"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    league_code: Mapped[str] = mapped_column(ForeignKey("leagues.code"))
    market_id: Mapped[int] = mapped_column(ForeignKey("markets.id"))
    quantity: Mapped[int] = mapped_column(BigInteger)
    years: Mapped[int] = mapped_column(Integer)
    fee_per_t_year: Mapped[int] = mapped_column(BigInteger)
    amount: Mapped[int] = mapped_column(BigInteger)
    instalments: Mapped[bool] = mapped_column(Boolean)
    allocation_journal_id: Mapped[int] = mapped_column(BigInteger)
    claim_journal_id: Mapped[int] = mapped_column(BigInteger)
    issued_on: Mapped[date] = mapped_column(Date)
    expires_on: Mapped[date] = mapped_column(Date)
    paid: Mapped[int] = mapped_column(BigInteger, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class PaidUsePayment(Base):
    """One payment against a bill: cash from the league to the regulator, one journal."""

    __tablename__ = "paid_use_payments"
    __table_args__ = (
        UniqueConstraint("bill_id", "client_ref", name="uq_paid_use_payments_client_ref"),
        CheckConstraint("amount > 0", name="amount_positive"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    bill_id: Mapped[int] = mapped_column(ForeignKey("paid_use_bills.id"))
    amount: Mapped[int] = mapped_column(BigInteger)
    client_ref: Mapped[str] = mapped_column(String(64))
    journal_id: Mapped[int] = mapped_column(BigInteger)
    paid_on: Mapped[date] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
