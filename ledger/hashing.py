"""The canonical form of a journal and its SHA-256 hash (see docs/ledger.md).

The canonical form is UTF-8 text, lines joined by ``\\n`` (no trailing newline)::

    v1|<chain>|<seq>|<prev_hash>|<kind>|<reference>|<actor>|<created_at>
    <asset>|<account kind>|<account owner>|<amount>|<hold id or empty>
    ...

``created_at`` is ``YYYY-MM-DDTHH:MM:SS.ffffffZ`` (UTC, always six fractional
digits); integers are written in decimal with a leading ``-`` when negative;
the posting lines are sorted by code point (= by their UTF-8 bytes). No field
may contain ``|`` or a control character, so the form needs no escaping.
``hash = sha256(canonical form).hexdigest()``; the first journal of a chain has
``prev_hash`` = 64 zeros and every later one the ``hash`` of its predecessor.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from datetime import UTC, datetime

VERSION = "v1"
GENESIS = "0" * 64

# (asset, account kind, owner, amount, hold id or None)
PostingTuple = tuple[str, str, str, int, int | None]


def format_timestamp(value: datetime) -> str:
    """``2026-11-27T23:11:48.123456Z``: UTC, microseconds, always the same width."""
    if value.tzinfo is not UTC:
        value = value.astimezone(UTC)
    return value.isoformat(timespec="microseconds")[:26] + "Z"


def posting_line(asset: str, kind: str, owner: str, amount: int, hold_id: int | None) -> str:
    """One posting's line of the canonical form."""
    return f"{asset}|{kind}|{owner}|{amount}|{'' if hold_id is None else hold_id}"


def canonical_form(
    *,
    chain: str,
    seq: int,
    prev_hash: str,
    kind: str,
    reference: str,
    actor: str,
    created_at: str,
    posting_lines: Iterable[str],
) -> str:
    """The text that is hashed; ``created_at`` already formatted."""
    header = f"{VERSION}|{chain}|{seq}|{prev_hash}|{kind}|{reference}|{actor}|{created_at}"
    return "\n".join([header, *sorted(posting_lines)])


def journal_hash(
    *,
    chain: str,
    seq: int,
    prev_hash: str,
    kind: str,
    reference: str,
    actor: str,
    created_at: str,
    posting_lines: Iterable[str],
) -> str:
    """SHA-256 (hex) of the canonical form."""
    text = canonical_form(
        chain=chain,
        seq=seq,
        prev_hash=prev_hash,
        kind=kind,
        reference=reference,
        actor=actor,
        created_at=created_at,
        posting_lines=posting_lines,
    )
    return hashlib.sha256(text.encode("utf-8")).hexdigest()
