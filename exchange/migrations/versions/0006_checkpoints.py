"""ledger: signed checkpoints of the chain heads and the public signing keys

Revision ID: 0006_checkpoints
Revises: 0005
Create Date: 2026-11-30

Both tables are append-only in the database (UPDATE and DELETE refused; TRUNCATE
too on PostgreSQL), like the ledger's journals. Private keys are never stored.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006_checkpoints"
down_revision = "0006_mechanisms_trades"
branch_labels = None
depends_on = None

TABLES = ("ledger_checkpoints", "ledger_signing_keys")


def upgrade() -> None:
    op.create_table(
        "ledger_checkpoints",
        sa.Column("seq", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("reference", sa.String(length=128), nullable=False),
        sa.Column("prev_hash", sa.String(length=64), nullable=False),
        sa.Column("key_id", sa.String(length=64), nullable=False),
        sa.Column("statement", sa.Text(), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.Column("signature", sa.String(length=128), nullable=False),
        sa.CheckConstraint("seq >= 1", name=op.f("ck_ledger_checkpoints_seq_positive")),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_ledger_checkpoints")),
        sa.UniqueConstraint("hash", name=op.f("uq_ledger_checkpoints_hash")),
    )
    op.create_table(
        "ledger_signing_keys",
        sa.Column("key_id", sa.String(length=64), nullable=False),
        sa.Column("public_key", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("predecessor", sa.String(length=64), nullable=True),
        sa.Column("statement", sa.Text(), nullable=False),
        sa.Column("signature", sa.String(length=128), nullable=False),
        sa.Column("predecessor_signature", sa.String(length=128), nullable=True),
        sa.PrimaryKeyConstraint("key_id", name=op.f("pk_ledger_signing_keys")),
        sa.UniqueConstraint("predecessor", name=op.f("uq_ledger_signing_keys_predecessor")),
    )
    if op.get_bind().dialect.name == "postgresql":
        for table in TABLES:
            op.execute(
                f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
                "FOR EACH ROW EXECUTE FUNCTION ledger_refuse_change()"
            )
            op.execute(
                f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
                "FOR EACH STATEMENT EXECUTE FUNCTION ledger_refuse_change()"
            )
    else:
        for table in TABLES:
            for operation in ("UPDATE", "DELETE"):
                op.execute(
                    f"CREATE TRIGGER {table}_no_{operation.lower()} BEFORE {operation} "
                    f"ON {table} BEGIN SELECT RAISE(ABORT, 'ledger table {table} is "
                    f"append-only: {operation} refused'); END"
                )


def downgrade() -> None:
    postgresql = op.get_bind().dialect.name == "postgresql"
    for table in TABLES:
        names = ("append_only", "no_truncate") if postgresql else ("no_update", "no_delete")
        for name in names:
            op.execute(
                f"DROP TRIGGER IF EXISTS {table}_{name}" + (f" ON {table}" if postgresql else "")
            )
    op.drop_table("ledger_signing_keys")
    op.drop_table("ledger_checkpoints")
