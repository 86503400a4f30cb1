"""stability rules of call auctions: per-market settings, cancelled runs, reserve releases

Revision ID: 0008_stability
Revises: 0007_continuous
Create Date: 2026-11-30

Markets get seven nullable columns (a rule is off while its column is null, so every
existing market keeps clearing as before). Clearing runs get the status ``cancelled``
(the ``run_status`` CHECK is rewritten) and two JSON columns: the cancellation's reason
and numbers, and what the reserves did. SQLite cannot alter a CHECK, so there the table
is rebuilt, with the foreign keys that point at it deferred to the commit.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008_stability"
down_revision = "0007_continuous"
branch_labels = None
depends_on = None

MARKET_COLUMNS = (
    ("min_cover_percent", sa.Integer()),
    ("min_price_percent", sa.Integer()),
    ("ccr_trigger_price", sa.BigInteger()),
    ("ccr_quantity", sa.BigInteger()),
    ("ecr_trigger_price", sa.BigInteger()),
    ("ecr_quantity", sa.BigInteger()),
)
STATUSES = ("completed", "failed", "cancelled")


def _status_check(batch: object, statuses: tuple[str, ...]) -> None:
    values = ", ".join(f"'{s}'" for s in statuses)
    batch.drop_constraint("run_status", type_="check")  # type: ignore[attr-defined]
    batch.create_check_constraint("run_status", sa.text(f"status IN ({values})"))  # type: ignore[attr-defined]


def _runs_batch() -> object:
    if op.get_bind().dialect.name == "sqlite":
        op.execute("PRAGMA defer_foreign_keys = ON")  # trades and snapshots point at the runs
        return op.batch_alter_table("clearing_runs", recreate="always")
    return op.batch_alter_table("clearing_runs")


def upgrade() -> None:
    for name, type_ in MARKET_COLUMNS:
        op.add_column("markets", sa.Column(name, type_, nullable=True))
    op.add_column("markets", sa.Column("reserve_code", sa.String(length=32), nullable=True))
    with _runs_batch() as batch:  # type: ignore[attr-defined]
        batch.add_column(sa.Column("cancellation", sa.JSON(), nullable=True))
        batch.add_column(sa.Column("reserves", sa.JSON(), nullable=True))
        _status_check(batch, STATUSES)


def downgrade() -> None:
    op.execute("DELETE FROM clearing_snapshots WHERE run_id IN "
               "(SELECT id FROM clearing_runs WHERE status = 'cancelled')")  # fmt: skip
    op.execute("UPDATE clearing_runs SET status = 'failed' WHERE status = 'cancelled'")
    with _runs_batch() as batch:  # type: ignore[attr-defined]
        _status_check(batch, STATUSES[:2])
        batch.drop_column("reserves")
        batch.drop_column("cancellation")
    op.drop_column("markets", "reserve_code")
    for name, _type in reversed(MARKET_COLUMNS):
        op.drop_column("markets", name)
