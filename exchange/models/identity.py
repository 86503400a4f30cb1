"""Identity tables: users, their API tokens, and the action log of state-changing requests."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Enum,
    ForeignKey,
    Index,
    Integer,
    String,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from exchange.models.base import Base, UTCDateTime, utcnow


class Role(enum.StrEnum):
    """Roles of users of the exchange (re-exported by ``exchange.api.access``)."""

    LEAGUE = "league"
    REGULATOR = "regulator"
    AUDITOR = "auditor"
    ADMIN = "admin"
    REPRESENTATIVE = "representative"
    """Acts for one enterprise (``participant_code``) with ``rights``."""


class Rights(enum.StrEnum):
    """What an authorised representative may do for its enterprise (UK ETS registry)."""

    INITIATE = "initiate"
    APPROVE = "approve"
    INITIATE_AND_APPROVE = "initiate_and_approve"
    SURRENDER_ONLY = "surrender_only"
    READ_ONLY = "read_only"


class User(Base):
    """A person or system that logs in (pages) or sends API tokens (API).

    A ``league`` user is bound to exactly one league; other roles to none.
    ``password_hash`` is empty for API-only users (they cannot log in to pages).
    """

    __tablename__ = "users"
    __table_args__ = (
        CheckConstraint(
            "(role = 'league') = (league_code IS NOT NULL)", name="league_iff_league_role"
        ),
        CheckConstraint(
            "(role = 'representative') = (participant_code IS NOT NULL AND rights IS NOT NULL)",
            name="participant_iff_representative",
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    password_hash: Mapped[str | None] = mapped_column(String(255))
    role: Mapped[Role] = mapped_column(
        Enum(
            Role,
            name="user_role",
            native_enum=False,
            create_constraint=True,
            length=16,
            values_callable=lambda members: [m.value for m in members],
            validate_strings=True,
        )
    )
    league_code: Mapped[str | None] = mapped_column(ForeignKey("leagues.code"))
    participant_code: Mapped[str | None] = mapped_column(ForeignKey("leagues.code"))
    """A representative's enterprise."""
    rights: Mapped[str | None] = mapped_column(String(24))
    """A representative's rights (:class:`Rights`)."""
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # Bumped by logout, password change, deactivation and role change: every browser
    # session of an older generation stops authenticating (exchange.identity.authn).
    session_generation: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    tokens: Mapped[list[ApiToken]] = relationship(
        back_populates="user", order_by="ApiToken.id", lazy="select"
    )


class ApiToken(Base):
    """A bearer token of a user: only its SHA-256 is stored; it expires and can be revoked."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(100), default="")
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    prefix: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    user: Mapped[User] = relationship(back_populates="tokens")

    @property
    def status(self) -> str:
        """``active``, ``expired`` or ``revoked``."""
        return token_status(self.revoked_at, self.expires_at)


def token_status(revoked_at: datetime | None, expires_at: datetime) -> str:
    """An API token's status from its dates: ``active``, ``expired`` or ``revoked``."""
    if revoked_at is not None:
        return "revoked"
    if expires_at <= utcnow():
        return "expired"
    return "active"


class ActionLog(Base):
    """One state-changing request: who, what, when, from where, and the outcome.

    Denormalised on purpose (no foreign keys): it is written in its own
    transaction, after the request's own work committed or rolled back.
    """

    __tablename__ = "action_log"
    __table_args__ = (Index("ix_action_log_username_at", "username", "at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
    user_id: Mapped[int | None] = mapped_column(Integer)
    username: Mapped[str] = mapped_column(String(64))
    role: Mapped[str | None] = mapped_column(String(16))
    league_code: Mapped[str | None] = mapped_column(String(32))
    auth: Mapped[str | None] = mapped_column(String(16))
    token_id: Mapped[int | None] = mapped_column(Integer)
    method: Mapped[str] = mapped_column(String(10))
    path: Mapped[str] = mapped_column(String(2000))
    endpoint: Mapped[str | None] = mapped_column(String(200))
    status: Mapped[int] = mapped_column(Integer)
    remote_addr: Mapped[str | None] = mapped_column(String(64))
