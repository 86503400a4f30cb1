"""Paging, stated once: pages count from 1, ``per_page`` rows each, newest or oldest first
as the caller orders its query."""

from __future__ import annotations

from typing import Any, TypeVar

DEFAULT_PER_PAGE = 50

Q = TypeVar("Q", bound=Any)


def first_row(page: int, per_page: int) -> int:
    """The offset of page ``page`` (from 1) of ``per_page`` rows."""
    return (max(page, 1) - 1) * per_page


def page_of(query: Q, page: int, per_page: int) -> Q:
    """``query`` limited to page ``page`` (from 1) of ``per_page`` rows."""
    return query.offset(first_row(page, per_page)).limit(per_page)
