"""Background jobs of the web pages: long work (bulk allocation, ledger audit) with a status."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Enum, Index, Integer, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from exchange.models.base import Base, UTCDateTime, utcnow


class JobStatus(enum.StrEnum):
    """Life cycle of a background job."""

    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"


ACTIVE_VERIFY = "kind = 'verify' AND status IN ('queued', 'running')"


class BackgroundJob(Base):
    """One piece of long work started from a page; a thread with its own session runs it."""

    __tablename__ = "background_jobs"
    __table_args__ = (
        Index("ix_background_jobs_kind_created", "kind", "created_at"),
        # At most one ledger verification queued or running at a time (race-free).
        Index(
            "uq_background_jobs_one_active_verify",
            "kind",
            unique=True,
            sqlite_where=text(ACTIVE_VERIFY),
            postgresql_where=text(ACTIVE_VERIFY),
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(32))
    status: Mapped[JobStatus] = mapped_column(
        Enum(
            JobStatus,
            name="job_status",
            native_enum=False,
            create_constraint=True,
            length=20,
            values_callable=lambda members: [m.value for m in members],
            validate_strings=True,
        ),
        default=JobStatus.QUEUED,
    )
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    progress: Mapped[int] = mapped_column(BigInteger, default=0)
    total: Mapped[int | None] = mapped_column(BigInteger)
    message: Mapped[str | None] = mapped_column(Text)
    params: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    result: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    consumed_by: Mapped[int | None] = mapped_column(Integer)  # the import that used a preview
