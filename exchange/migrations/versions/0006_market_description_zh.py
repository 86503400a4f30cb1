"""the market description in Chinese (shown on the Chinese pages)

Revision ID: 0006_market_description_zh
Revises: 0006_job_runner
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006_market_description_zh"
down_revision = "0006_job_runner"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column(
        "markets",
        sa.Column("description_zh", sa.String(length=2000), nullable=False, server_default=""),
    )


def downgrade() -> None:
    # Not a batch (which rebuilds the table, refused under foreign keys on SQLite):
    # both databases drop a plain column in place (SQLite since 3.35).
    op.execute("ALTER TABLE markets DROP COLUMN description_zh")
