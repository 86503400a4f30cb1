"""orders: the self-trade index holds live orders only

Revision ID: 0010_orders_live_own
Revises: 0009_orders_own_side
Create Date: 2026-11-30

``ix_orders_own_side`` (league, market, side, status, price) held every order a league ever
entered. A prepared statement planned while ``orders`` was nearly empty (a new database,
before autovacuum's first ANALYZE) used it to find an earlier ``client_order_id``, and the
unique key to find crossing orders: both then read the league's whole history of orders on
every entry, and entry slowed as the table grew. The partial index of live orders, ordered
by price then id, is the only index that serves the self-trade query (whose statuses are
written out to match its predicate) and none that serves the other; it also stays as small
as the live book.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010_orders_live_own"
down_revision = "0009_orders_own_side"
branch_labels = None
depends_on = None

LIVE = sa.text("status IN ('open', 'partially_filled')")


def upgrade() -> None:
    op.drop_index("ix_orders_own_side", table_name="orders")
    op.create_index(
        "ix_orders_live_own",
        "orders",
        ["league_code", "market_id", "side", "limit_price", "id"],
        postgresql_where=LIVE,
        sqlite_where=LIVE,
    )


def downgrade() -> None:
    op.drop_index("ix_orders_live_own", table_name="orders")
    op.create_index(
        "ix_orders_own_side",
        "orders",
        ["league_code", "market_id", "side", "status", "limit_price"],
    )
