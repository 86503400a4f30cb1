"""compliance cycles: periods, figures, objections, monthly figures, surrenders, snapshots,
penalties and deductions; paid-use bills and payments (surrenders, snapshots, deductions and
payments append-only; penalties and bills too, but for what has been deducted or paid)

Revision ID: 0007_compliance
Revises: 0007_transfers
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

APPEND_ONLY = (
    "compliance_surrenders",
    "compliance_snapshots",
    "compliance_deductions",
    "paid_use_payments",
)
GUARDED = {
    "compliance_penalties": (
        "id", "period_id", "league_code", "shortfall", "fine", "price", "journal_id",
        "deduction", "created_at",
    ),
    "paid_use_bills": (
        "id", "league_code", "market_id", "quantity", "years", "fee_per_t_year", "amount",
        "instalments", "allocation_journal_id", "claim_journal_id", "issued_on", "expires_on",
        "created_at",
    ),
}  # fmt: skip

revision = "0007_compliance"
down_revision = "0007_transfers"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "compliance_periods",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("market_family", sa.String(length=64), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("market_id", sa.Integer(), nullable=False),
        sa.Column("offset_market_id", sa.Integer(), nullable=True),
        sa.Column("reporting_deadline", sa.Date(), nullable=False),
        sa.Column("verification_deadline", sa.Date(), nullable=False),
        sa.Column("surrender_deadline", sa.Date(), nullable=False),
        sa.Column("objection_days", sa.Integer(), nullable=False),
        sa.Column("decision_days", sa.Integer(), nullable=False),
        sa.Column("offset_percent", sa.Integer(), nullable=False),
        sa.Column("penalty_fixed", sa.BigInteger(), nullable=False),
        sa.Column("penalty_price_multiple", sa.Integer(), nullable=False),
        sa.Column("deduct_shortfall", sa.Boolean(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("closed_as_of", sa.Date(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "status IN ('open', 'closed')", name=op.f("ck_compliance_periods_status_known")
        ),
        sa.CheckConstraint(
            "offset_percent BETWEEN 0 AND 100",
            name=op.f("ck_compliance_periods_offset_percent_range"),
        ),
        sa.CheckConstraint(
            "penalty_fixed >= 0", name=op.f("ck_compliance_periods_penalty_fixed_non_negative")
        ),
        sa.CheckConstraint(
            "penalty_price_multiple >= 0",
            name=op.f("ck_compliance_periods_penalty_multiple_non_negative"),
        ),
        sa.ForeignKeyConstraint(
            ["market_id"], ["markets.id"], name=op.f("fk_compliance_periods_market_id_markets")
        ),
        sa.ForeignKeyConstraint(
            ["offset_market_id"],
            ["markets.id"],
            name=op.f("fk_compliance_periods_offset_market_id_markets"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_compliance_periods")),
        sa.UniqueConstraint("market_family", "year", name="uq_compliance_periods_family_year"),
    )
    op.create_table(
        "compliance_figures",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("period_id", sa.Integer(), nullable=False),
        sa.Column("league_code", sa.String(length=32), nullable=False),
        sa.Column("verified", sa.BigInteger(), nullable=True),
        sa.Column("excluded", sa.Boolean(), nullable=False),
        sa.Column("evidence", sa.String(length=500), nullable=False),
        sa.Column("entered_on", sa.Date(), nullable=False),
        sa.Column("entered_by", sa.String(length=64), nullable=False),
        sa.Column("final", sa.Boolean(), nullable=False),
        sa.CheckConstraint(
            "verified IS NULL OR verified >= 0",
            name=op.f("ck_compliance_figures_verified_non_negative"),
        ),
        sa.ForeignKeyConstraint(
            ["league_code"],
            ["leagues.code"],
            name=op.f("fk_compliance_figures_league_code_leagues"),
        ),
        sa.ForeignKeyConstraint(
            ["period_id"],
            ["compliance_periods.id"],
            name=op.f("fk_compliance_figures_period_id_compliance_periods"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_compliance_figures")),
        sa.UniqueConstraint("period_id", "league_code", name="uq_compliance_figures_period_league"),
    )
    op.create_table(
        "compliance_monthly",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("period_id", sa.Integer(), nullable=False),
        sa.Column("league_code", sa.String(length=32), nullable=False),
        sa.Column("month", sa.Integer(), nullable=False),
        sa.Column("quantity", sa.BigInteger(), nullable=False),
        sa.Column("reported_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "month BETWEEN 1 AND 12", name=op.f("ck_compliance_monthly_month_range")
        ),
        sa.CheckConstraint(
            "quantity >= 0", name=op.f("ck_compliance_monthly_quantity_non_negative")
        ),
        sa.ForeignKeyConstraint(
            ["league_code"],
            ["leagues.code"],
            name=op.f("fk_compliance_monthly_league_code_leagues"),
        ),
        sa.ForeignKeyConstraint(
            ["period_id"],
            ["compliance_periods.id"],
            name=op.f("fk_compliance_monthly_period_id_compliance_periods"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_compliance_monthly")),
        sa.UniqueConstraint("period_id", "league_code", "month", name="uq_compliance_monthly_key"),
    )
    op.create_table(
        "compliance_penalties",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("period_id", sa.Integer(), nullable=False),
        sa.Column("league_code", sa.String(length=32), nullable=False),
        sa.Column("shortfall", sa.BigInteger(), nullable=False),
        sa.Column("fine", sa.BigInteger(), nullable=False),
        sa.Column("price", sa.BigInteger(), nullable=False),
        sa.Column("journal_id", sa.BigInteger(), nullable=True),
        sa.Column("deduction", sa.BigInteger(), nullable=False),
        sa.Column("deducted", sa.BigInteger(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "deducted BETWEEN 0 AND deduction", name=op.f("ck_compliance_penalties_deducted_range")
        ),
        sa.ForeignKeyConstraint(
            ["league_code"],
            ["leagues.code"],
            name=op.f("fk_compliance_penalties_league_code_leagues"),
        ),
        sa.ForeignKeyConstraint(
            ["period_id"],
            ["compliance_periods.id"],
            name=op.f("fk_compliance_penalties_period_id_compliance_periods"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_compliance_penalties")),
        sa.UniqueConstraint("period_id", "league_code", name="uq_compliance_penalties_key"),
    )
    op.create_table(
        "compliance_snapshots",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("period_id", sa.Integer(), nullable=False),
        sa.Column("league_code", sa.String(length=32), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("verified", sa.BigInteger(), nullable=True),
        sa.Column("surrendered", sa.BigInteger(), nullable=False),
        sa.Column("offsets", sa.BigInteger(), nullable=False),
        sa.Column("shortfall", sa.BigInteger(), nullable=False),
        sa.Column("as_of", sa.Date(), nullable=False),
        sa.Column("taken_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["league_code"],
            ["leagues.code"],
            name=op.f("fk_compliance_snapshots_league_code_leagues"),
        ),
        sa.ForeignKeyConstraint(
            ["period_id"],
            ["compliance_periods.id"],
            name=op.f("fk_compliance_snapshots_period_id_compliance_periods"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_compliance_snapshots")),
        sa.UniqueConstraint("period_id", "league_code", name="uq_compliance_snapshots_key"),
    )
    op.create_table(
        "compliance_surrenders",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("period_id", sa.Integer(), nullable=False),
        sa.Column("league_code", sa.String(length=32), nullable=False),
        sa.Column("quantity", sa.BigInteger(), nullable=False),
        sa.Column("offsets", sa.BigInteger(), nullable=False),
        sa.Column("client_ref", sa.String(length=64), nullable=False),
        sa.Column("journal_id", sa.BigInteger(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "quantity + offsets > 0", name=op.f("ck_compliance_surrenders_amounts_positive")
        ),
        sa.CheckConstraint(
            "quantity >= 0 AND offsets >= 0",
            name=op.f("ck_compliance_surrenders_amounts_non_negative"),
        ),
        sa.ForeignKeyConstraint(
            ["league_code"],
            ["leagues.code"],
            name=op.f("fk_compliance_surrenders_league_code_leagues"),
        ),
        sa.ForeignKeyConstraint(
            ["period_id"],
            ["compliance_periods.id"],
            name=op.f("fk_compliance_surrenders_period_id_compliance_periods"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_compliance_surrenders")),
        sa.UniqueConstraint(
            "period_id", "league_code", "client_ref", name="uq_compliance_surrenders_client_ref"
        ),
    )
    op.create_table(
        "compliance_deductions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("penalty_id", sa.Integer(), nullable=False),
        sa.Column("market_id", sa.Integer(), nullable=False),
        sa.Column("quantity", sa.BigInteger(), nullable=False),
        sa.Column("journal_id", sa.BigInteger(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["market_id"], ["markets.id"], name=op.f("fk_compliance_deductions_market_id_markets")
        ),
        sa.ForeignKeyConstraint(
            ["penalty_id"],
            ["compliance_penalties.id"],
            name=op.f("fk_compliance_deductions_penalty_id_compliance_penalties"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_compliance_deductions")),
    )
    op.create_table(
        "compliance_objections",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("figure_id", sa.Integer(), nullable=False),
        sa.Column("league_code", sa.String(length=32), nullable=False),
        sa.Column("reason", sa.String(length=1000), nullable=False),
        sa.Column("proposed", sa.BigInteger(), nullable=True),
        sa.Column("filed_on", sa.Date(), nullable=False),
        sa.Column("decision", sa.String(length=16), nullable=True),
        sa.Column("decided_on", sa.Date(), nullable=True),
        sa.Column("decided_by", sa.String(length=64), nullable=True),
        sa.CheckConstraint(
            "decision IS NULL OR decision IN ('accepted', 'rejected')",
            name=op.f("ck_compliance_objections_decision_known"),
        ),
        sa.ForeignKeyConstraint(
            ["figure_id"],
            ["compliance_figures.id"],
            name=op.f("fk_compliance_objections_figure_id_compliance_figures"),
        ),
        sa.ForeignKeyConstraint(
            ["league_code"],
            ["leagues.code"],
            name=op.f("fk_compliance_objections_league_code_leagues"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_compliance_objections")),
        sa.UniqueConstraint("figure_id", name="uq_compliance_objections_figure_id"),
    )

    op.create_table(
        "paid_use_bills",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("league_code", sa.String(length=32), nullable=False),
        sa.Column("market_id", sa.Integer(), nullable=False),
        sa.Column("quantity", sa.BigInteger(), nullable=False),
        sa.Column("years", sa.Integer(), nullable=False),
        sa.Column("fee_per_t_year", sa.BigInteger(), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("instalments", sa.Boolean(), nullable=False),
        sa.Column("allocation_journal_id", sa.BigInteger(), nullable=False),
        sa.Column("claim_journal_id", sa.BigInteger(), nullable=False),
        sa.Column("issued_on", sa.Date(), nullable=False),
        sa.Column("expires_on", sa.Date(), nullable=False),
        sa.Column("paid", sa.BigInteger(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("amount > 0", name=op.f("ck_paid_use_bills_amount_positive")),
        sa.CheckConstraint("paid BETWEEN 0 AND amount", name=op.f("ck_paid_use_bills_paid_range")),
        sa.ForeignKeyConstraint(
            ["league_code"], ["leagues.code"], name=op.f("fk_paid_use_bills_league_code_leagues")
        ),
        sa.ForeignKeyConstraint(
            ["market_id"], ["markets.id"], name=op.f("fk_paid_use_bills_market_id_markets")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_paid_use_bills")),
    )
    op.create_table(
        "paid_use_payments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("bill_id", sa.Integer(), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("client_ref", sa.String(length=64), nullable=False),
        sa.Column("journal_id", sa.BigInteger(), nullable=False),
        sa.Column("paid_on", sa.Date(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("amount > 0", name=op.f("ck_paid_use_payments_amount_positive")),
        sa.ForeignKeyConstraint(
            ["bill_id"],
            ["paid_use_bills.id"],
            name=op.f("fk_paid_use_payments_bill_id_paid_use_bills"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_paid_use_payments")),
        sa.UniqueConstraint("bill_id", "client_ref", name="uq_paid_use_payments_client_ref"),
    )
    _create_triggers()


def downgrade() -> None:
    _drop_triggers()
    op.drop_table("paid_use_payments")
    op.drop_table("paid_use_bills")
    op.drop_table("compliance_objections")
    op.drop_table("compliance_deductions")
    op.drop_table("compliance_surrenders")
    op.drop_table("compliance_snapshots")
    op.drop_table("compliance_penalties")
    op.drop_table("compliance_monthly")
    op.drop_table("compliance_figures")
    op.drop_table("compliance_periods")


def _refuse(table: str, operation: str) -> str:
    return (
        f"BEGIN SELECT RAISE(ABORT, 'compliance table {table} is append-only: "
        f"{operation} refused'); END"
    )


def _create_triggers() -> None:
    if op.get_bind().dialect.name == "postgresql":
        # ledger_refuse_change() comes from 0002_ledger
        for table in (*APPEND_ONLY, *GUARDED):
            op.execute(
                f"CREATE TRIGGER {table}_no_delete BEFORE DELETE ON {table} "
                "FOR EACH ROW EXECUTE FUNCTION ledger_refuse_change()"
            )
            op.execute(
                f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
                "FOR EACH STATEMENT EXECUTE FUNCTION ledger_refuse_change()"
            )
        for table in APPEND_ONLY:
            op.execute(
                f"CREATE TRIGGER {table}_no_update BEFORE UPDATE ON {table} "
                "FOR EACH ROW EXECUTE FUNCTION ledger_refuse_change()"
            )
        for table, frozen in GUARDED.items():
            condition = " OR ".join(f"NEW.{c} IS DISTINCT FROM OLD.{c}" for c in frozen)
            op.execute(
                f"CREATE TRIGGER {table}_no_update BEFORE UPDATE ON {table} "
                f"FOR EACH ROW WHEN ({condition}) EXECUTE FUNCTION ledger_refuse_change()"
            )
        return
    for table in (*APPEND_ONLY, *GUARDED):
        op.execute(
            f"CREATE TRIGGER {table}_no_delete BEFORE DELETE ON {table} " + _refuse(table, "DELETE")
        )
    for table in APPEND_ONLY:
        op.execute(
            f"CREATE TRIGGER {table}_no_update BEFORE UPDATE ON {table} " + _refuse(table, "UPDATE")
        )
    for table, frozen in GUARDED.items():
        condition = " OR ".join(f"NEW.{c} IS NOT OLD.{c}" for c in frozen)
        op.execute(
            f"CREATE TRIGGER {table}_no_update BEFORE UPDATE ON {table} WHEN {condition} "
            + _refuse(table, "UPDATE")
        )


def _drop_triggers() -> None:
    postgresql = op.get_bind().dialect.name == "postgresql"
    for table in (*APPEND_ONLY, *GUARDED):
        names = ["no_delete", "no_update"] + (["no_truncate"] if postgresql else [])
        for name in names:
            op.execute(
                f"DROP TRIGGER IF EXISTS {table}_{name}" + (f" ON {table}" if postgresql else "")
            )
