"""security fixes: session generation, auction statistics, consumed upload previews

Revision ID: 0006_security
Revises: 0005
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006_security"
down_revision = "0005"
branch_labels = None
depends_on = None

ACTIVE_VERIFY = "kind = 'verify' AND status IN ('queued', 'running')"


def upgrade() -> None:
    with op.batch_alter_table("users") as batch:
        batch.add_column(
            sa.Column("session_generation", sa.Integer(), nullable=False, server_default="0")
        )
    with op.batch_alter_table("clearing_runs") as batch:
        batch.add_column(sa.Column("auction_stats", sa.JSON(), nullable=True))
    with op.batch_alter_table("background_jobs") as batch:
        batch.add_column(sa.Column("consumed_by", sa.Integer(), nullable=True))
    # Older verifications left queued or running would block the new index: close them.
    op.execute(
        "UPDATE background_jobs SET status = 'failed', message = 'abandoned (upgrade)' "
        f"WHERE {ACTIVE_VERIFY}"
    )
    op.create_index(
        "uq_background_jobs_one_active_verify",
        "background_jobs",
        ["kind"],
        unique=True,
        sqlite_where=sa.text(ACTIVE_VERIFY),
        postgresql_where=sa.text(ACTIVE_VERIFY),
    )


def downgrade() -> None:
    op.drop_index("uq_background_jobs_one_active_verify", table_name="background_jobs")
    with op.batch_alter_table("background_jobs") as batch:
        batch.drop_column("consumed_by")
    with op.batch_alter_table("clearing_runs") as batch:
        batch.drop_column("auction_stats")
    with op.batch_alter_table("users") as batch:
        batch.drop_column("session_generation")
