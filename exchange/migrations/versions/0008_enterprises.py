"""enterprises: participants below the leagues, representatives, trusted lists, instructions

Revision ID: 0008_enterprises
Revises: 0007_continuous
Create Date: 2026-11-30

``leagues`` (every participant) gets a parent league, a sector, a unified social credit
code, a state and a synthetic flag; ``users`` a representative's enterprise and rights,
and the role ``representative``. SQLite cannot alter a CHECK constraint, and rebuilding
``users`` would cascade-delete every API token (``DROP TABLE`` runs the foreign keys'
``ON DELETE CASCADE``), so on SQLite the table's stored definition is edited in place
(SQLite's documented ``writable_schema`` procedure for changes that leave the stored rows
valid: the new constraints accept every existing row).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008_enterprises"
down_revision = "0008_bundles"
branch_labels = None
depends_on = None

OLD_ROLES = "'league', 'regulator', 'auditor', 'admin'"
NEW_ROLES = "'league', 'regulator', 'auditor', 'admin', 'representative'"
REPRESENTATIVE_CHECK = (
    "(role = 'representative') = (participant_code IS NOT NULL AND rights IS NOT NULL)"
)
SQLITE_CHECK = f"CONSTRAINT ck_users_participant_iff_representative CHECK ({REPRESENTATIVE_CHECK})"
LEAGUE_COLUMNS = ("synthetic", "status_reason", "status", "credit_code", "sector", "parent_code")


def _sqlite_edit(table: str, replacements: dict[str, str], extra: str | None = None) -> None:
    """Rewrite the stored ``CREATE TABLE`` of ``table`` (SQLite only), in the caller's
    transaction: each ``replacements`` key (which must occur) by its value, and ``extra``
    appended as a table constraint."""
    bind = op.get_bind()
    sql = bind.exec_driver_sql(
        "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = ?", (table,)
    ).scalar_one()
    for old, new in replacements.items():
        assert old in sql, f"unexpected definition of {table}: no {old!r}"
        sql = sql.replace(old, new)
    if extra is not None:
        sql = sql.rstrip()[:-1].rstrip() + f",\n\t{extra}\n)"
    version = bind.exec_driver_sql("PRAGMA schema_version").scalar_one()
    bind.exec_driver_sql("PRAGMA writable_schema=ON")
    bind.exec_driver_sql(
        "UPDATE sqlite_master SET sql = ? WHERE type = 'table' AND name = ?", (sql, table)
    )
    bind.exec_driver_sql(f"PRAGMA schema_version={int(version) + 1}")
    bind.exec_driver_sql("PRAGMA writable_schema=OFF")


def _reference(table: str, column: str) -> str:
    """How SQLite stores the inline reference :func:`_add_reference` adds."""
    return f" CONSTRAINT fk_{table}_{column}_leagues REFERENCES leagues (code)"


def _add_reference(table: str, column: str, sqlite: bool) -> None:
    """A nullable column referring to a participant (SQLite adds the reference inline)."""
    name = f"fk_{table}_{column}_leagues"
    if sqlite:
        op.execute(
            f"ALTER TABLE {table} ADD COLUMN {column} VARCHAR(32) "
            f"CONSTRAINT {name} REFERENCES leagues (code)"
        )
        return
    op.add_column(table, sa.Column(column, sa.String(length=32), nullable=True))
    op.create_foreign_key(name, table, "leagues", [column], ["code"])


def upgrade() -> None:
    sqlite = op.get_bind().dialect.name == "sqlite"
    _add_reference("leagues", "parent_code", sqlite)
    op.add_column("leagues", sa.Column("sector", sa.String(length=32), nullable=True))
    op.add_column("leagues", sa.Column("credit_code", sa.String(length=18), nullable=True))
    op.add_column(
        "leagues", sa.Column("status", sa.String(length=16), server_default="open", nullable=False)
    )
    op.add_column("leagues", sa.Column("status_reason", sa.String(length=500), nullable=True))
    op.add_column(
        "leagues",
        sa.Column("synthetic", sa.Boolean(), server_default=sa.false(), nullable=False),
    )
    op.create_index(op.f("ix_leagues_parent_code"), "leagues", ["parent_code"])
    op.create_index(op.f("ix_leagues_credit_code"), "leagues", ["credit_code"], unique=True)
    _add_reference("users", "participant_code", sqlite)
    op.add_column("users", sa.Column("rights", sa.String(length=24), nullable=True))
    if sqlite:
        _sqlite_edit("users", {OLD_ROLES: NEW_ROLES}, SQLITE_CHECK)
    else:
        op.drop_constraint("user_role", "users", type_="check")
        op.create_check_constraint("user_role", "users", f"role IN ({NEW_ROLES})")
        op.create_check_constraint(
            "ck_users_participant_iff_representative", "users", REPRESENTATIVE_CHECK
        )
    op.create_table(
        "trusted_accounts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("participant_code", sa.String(length=32), nullable=False),
        sa.Column("trusted_code", sa.String(length=32), nullable=False),
        sa.Column("added_by", sa.String(length=64), nullable=False),
        sa.Column("added_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("effective_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("removed_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["participant_code"],
            ["leagues.code"],
            name=op.f("fk_trusted_accounts_participant_code_leagues"),
        ),
        sa.ForeignKeyConstraint(
            ["trusted_code"],
            ["leagues.code"],
            name=op.f("fk_trusted_accounts_trusted_code_leagues"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_trusted_accounts")),
    )
    op.create_index(
        "ix_trusted_accounts_pair", "trusted_accounts", ["participant_code", "trusted_code"]
    )
    op.create_table(
        "instructions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("participant_code", sa.String(length=32), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("initiated_by", sa.String(length=64), nullable=False),
        sa.Column("decided_by", sa.String(length=64), nullable=True),
        sa.Column("result", sa.String(length=64), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["participant_code"],
            ["leagues.code"],
            name=op.f("fk_instructions_participant_code_leagues"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_instructions")),
        sa.UniqueConstraint("participant_code", "id", name="uq_instructions_owner"),
    )
    op.create_index(op.f("ix_instructions_participant_code"), "instructions", ["participant_code"])


def downgrade() -> None:
    """Back to 0007: representatives are deleted (with their tokens); enterprises stay as
    rows of kind ``enterprise`` without their new columns."""
    sqlite = op.get_bind().dialect.name == "sqlite"
    op.drop_index(op.f("ix_instructions_participant_code"), table_name="instructions")
    op.drop_table("instructions")
    op.drop_index("ix_trusted_accounts_pair", table_name="trusted_accounts")
    op.drop_table("trusted_accounts")
    op.execute("DELETE FROM users WHERE role = 'representative'")
    op.drop_index(op.f("ix_leagues_credit_code"), table_name="leagues")
    op.drop_index(op.f("ix_leagues_parent_code"), table_name="leagues")
    if sqlite:  # SQLite drops no column that a constraint names: edit those out first
        _sqlite_edit(
            "users",
            {
                NEW_ROLES: OLD_ROLES,
                f",\n\t{SQLITE_CHECK}": "",
                _reference("users", "participant_code"): "",
            },
        )
        _sqlite_edit("leagues", {_reference("leagues", "parent_code"): ""})
    else:
        op.drop_constraint("ck_users_participant_iff_representative", "users", type_="check")
        op.drop_constraint("user_role", "users", type_="check")
        op.create_check_constraint("user_role", "users", f"role IN ({OLD_ROLES})")
    for column in ("rights", "participant_code"):
        op.execute(f"ALTER TABLE users DROP COLUMN {column}")
    for column in LEAGUE_COLUMNS:
        op.execute(f"ALTER TABLE leagues DROP COLUMN {column}")
