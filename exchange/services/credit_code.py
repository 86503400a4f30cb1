"""Unified social credit codes (统一社会信用代码, GB 32100-2015).

Eighteen characters from 0-9 and the upper-case letters without I, O, Z, S and V
(31 characters, valued 0-30 in that order). The last is a check character: with
the weights ``3**i mod 31`` of positions 1-17, ``31 - (sum of value x weight) mod 31``,
where 31 stands for 0 (FACTS.md, "Registry accounts"). Only the check character is
verified here; registration-authority and region codes are not looked up.
"""

from __future__ import annotations

CHARSET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
LENGTH = 18
_VALUE = {c: i for i, c in enumerate(CHARSET)}


def check_character(body: str) -> str:
    """The check character of the first 17 characters ``body`` (already valid characters)."""
    total = sum(_VALUE[c] * w for c, w in zip(body, WEIGHTS, strict=True))
    return CHARSET[(31 - total % 31) % 31]


def problem(code: str) -> str | None:
    """Why ``code`` is not a valid unified social credit code, or None if it is."""
    if len(code) != LENGTH:
        return f"a unified social credit code has {LENGTH} characters, not {len(code)}"
    bad = sorted({c for c in code if c not in _VALUE})
    if bad:
        return f"characters not allowed in a unified social credit code: {''.join(bad)}"
    if check_character(code[:-1]) != code[-1]:
        return "the check character (the 18th) does not match the first 17"
    return None


def is_valid(code: str) -> bool:
    """True for a well-formed code whose check character matches."""
    return problem(code) is None
