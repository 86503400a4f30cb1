"""ecological compensation: agreements, readings, settlements, claims

Revision ID: 0007_compensation
Revises: 0006_market_description_zh
Create Date: 2026-11-30

Readings and settlements are append-only in the database (UPDATE and DELETE
refused; TRUNCATE too on PostgreSQL), like the ledger's journals: regulators
rely on them. A correction of a reading is a new row that supersedes it.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007_compensation"
down_revision = "0006_market_description_zh"
branch_labels = None
depends_on = None

APPEND_ONLY = ("compensation_readings", "compensation_settlements")


def _ck(table: str, name: str, condition: str) -> sa.CheckConstraint:
    return sa.CheckConstraint(condition, name=op.f(f"ck_{table}_{name}"))


def _agreements() -> None:
    t = "compensation_agreements"
    op.create_table(
        t,
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("upstream", sa.String(length=32), nullable=False),
        sa.Column("downstream", sa.String(length=32), nullable=False),
        sa.Column("section", sa.String(length=128), nullable=False),
        sa.Column("target_class", sa.Integer(), nullable=False),
        sa.Column("amount_per_class", sa.BigInteger(), nullable=False),
        sa.Column("indicators", sa.JSON(), nullable=False),
        sa.Column("amount_per_point", sa.BigInteger(), nullable=False),
        sa.Column("index_cap", sa.BigInteger(), nullable=False),
        sa.Column("assessment", sa.String(length=8), nullable=False),
        sa.Column("first_year", sa.Integer(), nullable=False),
        sa.Column("last_year", sa.Integer(), nullable=False),
        sa.Column("deposit", sa.BigInteger(), nullable=False),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        _ck(t, "two_sides", "upstream <> downstream"),
        _ck(t, "target_class_range", "target_class BETWEEN 1 AND 6"),
        _ck(t, "amount_per_class_non_negative", "amount_per_class >= 0"),
        _ck(t, "amount_per_point_non_negative", "amount_per_point >= 0"),
        _ck(t, "index_cap_non_negative", "index_cap >= 0"),
        _ck(t, "deposit_non_negative", "deposit >= 0"),
        _ck(t, "assessment_known", "assessment IN ('annual', 'monthly')"),
        _ck(t, "term_ordered", "first_year <= last_year"),
        sa.ForeignKeyConstraint(
            ["upstream"], ["leagues.code"], name=op.f(f"fk_{t}_upstream_leagues")
        ),
        sa.ForeignKeyConstraint(
            ["downstream"], ["leagues.code"], name=op.f(f"fk_{t}_downstream_leagues")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f(f"pk_{t}")),
    )
    op.create_index(op.f(f"ix_{t}_upstream"), t, ["upstream"], unique=False)
    op.create_index(op.f(f"ix_{t}_downstream"), t, ["downstream"], unique=False)


def _readings() -> None:
    t = "compensation_readings"
    op.create_table(
        t,
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("agreement_id", sa.Integer(), nullable=False),
        sa.Column("period", sa.String(length=7), nullable=False),
        sa.Column("measured_class", sa.Integer(), nullable=False),
        sa.Column("concentrations", sa.JSON(), nullable=False),
        sa.Column("supersedes_id", sa.Integer(), nullable=True),
        sa.Column("entered_by", sa.String(length=64), nullable=False),
        sa.Column("entered_at", sa.DateTime(timezone=True), nullable=False),
        _ck(t, "class_range", "measured_class BETWEEN 1 AND 6"),
        sa.ForeignKeyConstraint(
            ["agreement_id"],
            ["compensation_agreements.id"],
            name=op.f(f"fk_{t}_agreement_id_compensation_agreements"),
        ),
        sa.ForeignKeyConstraint(
            ["supersedes_id"],
            ["compensation_readings.id"],
            name=op.f(f"fk_{t}_supersedes_id_compensation_readings"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f(f"pk_{t}")),
        sa.UniqueConstraint("supersedes_id", name=op.f(f"uq_{t}_supersedes_id")),
    )
    op.create_index("ix_compensation_readings_period", t, ["agreement_id", "period", "id"])


def _settlements() -> None:
    t = "compensation_settlements"
    op.create_table(
        t,
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("agreement_id", sa.Integer(), nullable=False),
        sa.Column("period", sa.String(length=7), nullable=False),
        sa.Column("measured_class", sa.Integer(), nullable=False),
        sa.Column("class_term", sa.BigInteger(), nullable=False),
        sa.Column("index_term", sa.BigInteger(), nullable=False),
        sa.Column("total", sa.BigInteger(), nullable=False),
        sa.Column("payer", sa.String(length=32), nullable=True),
        sa.Column("payee", sa.String(length=32), nullable=True),
        sa.Column("from_deposit", sa.BigInteger(), nullable=False),
        sa.Column("from_cash", sa.BigInteger(), nullable=False),
        sa.Column("claimed", sa.BigInteger(), nullable=False),
        sa.Column("journal_id", sa.BigInteger(), nullable=True),
        sa.Column("breakdown", sa.JSON(), nullable=False),
        sa.Column("trigger", sa.String(length=16), nullable=False),
        sa.Column("settled_by", sa.String(length=64), nullable=False),
        sa.Column("settled_at", sa.DateTime(timezone=True), nullable=False),
        _ck(t, "parts", "from_deposit >= 0 AND from_cash >= 0 AND claimed >= 0"),
        sa.ForeignKeyConstraint(
            ["agreement_id"],
            ["compensation_agreements.id"],
            name=op.f(f"fk_{t}_agreement_id_compensation_agreements"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f(f"pk_{t}")),
        sa.UniqueConstraint("agreement_id", "period", name="uq_compensation_settlements_period"),
    )


def _claims() -> None:
    t = "compensation_claims"
    op.create_table(
        t,
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("settlement_id", sa.Integer(), nullable=False),
        sa.Column("agreement_id", sa.Integer(), nullable=False),
        sa.Column("debtor", sa.String(length=32), nullable=False),
        sa.Column("creditor", sa.String(length=32), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("paid", sa.BigInteger(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        _ck(t, "amount_positive", "amount > 0"),
        _ck(t, "paid_in_range", "paid >= 0 AND paid <= amount"),
        sa.ForeignKeyConstraint(
            ["agreement_id"],
            ["compensation_agreements.id"],
            name=op.f(f"fk_{t}_agreement_id_compensation_agreements"),
        ),
        sa.ForeignKeyConstraint(
            ["settlement_id"],
            ["compensation_settlements.id"],
            name=op.f(f"fk_{t}_settlement_id_compensation_settlements"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f(f"pk_{t}")),
        sa.UniqueConstraint("settlement_id", name=op.f(f"uq_{t}_settlement_id")),
    )
    op.create_index(op.f(f"ix_{t}_agreement_id"), t, ["agreement_id"], unique=False)


def upgrade() -> None:
    _agreements()
    _readings()
    _settlements()
    _claims()
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
    else:
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
    op.drop_table("compensation_claims")
    op.drop_table("compensation_settlements")
    op.drop_table("compensation_readings")
    op.drop_table("compensation_agreements")
