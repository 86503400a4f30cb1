"""The system's reference namespaces: ledger references users may not choose.

Clearing settles under ``run:<id>/order:<id>``, holds are ``order:<id>`` (bundles: ``bundle:<id>``),
default references are ``allocation:``, ``deposit:`` and ``retirement:``,
compensation journals ``compensation:<agreement>/...``, and
ledger assets are ``market:<id>``. A reference a user supplies (retirement,
allocation, deposit, CSV upload) must not start with any of them, so nothing a
user writes can pass for the system's records. The list is stated here once.
"""

from __future__ import annotations

RESERVED_NAMESPACES: tuple[str, ...] = (
    "run:",
    "order:",
    "bundle:",
    "allocation:",
    "deposit:",
    "retirement:",
    "market:",
    "compensation:",
    "compliance:",
    "paid-use:",
)


def reserved_namespace(reference: str) -> str | None:
    """The reserved namespace ``reference`` starts with (any case, spaces ignored), or None."""
    folded = reference.strip().casefold()
    return next((ns for ns in RESERVED_NAMESPACES if folded.startswith(ns)), None)


def user_reference_error(reference: str) -> str | None:
    """Why a user may not supply ``reference``, or None if they may."""
    namespace = reserved_namespace(reference)
    if namespace is None:
        return None
    names = ", ".join(RESERVED_NAMESPACES)
    return f"reference: {namespace!r} is reserved for the system (reserved: {names})"
