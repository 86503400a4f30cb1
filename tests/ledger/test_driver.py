"""The driver path's array literals: PostgreSQL reads back exactly the values written."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from exchange.db import make_engine
from ledger.driver import array_literal
from tests.conftest import PG_URL


def test_array_literal_quotes_and_escapes() -> None:
    at = datetime(2026, 11, 30, 8, 5, 1, 250, tzinfo=UTC)
    assert array_literal([]) == "{}"
    assert array_literal([1, -2, None]) == "{1,-2,NULL}"
    assert array_literal(['a"b', "c\\d", "NULL", "{,}"]) == '{"a\\"b","c\\\\d","NULL","{,}"}'
    assert array_literal([at]) == '{"2026-11-30T08:05:01.000250+00:00"}'


@pytest.mark.parametrize("bad", [[True], [1.5], [datetime(2026, 1, 1)], [b"x"]])
def test_array_literal_refuses_what_it_cannot_write_exactly(bad: list[Any]) -> None:
    with pytest.raises((TypeError, ValueError)):
        array_literal(bad)


texts = st.lists(
    st.one_of(
        st.none(), st.text(st.characters(exclude_categories=("Cs",), exclude_characters="\x00"))
    )
)
integers = st.lists(st.one_of(st.none(), st.integers(-(2**63), 2**63 - 1)))
moments = st.lists(
    st.datetimes(min_value=datetime(1970, 1, 1), timezones=st.just(timezone(timedelta(hours=8))))
)


@pytest.fixture(scope="module")
def pg_connection() -> Any:
    if not PG_URL:
        pytest.skip("PostgreSQL reads the literals (SQLite has no arrays)")
    engine = make_engine(PG_URL)
    with engine.connect() as conn:
        yield conn.connection.driver_connection
    engine.dispose()


@settings(max_examples=150, deadline=None)
@given(words=texts, numbers=integers, times=moments)
def test_postgresql_reads_back_what_was_written(
    pg_connection: Any, words: list[str | None], numbers: list[int | None], times: list[datetime]
) -> None:
    row = pg_connection.execute(
        "SELECT CAST(%s AS VARCHAR[]), CAST(%s AS BIGINT[]), CAST(%s AS TIMESTAMPTZ[])",
        [array_literal(words), array_literal(numbers), array_literal(times)],
    ).fetchone()
    assert row == (words, numbers, times)
    pg_connection.rollback()
