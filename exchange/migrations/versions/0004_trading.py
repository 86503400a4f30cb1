"""trading: orders, clearing runs, snapshots, fills

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-27 23:17:51.445329
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "clearing_runs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("market_id", sa.Integer(), nullable=False),
        sa.Column("window", sa.DateTime(timezone=True), nullable=False),
        sa.Column(
            "trigger",
            sa.Enum(
                "schedule",
                "manual",
                "catch_up",
                name="run_trigger",
                native_enum=False,
                create_constraint=True,
                length=20,
            ),
            nullable=False,
        ),
        sa.Column(
            "status",
            sa.Enum(
                "completed",
                "failed",
                name="run_status",
                native_enum=False,
                create_constraint=True,
                length=20,
            ),
            nullable=False,
        ),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("order_count", sa.Integer(), nullable=False),
        sa.Column("volume", sa.BigInteger(), nullable=False),
        sa.Column("price", sa.BigInteger(), nullable=True),
        sa.Column("zone_prices", sa.JSON(), nullable=True),
        sa.Column("flows", sa.JSON(), nullable=True),
        sa.Column("curves", sa.JSON(), nullable=True),
        sa.Column("timings_ms", sa.JSON(), nullable=True),
        sa.Column("engine", sa.JSON(), nullable=True),
        sa.Column("book_hash", sa.String(length=64), nullable=True),
        sa.Column("result_hash", sa.String(length=64), nullable=True),
        sa.Column("failure_reason", sa.Text(), nullable=True),
        sa.Column("triggered_by", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["market_id"], ["markets.id"], name=op.f("fk_clearing_runs_market_id_markets")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_clearing_runs")),
        sa.UniqueConstraint("market_id", "window", name="uq_clearing_runs_market_window"),
    )
    op.create_table(
        "orders",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("market_id", sa.Integer(), nullable=False),
        sa.Column("league_code", sa.String(length=32), nullable=False),
        sa.Column("zone", sa.String(length=32), nullable=False),
        sa.Column(
            "side",
            sa.Enum(
                "buy", "sell", name="side", native_enum=False, create_constraint=True, length=20
            ),
            nullable=False,
        ),
        sa.Column("quantity", sa.BigInteger(), nullable=False),
        sa.Column("limit_price", sa.BigInteger(), nullable=False),
        sa.Column("filled_quantity", sa.BigInteger(), nullable=False),
        sa.Column("filled_amount", sa.BigInteger(), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "open",
                "partially_filled",
                "filled",
                "cancelled",
                "expired",
                name="order_status",
                native_enum=False,
                create_constraint=True,
                length=20,
            ),
            nullable=False,
        ),
        sa.Column(
            "validity",
            sa.Enum(
                "gtc", "run", name="validity", native_enum=False, create_constraint=True, length=20
            ),
            nullable=False,
        ),
        sa.Column("client_order_id", sa.String(length=64), nullable=False),
        sa.Column("hold_id", sa.BigInteger(), nullable=True),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_run_id", sa.Integer(), nullable=True),
        sa.CheckConstraint(
            "filled_quantity >= 0 AND filled_quantity <= quantity", name=op.f("ck_orders_filled")
        ),
        sa.CheckConstraint("limit_price >= 0", name=op.f("ck_orders_price_non_negative")),
        sa.CheckConstraint("quantity > 0", name=op.f("ck_orders_quantity_positive")),
        sa.ForeignKeyConstraint(
            ["league_code"], ["leagues.code"], name=op.f("fk_orders_league_code_leagues")
        ),
        sa.ForeignKeyConstraint(
            ["market_id"], ["markets.id"], name=op.f("fk_orders_market_id_markets")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_orders")),
        sa.UniqueConstraint("league_code", "client_order_id", name="uq_orders_client_order_id"),
    )
    with op.batch_alter_table("orders", schema=None) as batch_op:
        batch_op.create_index("ix_orders_book", ["market_id", "status", "id"], unique=False)

    op.create_table(
        "clearing_snapshots",
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("book", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["run_id"],
            ["clearing_runs.id"],
            name=op.f("fk_clearing_snapshots_run_id_clearing_runs"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("run_id", name=op.f("pk_clearing_snapshots")),
    )
    op.create_table(
        "fills",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("order_id", sa.Integer(), nullable=False),
        sa.Column("quantity", sa.BigInteger(), nullable=False),
        sa.Column("price", sa.BigInteger(), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.CheckConstraint("quantity > 0", name=op.f("ck_fills_quantity_positive")),
        sa.ForeignKeyConstraint(["order_id"], ["orders.id"], name=op.f("fk_fills_order_id_orders")),
        sa.ForeignKeyConstraint(
            ["run_id"], ["clearing_runs.id"], name=op.f("fk_fills_run_id_clearing_runs")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_fills")),
    )
    with op.batch_alter_table("fills", schema=None) as batch_op:
        batch_op.create_index("ix_fills_run", ["run_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("fills", schema=None) as batch_op:
        batch_op.drop_index("ix_fills_run")

    op.drop_table("fills")
    op.drop_table("clearing_snapshots")
    with op.batch_alter_table("orders", schema=None) as batch_op:
        batch_op.drop_index("ix_orders_book")

    op.drop_table("orders")
    op.drop_table("clearing_runs")
