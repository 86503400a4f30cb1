"""The ledger: double-entry, append-only, hash-chained book of record.

It imports nothing from ``exchange`` or Flask, takes the caller's SQLAlchemy
``Session`` and never commits. See docs/ledger.md for the account model, the
sign convention, the canonical hash form and the audit.
"""

from ledger import checkpoints, signing
from ledger.accounts import balance_of, ensure_accounts, lock_accounts
from ledger.errors import (
    CapExceeded,
    HoldExceeded,
    HoldNotFound,
    InsufficientFunds,
    InvalidPosting,
    LedgerError,
)
from ledger.holds import (
    HoldRequest,
    HoldView,
    get_hold,
    hold_owners,
    lock_holds,
    place_hold,
    place_holds,
    release_hold,
)
from ledger.journals import default_chain, post_journal, post_journals, validate_spec
from ledger.keys import (
    CASH,
    EXCHANGE,
    JOURNAL_KINDS,
    MAX_AMOUNT,
    REGULATOR,
    AccountKey,
    AccountKind,
    JournalKind,
    JournalSpec,
    PostingSpec,
    clearing_account,
    congestion_account,
    conveyance_loss_account,
    escrow_account,
    issuance_account,
    league_account,
    market_asset,
    order_chain,
    retirement_account,
)
from ledger.operations import deposit_cash, issue, issue_many, issued_total, retire, transfer
from ledger.queries import (
    BalanceView,
    JournalView,
    PostingView,
    Statement,
    StatementLine,
    balances,
    iter_journals,
    list_journals,
    statement,
)
from ledger.verify import count_postings, verify
from ledger.verify_report import CHECKS as VERIFY_CHECKS
from ledger.verify_report import VerifyReport, Violation

__all__ = [
    "CASH",
    "EXCHANGE",
    "JOURNAL_KINDS",
    "MAX_AMOUNT",
    "REGULATOR",
    "VERIFY_CHECKS",
    "AccountKey",
    "AccountKind",
    "BalanceView",
    "CapExceeded",
    "HoldExceeded",
    "HoldNotFound",
    "HoldRequest",
    "HoldView",
    "InsufficientFunds",
    "InvalidPosting",
    "JournalKind",
    "JournalSpec",
    "JournalView",
    "LedgerError",
    "PostingSpec",
    "PostingView",
    "Statement",
    "StatementLine",
    "VerifyReport",
    "Violation",
    "balance_of",
    "balances",
    "checkpoints",
    "clearing_account",
    "congestion_account",
    "conveyance_loss_account",
    "count_postings",
    "default_chain",
    "deposit_cash",
    "ensure_accounts",
    "escrow_account",
    "get_hold",
    "hold_owners",
    "issuance_account",
    "issue",
    "issue_many",
    "issued_total",
    "iter_journals",
    "league_account",
    "list_journals",
    "lock_accounts",
    "lock_holds",
    "market_asset",
    "order_chain",
    "place_hold",
    "place_holds",
    "post_journal",
    "post_journals",
    "release_hold",
    "retire",
    "retirement_account",
    "signing",
    "statement",
    "transfer",
    "validate_spec",
    "verify",
]
