"""bundle orders: bundles and their legs, joint clearings of a window and their runs

Revision ID: 0008_bundles
Revises: 0007_continuous
Create Date: 2026-11-30

Issue 21: a bundle is one order over legs in several call-auction markets of one window,
cleared jointly (``matching.clear_joint``); a joint clearing keeps its book for replay.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008_bundles"
down_revision = "0008_stability"
branch_labels = None
depends_on = None


def _status(name: str, values: tuple[str, ...]) -> sa.Enum:
    return sa.Enum(*values, name=name, native_enum=False, create_constraint=True, length=20)


def upgrade() -> None:
    op.create_table(
        "joint_clearings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("window", sa.DateTime(timezone=True), nullable=False),
        sa.Column("book", sa.Text(), nullable=False),
        sa.Column("book_hash", sa.String(length=64), nullable=False),
        sa.Column("result_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_joint_clearings")),
    )
    op.create_table(
        "joint_clearing_runs",
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("joint_id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["joint_id"],
            ["joint_clearings.id"],
            name=op.f("fk_joint_clearing_runs_joint_id_joint_clearings"),
        ),
        sa.ForeignKeyConstraint(
            ["run_id"],
            ["clearing_runs.id"],
            name=op.f("fk_joint_clearing_runs_run_id_clearing_runs"),
        ),
        sa.PrimaryKeyConstraint("run_id", name=op.f("pk_joint_clearing_runs")),
    )
    op.create_table(
        "bundles",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("league_code", sa.String(length=32), nullable=False),
        sa.Column("window", sa.DateTime(timezone=True), nullable=False),
        sa.Column("side", _status("bundle_side", ("buy", "sell")), nullable=False),
        sa.Column("max_total", sa.BigInteger(), nullable=True),
        sa.Column("min_total", sa.BigInteger(), nullable=True),
        sa.Column("limit_total", sa.BigInteger(), nullable=False),
        sa.Column("min_ratio", sa.Integer(), nullable=True),
        sa.Column("client_order_id", sa.String(length=64), nullable=False),
        sa.Column(
            "status",
            _status("bundle_status", ("open", "accepted", "rejected", "cancelled")),
            nullable=False,
        ),
        sa.Column("reason", sa.String(length=32), nullable=True),
        sa.Column("reason_detail", sa.Text(), nullable=True),
        sa.Column("hold_id", sa.BigInteger(), nullable=True),
        sa.Column("steps", sa.Integer(), nullable=True),
        sa.Column("of", sa.Integer(), nullable=True),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("joint_id", sa.Integer(), nullable=True),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("limit_total > 0", name=op.f("ck_bundles_limit_positive")),
        sa.CheckConstraint(
            "min_ratio IS NULL OR (min_ratio >= 1 AND min_ratio <= 1000)",
            name=op.f("ck_bundles_min_ratio_range"),
        ),
        sa.ForeignKeyConstraint(
            ["joint_id"], ["joint_clearings.id"], name=op.f("fk_bundles_joint_id_joint_clearings")
        ),
        sa.ForeignKeyConstraint(
            ["league_code"], ["leagues.code"], name=op.f("fk_bundles_league_code_leagues")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_bundles")),
        sa.UniqueConstraint("league_code", "client_order_id", name="uq_bundles_client_order_id"),
    )
    op.create_index("ix_bundles_window", "bundles", ["window", "status"])
    op.create_table(
        "bundle_legs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("bundle_id", sa.Integer(), nullable=False),
        sa.Column("market_id", sa.Integer(), nullable=False),
        sa.Column("quantity", sa.BigInteger(), nullable=False),
        sa.Column("limit_price", sa.BigInteger(), nullable=True),
        sa.Column("hold_id", sa.BigInteger(), nullable=True),
        sa.Column("filled_quantity", sa.BigInteger(), nullable=False),
        sa.Column("price", sa.BigInteger(), nullable=True),
        sa.Column("run_id", sa.Integer(), nullable=True),
        sa.CheckConstraint("quantity > 0", name=op.f("ck_bundle_legs_quantity_positive")),
        sa.ForeignKeyConstraint(
            ["bundle_id"], ["bundles.id"], name=op.f("fk_bundle_legs_bundle_id_bundles")
        ),
        sa.ForeignKeyConstraint(
            ["market_id"], ["markets.id"], name=op.f("fk_bundle_legs_market_id_markets")
        ),
        sa.ForeignKeyConstraint(
            ["run_id"], ["clearing_runs.id"], name=op.f("fk_bundle_legs_run_id_clearing_runs")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_bundle_legs")),
        sa.UniqueConstraint("bundle_id", "market_id", name="uq_bundle_legs_market"),
    )
    op.create_index("ix_bundle_legs_market", "bundle_legs", ["market_id"])


def downgrade() -> None:
    op.drop_index("ix_bundle_legs_market", table_name="bundle_legs")
    op.drop_table("bundle_legs")
    op.drop_index("ix_bundles_window", table_name="bundles")
    op.drop_table("bundles")
    op.drop_table("joint_clearing_runs")
    op.drop_table("joint_clearings")
