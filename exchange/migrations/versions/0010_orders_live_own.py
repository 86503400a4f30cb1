"""orders: the self-trade indexes hold live orders only, most aggressive first

Revision ID: 0010_orders_live_own
Revises: 0009_orders_own_side
Create Date: 2026-11-30

``ix_orders_own_side`` (league, market, side, status, price) held every order a league ever
entered. psycopg prepares a statement on its sixth run and PostgreSQL keeps a generic plan
made with the statistics of that moment; on a new database (before autovacuum's first
ANALYZE) the orders table is nearly empty then, and the plans kept by the server's
connections found crossing orders through ``ix_orders_book`` or the ``client_order_id`` key
and an earlier ``client_order_id`` through this index: every entry read a market's or a
league's whole history of orders (26 million index rows in a 30-s benchmark), slower as the
table grew. The partial indexes of each side's live orders, in the order the self-trade
query reads them (lowest sell first; highest buy first, then oldest), serve that query
without a sort, which no other index can, and serve no other query.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010_orders_live_own"
down_revision = "0009_orders_own_side"
branch_labels = None
depends_on = None

LIVE = "status IN ('open', 'partially_filled')"


def upgrade() -> None:
    op.drop_index("ix_orders_own_side", table_name="orders")
    for name, side, price in (
        ("ix_orders_live_sells", "sell", sa.text("limit_price")),
        ("ix_orders_live_buys", "buy", sa.text("limit_price DESC")),
    ):
        where = sa.text(f"side = '{side}' AND {LIVE}")
        op.create_index(
            name,
            "orders",
            ["league_code", "market_id", price, "id"],
            postgresql_where=where,
            sqlite_where=where,
        )


def downgrade() -> None:
    op.drop_index("ix_orders_live_buys", table_name="orders")
    op.drop_index("ix_orders_live_sells", table_name="orders")
    columns = ["league_code", "market_id", "side", "status", "limit_price"]
    op.create_index("ix_orders_own_side", "orders", columns)
