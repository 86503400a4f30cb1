"""negotiated term transfers: transfers, their yearly deliveries, four-eyes approvals;
participants beyond the leagues (leagues.kind, leagues.province)

``approvals`` is a record regulators rely on: append-only, with the same kind of
triggers as the ledger's tables (UPDATE and DELETE refused, TRUNCATE too on
PostgreSQL).

Revision ID: 0007_transfers
Revises: 0007_compensation
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007_transfers"
down_revision = "0007_compensation"
branch_labels = None
depends_on = None

APPEND_ONLY = ("approvals",)


def upgrade() -> None:
    # participants beyond the leagues: the reserve (operated by the regulator) and
    # participants of neighbouring provinces
    op.add_column(
        "leagues",
        sa.Column("kind", sa.String(length=16), server_default="league", nullable=False),
    )
    op.add_column("leagues", sa.Column("province", sa.String(length=64), nullable=True))
    # conveyance loss per zone pair, per mille (a CHECK in the model; SQLite cannot add one)
    op.add_column(
        "transfer_limits",
        sa.Column("loss_permille", sa.Integer(), server_default="0", nullable=False),
    )
    op.create_table(
        "approvals",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("subject", sa.String(length=64), nullable=False),
        sa.Column(
            "step",
            sa.Enum(
                "review",
                "approve",
                "reject",
                name="approval_step",
                native_enum=False,
                create_constraint=True,
                length=16,
            ),
            nullable=False,
        ),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("username", sa.String(length=64), nullable=False),
        sa.Column("reason", sa.String(length=500), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_approvals")),
        sa.UniqueConstraint("subject", "step", name="uq_approvals_subject_step"),
    )
    op.create_index("ix_approvals_subject", "approvals", ["subject"], unique=False)
    op.create_table(
        "transfers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("market_family", sa.String(length=64), nullable=False),
        sa.Column("seller", sa.String(length=32), nullable=False),
        sa.Column("buyer", sa.String(length=32), nullable=False),
        sa.Column("proposer", sa.String(length=32), nullable=False),
        sa.Column("quantity_per_year", sa.BigInteger(), nullable=False),
        sa.Column("first_year", sa.Integer(), nullable=False),
        sa.Column("last_year", sa.Integer(), nullable=False),
        sa.Column("price", sa.BigInteger(), nullable=False),
        sa.Column(
            "payment",
            sa.Enum(
                "upfront",
                "yearly",
                name="transfer_payment",
                native_enum=False,
                create_constraint=True,
                length=16,
            ),
            nullable=False,
        ),
        sa.Column("client_ref", sa.String(length=64), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "proposed",
                "accepted",
                "reviewed",
                "active",
                "completed",
                "rejected",
                "withdrawn",
                "defaulted",
                name="transfer_status",
                native_enum=False,
                create_constraint=True,
                length=16,
            ),
            nullable=False,
        ),
        sa.Column("buyer_hold_id", sa.BigInteger(), nullable=True),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("accepted_by", sa.String(length=64), nullable=True),
        sa.Column("accepted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("approved_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("closed_by", sa.String(length=64), nullable=True),
        sa.Column("reason", sa.String(length=500), nullable=True),
        sa.Column("defaulted_party", sa.String(length=32), nullable=True),
        sa.Column("defaulted_year", sa.Integer(), nullable=True),
        sa.CheckConstraint("last_year >= first_year", name=op.f("ck_transfers_term")),
        sa.CheckConstraint("price >= 0", name=op.f("ck_transfers_price_non_negative")),
        sa.CheckConstraint("quantity_per_year > 0", name=op.f("ck_transfers_quantity_positive")),
        sa.CheckConstraint("seller <> buyer", name=op.f("ck_transfers_two_parties")),
        sa.ForeignKeyConstraint(
            ["buyer"], ["leagues.code"], name=op.f("fk_transfers_buyer_leagues")
        ),
        sa.ForeignKeyConstraint(
            ["seller"], ["leagues.code"], name=op.f("fk_transfers_seller_leagues")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_transfers")),
        sa.UniqueConstraint("proposer", "client_ref", name="uq_transfers_client_ref"),
    )
    op.create_index("ix_transfers_status", "transfers", ["status", "id"], unique=False)
    op.create_table(
        "transfer_deliveries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("transfer_id", sa.Integer(), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("quantity", sa.BigInteger(), nullable=False),
        sa.Column("payment", sa.BigInteger(), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "pending",
                "secured",
                "delivered",
                "defaulted",
                "cancelled",
                name="delivery_status",
                native_enum=False,
                create_constraint=True,
                length=16,
            ),
            nullable=False,
        ),
        sa.Column("market_id", sa.Integer(), nullable=True),
        sa.Column("hold_id", sa.BigInteger(), nullable=True),
        sa.Column("journal_id", sa.BigInteger(), nullable=True),
        sa.Column("journal_hash", sa.String(length=64), nullable=True),
        sa.Column("trade_id", sa.Integer(), nullable=True),
        sa.Column("received", sa.BigInteger(), nullable=True),
        sa.Column("delivered_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "payment >= 0", name=op.f("ck_transfer_deliveries_payment_non_negative")
        ),
        sa.CheckConstraint("quantity > 0", name=op.f("ck_transfer_deliveries_quantity_positive")),
        sa.ForeignKeyConstraint(
            ["market_id"], ["markets.id"], name=op.f("fk_transfer_deliveries_market_id_markets")
        ),
        sa.ForeignKeyConstraint(
            ["trade_id"], ["trades.id"], name=op.f("fk_transfer_deliveries_trade_id_trades")
        ),
        sa.ForeignKeyConstraint(
            ["transfer_id"],
            ["transfers.id"],
            name=op.f("fk_transfer_deliveries_transfer_id_transfers"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_transfer_deliveries")),
        sa.UniqueConstraint("transfer_id", "year", name="uq_transfer_deliveries_year"),
    )
    _create_triggers()


def downgrade() -> None:
    _drop_triggers()
    op.drop_table("transfer_deliveries")
    op.drop_index("ix_transfers_status", table_name="transfers")
    op.drop_table("transfers")
    op.drop_index("ix_approvals_subject", table_name="approvals")
    op.drop_table("approvals")
    # in place, not batch (SQLite's foreign keys refuse a rebuild of leagues)
    op.execute("ALTER TABLE leagues DROP COLUMN province")
    op.execute("ALTER TABLE leagues DROP COLUMN kind")
    op.execute("ALTER TABLE transfer_limits DROP COLUMN loss_permille")


def _create_triggers() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            """
            CREATE FUNCTION approvals_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                RAISE EXCEPTION 'table % is append-only: % refused', TG_TABLE_NAME, TG_OP
                    USING ERRCODE = 'integrity_constraint_violation';
            END $$
            """
        )
        for table in APPEND_ONLY:
            op.execute(
                f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
                "FOR EACH ROW EXECUTE FUNCTION approvals_refuse_change()"
            )
            op.execute(
                f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
                "FOR EACH STATEMENT EXECUTE FUNCTION approvals_refuse_change()"
            )
        return
    for table in APPEND_ONLY:
        for operation in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER {table}_no_{operation.lower()} BEFORE {operation} ON {table} "
                f"BEGIN SELECT RAISE(ABORT, 'table {table} is append-only: "
                f"{operation} refused'); END"
            )


def _drop_triggers() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for table in APPEND_ONLY:
            op.execute(f"DROP TRIGGER IF EXISTS {table}_append_only ON {table}")
            op.execute(f"DROP TRIGGER IF EXISTS {table}_no_truncate ON {table}")
        op.execute("DROP FUNCTION IF EXISTS approvals_refuse_change()")
        return
    for table in APPEND_ONLY:
        for operation in ("update", "delete"):
            op.execute(f"DROP TRIGGER IF EXISTS {table}_no_{operation}")
