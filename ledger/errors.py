"""Errors raised by the ledger (the exchange maps them to HTTP in one place)."""

from __future__ import annotations


class LedgerError(Exception):
    """Base class: the ledger refused to post; nothing was written by the failing call."""

    code = "ledger_error"


class InvalidPosting(LedgerError, ValueError):
    """A journal or posting breaks a rule (zero amount, unbalanced asset, bad text, ...)."""

    code = "invalid_posting"


class InsufficientFunds(LedgerError):
    """Debiting ``requested`` from an account whose available balance is ``available``."""

    code = "insufficient_funds"

    def __init__(self, account: str, available: int, requested: int) -> None:
        super().__init__(
            f"insufficient funds on {account}: available {available}, requested {requested}"
        )
        self.account = account
        self.available = available
        self.requested = requested


class CapExceeded(LedgerError):
    """Issuing more of an asset than its cap allows."""

    code = "cap_exceeded"

    def __init__(self, asset: str, cap: int, issued: int, requested: int) -> None:
        super().__init__(
            f"issuing {requested} of {asset} would exceed its cap {cap} "
            f"(already issued {issued}, {cap - issued} left)"
        )
        self.asset = asset
        self.cap = cap
        self.issued = issued
        self.requested = requested


class HoldNotFound(LedgerError, LookupError):
    """No hold with this id."""

    code = "hold_not_found"

    def __init__(self, hold_id: int) -> None:
        super().__init__(f"no hold with id {hold_id}")
        self.hold_id = hold_id


class HoldExceeded(LedgerError):
    """Drawing or releasing more than what remains on a hold."""

    code = "hold_exceeded"

    def __init__(self, hold_id: int, remaining: int, requested: int) -> None:
        super().__init__(f"hold {hold_id} has {remaining} remaining, {requested} requested")
        self.hold_id = hold_id
        self.remaining = remaining
        self.requested = requested
