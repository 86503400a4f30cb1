"""stability rules of call auctions: per-market settings, cancelled runs, reserve releases

Revision ID: 0008_stability
Revises: 0007_continuous
Create Date: 2026-11-30

Markets get seven nullable columns (a rule is off while its column is null, so every
existing market keeps clearing as before). Clearing runs get the status ``cancelled``
(the ``run_status`` CHECK is rewritten, see ``_status_check``) and two JSON columns: the
cancellation's reason and numbers, and what the reserves did.
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


def _check(statuses: tuple[str, ...]) -> str:
    return "status IN ({})".format(", ".join(f"'{s}'" for s in statuses))


def _status_check(old: tuple[str, ...], new: tuple[str, ...]) -> None:
    """Rewrite the ``run_status`` CHECK of ``clearing_runs``.

    PostgreSQL: drop and add it. SQLite cannot alter a CHECK, and a rebuild of the table
    (batch mode) fails its commit under the foreign keys of trades and snapshots when runs
    exist (``PRAGMA foreign_keys`` cannot be turned off inside the migration's transaction).
    So there the stored definition is edited in place, the procedure SQLite documents for
    loosening a CHECK ("Making Other Kinds Of Table Schema Changes", lang_altertable): the
    existing rows satisfy both the old and the new list, since the upgrade only adds a value
    and the downgrade first moves the rows off the value it removes.
    """
    bind = op.get_bind()
    if bind.dialect.name != "sqlite":
        op.drop_constraint("run_status", "clearing_runs", type_="check")
        op.create_check_constraint("run_status", "clearing_runs", sa.text(_check(new)))
        return
    before, after = f"CHECK ({_check(old)})", f"CHECK ({_check(new)})"
    version = bind.exec_driver_sql("PRAGMA schema_version").scalar()
    bind.exec_driver_sql("PRAGMA writable_schema = ON")
    try:
        changed = bind.exec_driver_sql(
            "UPDATE sqlite_master SET sql = replace(sql, ?, ?) "
            "WHERE type = 'table' AND name = 'clearing_runs' AND instr(sql, ?) > 0",
            (before, after, before),
        ).rowcount
        if changed != 1:
            raise RuntimeError(f"clearing_runs: CHECK {before!r} not found")
        bind.exec_driver_sql(f"PRAGMA schema_version = {int(version) + 1}")
    finally:
        bind.exec_driver_sql("PRAGMA writable_schema = OFF")


def upgrade() -> None:
    for name, type_ in MARKET_COLUMNS:
        op.add_column("markets", sa.Column(name, type_, nullable=True))
    op.add_column("markets", sa.Column("reserve_code", sa.String(length=32), nullable=True))
    op.add_column("clearing_runs", sa.Column("cancellation", sa.JSON(), nullable=True))
    op.add_column("clearing_runs", sa.Column("reserves", sa.JSON(), nullable=True))
    _status_check(STATUSES[:2], STATUSES)


def downgrade() -> None:
    op.execute("DELETE FROM clearing_snapshots WHERE run_id IN "
               "(SELECT id FROM clearing_runs WHERE status = 'cancelled')")  # fmt: skip
    op.execute("UPDATE clearing_runs SET status = 'failed' WHERE status = 'cancelled'")
    _status_check(STATUSES, STATUSES[:2])
    # SQLite >= 3.35 drops a column in place (a batch rebuild would trip the foreign keys)
    for name in ("reserves", "cancellation"):
        op.execute(f"ALTER TABLE clearing_runs DROP COLUMN {name}")
    for name in ("reserve_code", *reversed([n for n, _t in MARKET_COLUMNS])):
        op.execute(f"ALTER TABLE markets DROP COLUMN {name}")
