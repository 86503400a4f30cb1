"""mechanisms and trades: markets.mechanism; fills become mechanism-neutral trades

Every existing market trades by call auction. Every fill becomes a trade with
the same id, quantity, price and amount: a buy order's fill is bought by its
league from the exchange (the clearing house), a sell order's fill sold by its
league to the exchange; ``source`` is ``run:<run id>``. Nothing the ledger or a
replay reads changes: journals reference ``run:<id>/order:<id>``, runs keep their
snapshots and hashes.

Revision ID: 0006_mechanisms_trades
Revises: 0006_security
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006_mechanisms_trades"
down_revision = "0006_security"
branch_labels = None
depends_on = None

CLEARING_HOUSE = "exchange"


def upgrade() -> None:
    with op.batch_alter_table("markets", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "mechanism", sa.String(length=32), server_default="call_auction", nullable=False
            )
        )
    op.create_table(
        "trades",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("market_id", sa.Integer(), nullable=False),
        sa.Column("mechanism", sa.String(length=32), nullable=False),
        sa.Column("buyer", sa.String(length=64), nullable=False),
        sa.Column("seller", sa.String(length=64), nullable=False),
        sa.Column("quantity", sa.BigInteger(), nullable=False),
        sa.Column("price", sa.BigInteger(), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("source", sa.String(length=64), nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=True),
        sa.Column("order_id", sa.Integer(), nullable=True),
        sa.CheckConstraint("quantity > 0", name=op.f("ck_trades_quantity_positive")),
        sa.CheckConstraint("price >= 0", name=op.f("ck_trades_price_non_negative")),
        sa.ForeignKeyConstraint(
            ["market_id"], ["markets.id"], name=op.f("fk_trades_market_id_markets")
        ),
        sa.ForeignKeyConstraint(
            ["order_id"], ["orders.id"], name=op.f("fk_trades_order_id_orders")
        ),
        sa.ForeignKeyConstraint(
            ["run_id"], ["clearing_runs.id"], name=op.f("fk_trades_run_id_clearing_runs")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_trades")),
    )
    with op.batch_alter_table("trades", schema=None) as batch_op:
        batch_op.create_index("ix_trades_run", ["run_id"], unique=False)
        batch_op.create_index("ix_trades_market", ["market_id", "id"], unique=False)
    op.execute(
        "INSERT INTO trades (id, market_id, mechanism, buyer, seller, quantity, price, amount,"
        " source, run_id, order_id)"
        " SELECT f.id, o.market_id, 'call_auction',"
        f" CASE WHEN o.side = 'buy' THEN o.league_code ELSE '{CLEARING_HOUSE}' END,"
        f" CASE WHEN o.side = 'sell' THEN o.league_code ELSE '{CLEARING_HOUSE}' END,"
        " f.quantity, f.price, f.amount, 'run:' || CAST(f.run_id AS VARCHAR(20)),"
        " f.run_id, f.order_id"
        " FROM fills f JOIN orders o ON o.id = f.order_id"
    )
    _move_sequence("trades")
    with op.batch_alter_table("fills", schema=None) as batch_op:
        batch_op.drop_index("ix_fills_run")
    op.drop_table("fills")


def downgrade() -> None:
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
    # Only trades of clearing runs were fills; others (none yet) have no place there.
    op.execute(
        "INSERT INTO fills (id, run_id, order_id, quantity, price, amount)"
        " SELECT id, run_id, order_id, quantity, price, amount FROM trades"
        " WHERE run_id IS NOT NULL AND order_id IS NOT NULL"
    )
    _move_sequence("fills")
    with op.batch_alter_table("trades", schema=None) as batch_op:
        batch_op.drop_index("ix_trades_market")
        batch_op.drop_index("ix_trades_run")
    op.drop_table("trades")
    # Not a batch (which rebuilds the table, refused under foreign keys on SQLite):
    # both databases drop a plain column in place (SQLite since 3.35).
    op.execute("ALTER TABLE markets DROP COLUMN mechanism")


def _move_sequence(table: str) -> None:
    """On PostgreSQL, start the id sequence after the copied ids."""
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            f"SELECT setval(pg_get_serial_sequence('{table}', 'id'),"
            f" COALESCE((SELECT MAX(id) FROM {table}), 0) + 1, false)"
        )
