"""background jobs run by job runner processes: claims, heartbeats, runners, effects

Revision ID: 0006_job_runner
Revises: 0005
Create Date: 2026-11-30

Jobs that were ``running`` before this migration ran in a thread of a web worker
that no longer exists after the upgrade's restart: they are marked failed with
the reason, so that none stays ``running`` forever.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006_job_runner"
down_revision = "0006_checkpoints"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("background_jobs", schema=None) as batch_op:
        batch_op.add_column(sa.Column("runner", sa.String(length=160), nullable=True))
        batch_op.add_column(sa.Column("heartbeat_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("attempts", sa.Integer(), server_default="0", nullable=False))
        batch_op.create_index("ix_background_jobs_status_id", ["status", "id"], unique=False)
    op.create_table(
        "job_runners",
        sa.Column("id", sa.String(length=160), nullable=False),
        sa.Column("host", sa.String(length=128), nullable=False),
        sa.Column("pid", sa.Integer(), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("heartbeat_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_job_runners")),
    )
    op.create_table(
        "background_job_effects",
        sa.Column("job_id", sa.Integer(), nullable=False),
        sa.Column("committed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("result", sa.JSON(), nullable=True),
        sa.ForeignKeyConstraint(
            ["job_id"],
            ["background_jobs.id"],
            name=op.f("fk_background_job_effects_job_id_background_jobs"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("job_id", name=op.f("pk_background_job_effects")),
    )
    op.execute(
        sa.text(
            "UPDATE background_jobs SET status = 'failed', finished_at = CURRENT_TIMESTAMP, "
            "message = 'stopped by the upgrade to job runners (it ran in a web worker); "
            "start it again' WHERE status = 'running'"
        )
    )


def downgrade() -> None:
    op.drop_table("background_job_effects")
    op.drop_table("job_runners")
    with op.batch_alter_table("background_jobs", schema=None) as batch_op:
        batch_op.drop_index("ix_background_jobs_status_id")
        batch_op.drop_column("attempts")
        batch_op.drop_column("heartbeat_at")
        batch_op.drop_column("runner")
