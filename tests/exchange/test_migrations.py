"""Migrations: every model change has a migration, and head builds the whole schema."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

import ledger.models
from exchange.db import make_engine
from exchange.models import Base


def test_head_matches_the_models(database_url: str) -> None:
    engine = make_engine(database_url)
    try:
        with engine.connect() as conn:
            context = MigrationContext.configure(conn, opts={"compare_type": True})
            diff = compare_metadata(context, [Base.metadata, ledger.models.LedgerBase.metadata])
    finally:
        engine.dispose()
    assert diff == [], f"models and migrations differ: {diff}"


def test_every_table_exists_at_head(database_url: str) -> None:
    engine = make_engine(database_url)
    try:
        tables = set(inspect(engine).get_table_names())
    finally:
        engine.dispose()
    expected = {t.name for t in Base.metadata.sorted_tables}
    expected |= {t.name for t in ledger.models.LedgerBase.metadata.sorted_tables}
    assert expected | {"alembic_version"} <= tables
