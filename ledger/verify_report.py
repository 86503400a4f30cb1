"""What the audit reports: its checks, each violation found, and the report as a whole."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

MAX_VIOLATIONS = 10_000
CHECKS = (
    "journal_hash",
    "chain_link",
    "chain_gap",
    "chain_duplicate",
    "chain_head",
    "orphan_posting",
    "unknown_account",
    "empty_journal",
    "unbalanced_journal",
    "balance",
    "negative_balance",
    "hold",
    "escrow",
    "conservation",
    "clearing_not_flat",
)
"""Every check of :func:`verify` (the ``check`` of a :class:`Violation`), in display order."""


@dataclass(frozen=True, slots=True)
class Violation:
    """One finding of the audit: which check, where, expected versus found."""

    check: str
    message: str
    journal_id: int | None = None
    account_id: int | None = None
    hold_id: int | None = None
    chain: str | None = None
    asset: str | None = None
    expected: str | int | None = None
    found: str | int | None = None

    def to_dict(self) -> dict[str, Any]:
        """The violation as a JSON-ready mapping (None fields left out)."""
        return {k: v for k, v in asdict(self).items() if v is not None}


@dataclass(slots=True)
class VerifyReport:
    """The result of :func:`verify`."""

    violations: list[Violation] = field(default_factory=list)
    journals: int = 0
    postings: int = 0
    accounts: int = 0
    holds: int = 0
    chains: dict[str, dict[str, Any]] = field(default_factory=dict)
    assets: dict[str, dict[str, int]] = field(default_factory=dict)
    truncated: bool = False
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        """True when no violation was found."""
        return not self.violations

    def add(self, violation: Violation) -> None:
        if len(self.violations) < MAX_VIOLATIONS:
            self.violations.append(violation)
        else:
            self.truncated = True

    def to_dict(self) -> dict[str, Any]:
        """The report as a JSON-ready mapping."""
        return {
            "ok": self.ok,
            "violations": [v.to_dict() for v in self.violations],
            "truncated": self.truncated,
            "journals": self.journals,
            "postings": self.postings,
            "accounts": self.accounts,
            "holds": self.holds,
            "chains": self.chains,
            "assets": self.assets,
            "seconds": round(self.seconds, 3),
        }


__all__ = ["CHECKS", "MAX_VIOLATIONS", "VerifyReport", "Violation"]
