"""continuous trading: market terms, recorded order flow, trades, daily closes, block trades

Revision ID: 0007_continuous
Revises: 0007_compliance
Create Date: 2026-11-30

Markets get three nullable columns (band percent, session calendar, reference price);
``clearing_schedule`` stays required (continuous markets store ``""``), so ``markets``
is never rebuilt (a batch rebuild fails under SQLite's foreign keys). The recorded
order flow and the executions are append-only, like the ledger's journals.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007_continuous"
down_revision = "0007_compliance"
branch_labels = None
depends_on = None

APPEND_ONLY = ("continuous_events", "continuous_trades")
MARKET_COLUMNS = ("band_percent", "session_calendar", "reference_price")


def upgrade() -> None:
    op.add_column("markets", sa.Column("band_percent", sa.Integer(), nullable=True))
    op.add_column("markets", sa.Column("session_calendar", sa.String(length=32), nullable=True))
    op.add_column("markets", sa.Column("reference_price", sa.BigInteger(), nullable=True))
    op.create_table(
        "continuous_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("market_id", sa.Integer(), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("order_id", sa.Integer(), nullable=False),
        sa.Column("league", sa.String(length=64), nullable=False),
        sa.Column("side", sa.String(length=4), nullable=False),
        sa.Column("quantity", sa.BigInteger(), nullable=False),
        sa.Column("price", sa.BigInteger(), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["market_id"], ["markets.id"], name=op.f("fk_continuous_events_market_id_markets")
        ),
        sa.ForeignKeyConstraint(
            ["order_id"], ["orders.id"], name=op.f("fk_continuous_events_order_id_orders")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_continuous_events")),
        sa.UniqueConstraint("market_id", "seq", name="uq_continuous_events_market_seq"),
    )
    op.create_index("ix_continuous_events_day", "continuous_events", ["market_id", "day"])
    op.create_index("ix_continuous_events_order", "continuous_events", ["order_id"])
    op.create_table(
        "continuous_trades",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("market_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("buy_order_id", sa.Integer(), nullable=True),
        sa.Column("sell_order_id", sa.Integer(), nullable=True),
        sa.Column("buyer", sa.String(length=64), nullable=False),
        sa.Column("seller", sa.String(length=64), nullable=False),
        sa.Column("aggressor", sa.String(length=4), nullable=True),
        sa.Column("price", sa.BigInteger(), nullable=False),
        sa.Column("quantity", sa.BigInteger(), nullable=False),
        sa.Column("traded_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("quantity > 0", name=op.f("ck_continuous_trades_quantity_positive")),
        sa.CheckConstraint("price >= 0", name=op.f("ck_continuous_trades_price_non_negative")),
        sa.ForeignKeyConstraint(
            ["market_id"], ["markets.id"], name=op.f("fk_continuous_trades_market_id_markets")
        ),
        sa.ForeignKeyConstraint(
            ["buy_order_id"], ["orders.id"], name=op.f("fk_continuous_trades_buy_order_id_orders")
        ),
        sa.ForeignKeyConstraint(
            ["sell_order_id"],
            ["orders.id"],
            name=op.f("fk_continuous_trades_sell_order_id_orders"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_continuous_trades")),
        sa.UniqueConstraint("market_id", "seq", "number", name="uq_continuous_trades_seq"),
    )
    op.create_index("ix_continuous_trades_day", "continuous_trades", ["market_id", "day", "id"])
    op.create_table(
        "continuous_closes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("market_id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("open", sa.BigInteger(), nullable=True),
        sa.Column("high", sa.BigInteger(), nullable=True),
        sa.Column("low", sa.BigInteger(), nullable=True),
        sa.Column("close", sa.BigInteger(), nullable=True),
        sa.Column("volume", sa.BigInteger(), nullable=False),
        sa.Column("turnover", sa.BigInteger(), nullable=False),
        sa.Column("trades", sa.Integer(), nullable=False),
        sa.Column("block_volume", sa.BigInteger(), nullable=False),
        sa.Column("computed_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["market_id"], ["markets.id"], name=op.f("fk_continuous_closes_market_id_markets")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_continuous_closes")),
        sa.UniqueConstraint("market_id", "day", name="uq_continuous_closes_day"),
    )
    op.create_table(
        "block_trades",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("market_id", sa.Integer(), nullable=False),
        sa.Column("buyer", sa.String(length=32), nullable=False),
        sa.Column("seller", sa.String(length=32), nullable=False),
        sa.Column("proposer", sa.String(length=64), nullable=False),
        sa.Column("client_id", sa.String(length=64), nullable=False),
        sa.Column("quantity", sa.BigInteger(), nullable=False),
        sa.Column("price", sa.BigInteger(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("decided_by", sa.String(length=64), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint("quantity > 0", name=op.f("ck_block_trades_quantity_positive")),
        sa.CheckConstraint("price > 0", name=op.f("ck_block_trades_price_positive")),
        sa.CheckConstraint("buyer <> seller", name=op.f("ck_block_trades_two_parties")),
        sa.ForeignKeyConstraint(
            ["market_id"], ["markets.id"], name=op.f("fk_block_trades_market_id_markets")
        ),
        sa.ForeignKeyConstraint(
            ["buyer"], ["leagues.code"], name=op.f("fk_block_trades_buyer_leagues")
        ),
        sa.ForeignKeyConstraint(
            ["seller"], ["leagues.code"], name=op.f("fk_block_trades_seller_leagues")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_block_trades")),
        sa.UniqueConstraint("proposer", "client_id", name="uq_block_trades_client_id"),
    )
    _append_only_triggers()


def _append_only_triggers() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for table in APPEND_ONLY:
            op.execute(
                f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
                "FOR EACH ROW EXECUTE FUNCTION ledger_refuse_change()"
            )
            op.execute(
                f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
                "FOR EACH STATEMENT EXECUTE FUNCTION ledger_refuse_change()"
            )
        return
    for table in APPEND_ONLY:
        for operation in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER {table}_no_{operation.lower()} BEFORE {operation} "
                f"ON {table} BEGIN SELECT RAISE(ABORT, 'table {table} is "
                f"append-only: {operation} refused'); END"
            )


def downgrade() -> None:
    postgresql = op.get_bind().dialect.name == "postgresql"
    for table in APPEND_ONLY:
        names = ("append_only", "no_truncate") if postgresql else ("no_update", "no_delete")
        for name in names:
            op.execute(
                f"DROP TRIGGER IF EXISTS {table}_{name}" + (f" ON {table}" if postgresql else "")
            )
    op.drop_table("block_trades")
    op.drop_table("continuous_closes")
    op.drop_index("ix_continuous_trades_day", table_name="continuous_trades")
    op.drop_table("continuous_trades")
    op.drop_index("ix_continuous_events_order", table_name="continuous_events")
    op.drop_index("ix_continuous_events_day", table_name="continuous_events")
    op.drop_table("continuous_events")
    # Not a batch (which rebuilds the table, refused under foreign keys on SQLite):
    # both databases drop a plain column in place (SQLite since 3.35).
    for column in reversed(MARKET_COLUMNS):
        op.execute(f"ALTER TABLE markets DROP COLUMN {column}")
