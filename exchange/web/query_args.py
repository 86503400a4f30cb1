"""Whole numbers from a page's query string (ids, page numbers), never a 500.

``int("9" * 5000)`` raises (Python's digit limit) and a 20-digit id overflows
the database's integers: both were 500s. Here the text is checked first.
"""

from __future__ import annotations

from flask import request

from exchange.errors import InvalidInput

MAX_DIGITS = 10
MAX_ID = 2**31 - 1  # ids are 32-bit integers in every table the pages filter on


def parse_int(raw: str, low: int, high: int) -> int | None:
    """``raw`` as an int in ``[low, high]``, or None (not ASCII digits, too long, out of range)."""
    raw = raw.strip()
    if not raw or len(raw) > MAX_DIGITS or not raw.isascii() or not raw.isdigit():
        return None
    value = int(raw)
    return value if low <= value <= high else None


def page_arg(name: str = "page") -> int:
    """The page number of the query string; 1 if absent or not a sensible number."""
    return parse_int(request.args.get(name, "1"), 1, 10**9) or 1


def id_arg(name: str) -> int | None:
    """An optional id of the query string; ``InvalidInput`` (422) naming it if malformed."""
    raw = request.args.get(name, "")
    if not raw.strip():
        return None
    value = parse_int(raw, 1, MAX_ID)
    if value is None:
        raise InvalidInput(f"{name}: {raw[:40]!r} is not an id", field=name)
    return value
