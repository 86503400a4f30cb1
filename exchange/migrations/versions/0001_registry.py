"""registry: leagues, basins, markets

Revision ID: 0001
Revises:
Create Date: 2026-11-27 23:08:16.549565
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "basins",
        sa.Column("code", sa.String(length=32), nullable=False),
        sa.Column("name_zh", sa.String(length=64), nullable=False),
        sa.Column("name_en", sa.String(length=128), nullable=False),
        sa.PrimaryKeyConstraint("code", name=op.f("pk_basins")),
    )
    op.create_table(
        "leagues",
        sa.Column("code", sa.String(length=32), nullable=False),
        sa.Column("name_zh", sa.String(length=64), nullable=False),
        sa.Column("name_en", sa.String(length=128), nullable=False),
        sa.Column(
            "region",
            sa.Enum(
                "east",
                "central",
                "west",
                name="region",
                native_enum=False,
                create_constraint=True,
                length=16,
            ),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("code", name=op.f("pk_leagues")),
    )
    op.create_table(
        "league_basins",
        sa.Column("league_code", sa.String(length=32), nullable=False),
        sa.Column("basin_code", sa.String(length=32), nullable=False),
        sa.ForeignKeyConstraint(
            ["basin_code"], ["basins.code"], name=op.f("fk_league_basins_basin_code_basins")
        ),
        sa.ForeignKeyConstraint(
            ["league_code"],
            ["leagues.code"],
            name=op.f("fk_league_basins_league_code_leagues"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("league_code", "basin_code", name=op.f("pk_league_basins")),
    )
    op.create_table(
        "markets",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column("name_zh", sa.String(length=128), nullable=False),
        sa.Column("name_en", sa.String(length=200), nullable=False),
        sa.Column(
            "right_type",
            sa.Enum(
                "water",
                "pollutant",
                "carbon",
                "energy",
                name="right_type",
                native_enum=False,
                create_constraint=True,
                length=16,
            ),
            nullable=False,
        ),
        sa.Column(
            "pollutant",
            sa.Enum(
                "COD",
                "NH3-N",
                "SO2",
                "NOx",
                name="pollutant",
                native_enum=False,
                create_constraint=True,
                length=16,
            ),
            nullable=True,
        ),
        sa.Column("basin_code", sa.String(length=32), nullable=True),
        sa.Column("vintage", sa.String(length=32), nullable=False),
        sa.Column("unit", sa.String(length=16), nullable=False),
        sa.Column("lot", sa.BigInteger(), nullable=False),
        sa.Column("tick", sa.BigInteger(), nullable=False),
        sa.Column("price_floor", sa.BigInteger(), nullable=False),
        sa.Column("price_ceiling", sa.BigInteger(), nullable=True),
        sa.Column("cap", sa.BigInteger(), nullable=False),
        sa.Column("clearing_schedule", sa.String(length=120), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "open",
                "halted",
                "closed",
                name="market_status",
                native_enum=False,
                create_constraint=True,
                length=16,
            ),
            nullable=False,
        ),
        sa.Column("description", sa.String(length=2000), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "(right_type = 'pollutant') = (pollutant IS NOT NULL)",
            name=op.f("ck_markets_pollutant_iff_type"),
        ),
        sa.CheckConstraint("cap > 0", name=op.f("ck_markets_cap_positive")),
        sa.CheckConstraint("lot > 0", name=op.f("ck_markets_lot_positive")),
        sa.CheckConstraint(
            "price_ceiling IS NULL OR price_ceiling >= price_floor",
            name=op.f("ck_markets_ceiling_above_floor"),
        ),
        sa.CheckConstraint("price_floor >= 0", name=op.f("ck_markets_floor_non_negative")),
        sa.CheckConstraint("tick > 0", name=op.f("ck_markets_tick_positive")),
        sa.ForeignKeyConstraint(
            ["basin_code"], ["basins.code"], name=op.f("fk_markets_basin_code_basins")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_markets")),
        sa.UniqueConstraint("code", name=op.f("uq_markets_code")),
    )
    op.create_table(
        "market_leagues",
        sa.Column("market_id", sa.Integer(), nullable=False),
        sa.Column("league_code", sa.String(length=32), nullable=False),
        sa.Column("zone", sa.String(length=32), nullable=False),
        sa.ForeignKeyConstraint(
            ["league_code"], ["leagues.code"], name=op.f("fk_market_leagues_league_code_leagues")
        ),
        sa.ForeignKeyConstraint(
            ["market_id"],
            ["markets.id"],
            name=op.f("fk_market_leagues_market_id_markets"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("market_id", "league_code", name=op.f("pk_market_leagues")),
    )
    op.create_table(
        "transfer_limits",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("market_id", sa.Integer(), nullable=False),
        sa.Column("from_zone", sa.String(length=32), nullable=False),
        sa.Column("to_zone", sa.String(length=32), nullable=False),
        sa.Column("capacity", sa.BigInteger(), nullable=True),
        sa.CheckConstraint(
            "capacity IS NULL OR capacity >= 0",
            name=op.f("ck_transfer_limits_capacity_non_negative"),
        ),
        sa.CheckConstraint("from_zone <> to_zone", name=op.f("ck_transfer_limits_distinct_zones")),
        sa.ForeignKeyConstraint(
            ["market_id"],
            ["markets.id"],
            name=op.f("fk_transfer_limits_market_id_markets"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_transfer_limits")),
        sa.UniqueConstraint("market_id", "from_zone", "to_zone", name="uq_transfer_limits_link"),
    )


def downgrade() -> None:
    op.drop_table("transfer_limits")
    op.drop_table("market_leagues")
    op.drop_table("markets")
    op.drop_table("league_basins")
    op.drop_table("leagues")
    op.drop_table("basins")
