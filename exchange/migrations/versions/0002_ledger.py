"""ledger: accounts, chains, journals, holds, postings and the append-only triggers

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-27

Append-only in the database: journals and postings refuse UPDATE and DELETE
(and TRUNCATE on PostgreSQL). Accounts, holds and chain heads refuse DELETE
(and TRUNCATE) and allow UPDATE of their one derived column only: the balance,
the remaining amount of a hold, and the chain head (which only moves forward).
Those derived values are re-checked against the postings by ``ledger.verify``.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")

APPEND_ONLY = ("ledger_journals", "ledger_postings")
# table -> (frozen columns, extra condition refusing an update)
GUARDED = {
    "ledger_accounts": (("id", "kind", "owner", "asset", "created_at"), None),
    "ledger_holds": (
        ("id", "main_account_id", "escrow_account_id", "amount", "reference", "created_at"),
        None,
    ),
    "ledger_chains": (("name",), "NEW.seq < OLD.seq"),
}


def upgrade() -> None:
    op.create_table(
        "ledger_accounts",
        sa.Column("id", BIG_ID, nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("owner", sa.String(length=64), nullable=False),
        sa.Column("asset", sa.String(length=64), nullable=False),
        sa.Column("balance", sa.BigInteger(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "balance >= 0 OR kind = 'issuance'",
            name=op.f("ck_ledger_accounts_balance_non_negative"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ledger_accounts")),
        sa.UniqueConstraint("kind", "owner", "asset", name="uq_ledger_accounts_key"),
    )
    op.create_index(op.f("ix_ledger_accounts_asset"), "ledger_accounts", ["asset"], unique=False)
    op.create_table(
        "ledger_chains",
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("head_hash", sa.String(length=64), nullable=False),
        sa.CheckConstraint("seq >= 0", name=op.f("ck_ledger_chains_seq_non_negative")),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_ledger_chains")),
    )
    op.create_table(
        "ledger_journals",
        sa.Column("id", BIG_ID, nullable=False),
        sa.Column("chain", sa.String(length=64), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("reference", sa.String(length=128), nullable=False),
        sa.Column("actor", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("prev_hash", sa.String(length=64), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.CheckConstraint("seq >= 1", name=op.f("ck_ledger_journals_seq_positive")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ledger_journals")),
        sa.UniqueConstraint("chain", "seq", name="uq_ledger_journals_chain_seq"),
    )
    op.create_index(
        "ix_ledger_journals_created_at", "ledger_journals", ["created_at"], unique=False
    )
    op.create_index("ix_ledger_journals_reference", "ledger_journals", ["reference"], unique=False)
    op.create_table(
        "ledger_holds",
        sa.Column("id", BIG_ID, nullable=False),
        sa.Column("main_account_id", sa.BigInteger(), nullable=False),
        sa.Column("escrow_account_id", sa.BigInteger(), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("remaining", sa.BigInteger(), nullable=False),
        sa.Column("reference", sa.String(length=128), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("amount > 0", name=op.f("ck_ledger_holds_amount_positive")),
        sa.CheckConstraint(
            "remaining >= 0 AND remaining <= amount",
            name=op.f("ck_ledger_holds_remaining_in_range"),
        ),
        sa.ForeignKeyConstraint(
            ["escrow_account_id"],
            ["ledger_accounts.id"],
            name=op.f("fk_ledger_holds_escrow_account_id_ledger_accounts"),
        ),
        sa.ForeignKeyConstraint(
            ["main_account_id"],
            ["ledger_accounts.id"],
            name=op.f("fk_ledger_holds_main_account_id_ledger_accounts"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ledger_holds")),
    )
    op.create_index("ix_ledger_holds_reference", "ledger_holds", ["reference"], unique=False)
    op.create_table(
        "ledger_postings",
        sa.Column("id", BIG_ID, nullable=False),
        sa.Column("journal_id", sa.BigInteger(), nullable=False),
        sa.Column("account_id", sa.BigInteger(), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("hold_id", sa.BigInteger(), nullable=True),
        sa.CheckConstraint("amount <> 0", name=op.f("ck_ledger_postings_amount_non_zero")),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["ledger_accounts.id"],
            name=op.f("fk_ledger_postings_account_id_ledger_accounts"),
        ),
        sa.ForeignKeyConstraint(
            ["hold_id"],
            ["ledger_holds.id"],
            name=op.f("fk_ledger_postings_hold_id_ledger_holds"),
        ),
        sa.ForeignKeyConstraint(
            ["journal_id"],
            ["ledger_journals.id"],
            name=op.f("fk_ledger_postings_journal_id_ledger_journals"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ledger_postings")),
    )
    op.create_index(
        "ix_ledger_postings_account_journal",
        "ledger_postings",
        ["account_id", "journal_id"],
        unique=False,
    )
    op.create_index(
        op.f("ix_ledger_postings_hold_id"), "ledger_postings", ["hold_id"], unique=False
    )
    op.create_index(
        op.f("ix_ledger_postings_journal_id"), "ledger_postings", ["journal_id"], unique=False
    )
    _create_triggers()


def downgrade() -> None:
    _drop_triggers()
    op.drop_index(op.f("ix_ledger_postings_journal_id"), table_name="ledger_postings")
    op.drop_index(op.f("ix_ledger_postings_hold_id"), table_name="ledger_postings")
    op.drop_index("ix_ledger_postings_account_journal", table_name="ledger_postings")
    op.drop_table("ledger_postings")
    op.drop_index("ix_ledger_holds_reference", table_name="ledger_holds")
    op.drop_table("ledger_holds")
    op.drop_index("ix_ledger_journals_reference", table_name="ledger_journals")
    op.drop_index("ix_ledger_journals_created_at", table_name="ledger_journals")
    op.drop_table("ledger_journals")
    op.drop_table("ledger_chains")
    op.drop_index(op.f("ix_ledger_accounts_asset"), table_name="ledger_accounts")
    op.drop_table("ledger_accounts")


def _changed(columns: tuple[str, ...]) -> str:
    return " OR ".join(f"NEW.{c} IS DISTINCT FROM OLD.{c}" for c in columns)


def _create_triggers() -> None:
    if op.get_bind().dialect.name == "postgresql":
        _create_postgresql_triggers()
    else:
        _create_sqlite_triggers()


def _create_postgresql_triggers() -> None:
    op.execute(
        """
        CREATE FUNCTION ledger_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            RAISE EXCEPTION 'ledger table % is append-only: % refused', TG_TABLE_NAME, TG_OP
                USING ERRCODE = 'integrity_constraint_violation';
        END $$
        """
    )
    for table in APPEND_ONLY:
        op.execute(
            f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
            "FOR EACH ROW EXECUTE FUNCTION ledger_refuse_change()"
        )
        op.execute(
            f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
            "FOR EACH STATEMENT EXECUTE FUNCTION ledger_refuse_change()"
        )
    for table, (frozen, extra) in GUARDED.items():
        condition = _changed(frozen) + (f" OR {extra}" if extra else "")
        op.execute(
            f"CREATE TRIGGER {table}_frozen_columns BEFORE UPDATE ON {table} "
            f"FOR EACH ROW WHEN ({condition}) EXECUTE FUNCTION ledger_refuse_change()"
        )
        op.execute(
            f"CREATE TRIGGER {table}_no_delete BEFORE DELETE ON {table} "
            "FOR EACH ROW EXECUTE FUNCTION ledger_refuse_change()"
        )
        op.execute(
            f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
            "FOR EACH STATEMENT EXECUTE FUNCTION ledger_refuse_change()"
        )


def _create_sqlite_triggers() -> None:
    for table in APPEND_ONLY:
        for operation in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER {table}_no_{operation.lower()} BEFORE {operation} ON {table} "
                f"BEGIN SELECT RAISE(ABORT, 'ledger table {table} is append-only: "
                f"{operation} refused'); END"
            )
    for table, (frozen, extra) in GUARDED.items():
        condition = " OR ".join(f"NEW.{c} IS NOT OLD.{c}" for c in frozen)
        if extra:
            condition += f" OR {extra}"
        op.execute(
            f"CREATE TRIGGER {table}_frozen_columns BEFORE UPDATE ON {table} "
            f"WHEN {condition} "
            f"BEGIN SELECT RAISE(ABORT, 'ledger table {table}: only its derived column "
            "may change'); END"
        )
        op.execute(
            f"CREATE TRIGGER {table}_no_delete BEFORE DELETE ON {table} "
            f"BEGIN SELECT RAISE(ABORT, 'ledger table {table} is append-only: "
            "DELETE refused'); END"
        )


def _drop_triggers() -> None:
    postgresql = op.get_bind().dialect.name == "postgresql"
    names: list[tuple[str, str]] = []
    for table in APPEND_ONLY:
        if postgresql:
            names += [(table, f"{table}_append_only"), (table, f"{table}_no_truncate")]
        else:
            names += [(table, f"{table}_no_update"), (table, f"{table}_no_delete")]
    for table in GUARDED:
        names += [(table, f"{table}_frozen_columns"), (table, f"{table}_no_delete")]
        if postgresql:
            names.append((table, f"{table}_no_truncate"))
    for table, name in names:
        op.execute(
            f"DROP TRIGGER IF EXISTS {name} ON {table}"
            if postgresql
            else (f"DROP TRIGGER IF EXISTS {name}")
        )
    if postgresql:
        op.execute("DROP FUNCTION IF EXISTS ledger_refuse_change()")
