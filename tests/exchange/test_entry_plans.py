"""Order entry's statement keeps its plan as the orders table grows (PostgreSQL).

psycopg prepares a statement on its sixth run and PostgreSQL then keeps a generic plan,
made with the statistics of that moment. On a new database the orders table is empty then,
and the plan kept used a league-only index to find an earlier ``client_order_id`` and the
crossing live orders: every entry read the league's whole history of orders until
autovacuum's first ANALYZE. Here the generic plan of the real entry statement, made on an
empty table, must find both by the index made for each, the crossing orders with no sort.
"""

from __future__ import annotations

import re
from typing import Any

import pytest

from exchange.db import make_engine
from exchange.models.trading import Side
from exchange.services.orders import _entry_statement
from tests.conftest import PG_URL


def _generic_plan(conn: Any, sql: str, params: dict[str, Any]) -> str:
    """EXPLAIN of ``sql`` (psycopg's ``%(name)s`` placeholders) as a generic plan."""
    names: list[str] = []

    def number(match: re.Match[str]) -> str:
        if match.group(1) not in names:
            names.append(match.group(1))
        return f"${names.index(match.group(1)) + 1}"

    numbered = re.sub(r"%\((\w+)\)s", number, sql)
    arguments = ", ".join(f"'{params[name]}'" for name in names)
    with conn.cursor() as cursor:
        cursor.execute(f"PREPARE entry AS {numbered}")
        cursor.execute("SET LOCAL plan_cache_mode = force_generic_plan")
        cursor.execute(f"EXPLAIN EXECUTE entry({arguments})")
        plan = "\n".join(row[0] for row in cursor.fetchall())
        cursor.execute("DEALLOCATE entry")
    return plan


@pytest.mark.parametrize("side", [Side.BUY, Side.SELL])
def test_entry_finds_orders_by_their_own_indexes_on_an_empty_table(
    database_url: str, side: Side
) -> None:
    if not PG_URL:
        pytest.skip("PostgreSQL's plan cache (SQLite plans every statement anew)")
    statement = _entry_statement(side, True)
    params = {
        **statement.constants,
        "league": "ordos",
        "market_id": 1,
        "price": 9000,
        "client_order_id": "c-1",
    }
    engine = make_engine(database_url)
    try:
        with engine.connect() as connection:
            conn = connection.connection.driver_connection
            plan = _generic_plan(conn, statement.sql, params)
            conn.rollback()
    finally:
        engine.dispose()
    by_client_id = "uq_orders_client_order_id on orders"
    assert by_client_id in plan, plan
    other_side = "sells" if side is Side.BUY else "buys"
    assert f"ix_orders_live_{other_side} on orders" in plan, plan
    # Most aggressive first straight from the index: no other index could serve it without
    # a sort, which is what makes the plan independent of the table's statistics.
    assert "Sort" not in plan, plan
    assert "ix_orders_book" not in plan, plan
    # The client_order_id lookup uses both key columns, filtering nothing afterwards.
    assert "Filter" not in plan.split(by_client_id)[1].split("->")[0], plan
