"""Words for the codes of the data (statuses, sides, triggers, regions, units, kinds).

The database and the API keep their stable codes (``partially_filled``, ``catch_up``,
``m3``); a person reads these labels in the page's language. ``label(kind, code)``
is available in every template; an unknown code is shown as it is.
"""

from __future__ import annotations

from enum import Enum
from typing import Any

from flask_babel import lazy_gettext as _l

LABELS: dict[str, dict[str, Any]] = {
    "side": {"buy": _l("Buy"), "sell": _l("Sell")},
    "validity": {"gtc": _l("Good until cancelled"), "run": _l("Next clearing run only")},
    "order_status": {
        "open": _l("open"),
        "partially_filled": _l("partially filled"),
        "filled": _l("filled"),
        "cancelled": _l("cancelled"),
        "expired": _l("expired"),
    },
    "run_status": {
        "completed": _l("completed"),
        "failed": _l("failed"),
        "cancelled": _l("cancelled"),
    },
    "trigger": {
        "schedule": _l("scheduled"),
        "manual": _l("manual (clear now)"),
        "catch_up": _l("catch-up of a missed window"),
    },
    "job_status": {
        "queued": _l("Queued"),
        "running": _l("Running"),
        "succeeded": _l("Done"),
        "failed": _l("Failed"),
    },
    "region": {"east": _l("East"), "central": _l("Central"), "west": _l("West")},
    "market_status": {"open": _l("open"), "halted": _l("halted"), "closed": _l("closed")},
    "role": {
        "league": _l("league"),
        "regulator": _l("regulator"),
        "auditor": _l("auditor"),
        "admin": _l("administrator"),
        "exchange": _l("the exchange"),
    },
    "journal_kind": {
        "issuance": _l("issuance"),
        "deposit": _l("deposit"),
        "transfer": _l("transfer"),
        "trade_settlement": _l("trade settlement"),
        "retirement": _l("retirement"),
        "hold": _l("hold"),
        "release": _l("release"),
        "correction": _l("correction"),
        "compensation_deposit": _l("compensation deposit"),
        "compensation": _l("ecological compensation"),
        "compensation_refund": _l("compensation deposit refund"),
        "surrender": _l("surrender"),
        "penalty": _l("penalty"),
        "deduction": _l("allocation deduction"),
        "fee_bill": _l("paid-use fee bill"),
        "fee_payment": _l("paid-use fee payment"),
    },
    "unit": {
        "m3": _l("m³"),
        "t": _l("t"),
        "kg": _l("kg"),
        "tCO2e": _l("tCO₂e"),
        "tce": _l("tce"),
        "yuan": _l("yuan"),
    },
    "account": {"available": _l("Available"), "held": _l("Held")},
    "account_kind": {
        "league": _l("available"),
        "escrow": _l("held (escrow)"),
        "issuance": _l("issuance"),
        "clearing": _l("clearing"),
        "retirement": _l("retirement"),
        "congestion": _l("congestion rent"),
        "counterpart": _l("counterpart"),
        "comp_deposit": _l("compensation deposit"),
        "conveyance_loss": _l("conveyance loss"),
        "surrender": _l("surrendered"),
        "penalty": _l("penalties owed"),
        "fee": _l("paid-use fees owed"),
        "fee_income": _l("paid-use fee income"),
    },
    "check": {
        "journal_hash": _l("Journal hashes"),
        "chain_link": _l("Chain links"),
        "chain_gap": _l("No gaps in chains"),
        "chain_duplicate": _l("No duplicates in chains"),
        "chain_head": _l("Chain heads"),
        "orphan_posting": _l("No orphan postings"),
        "unknown_account": _l("Known accounts"),
        "empty_journal": _l("No empty journals"),
        "unbalanced_journal": _l("Journals balance"),
        "balance": _l("Balances = sum of postings"),
        "negative_balance": _l("No negative balances"),
        "hold": _l("Holds"),
        "escrow": _l("Escrow = open holds"),
        "conservation": _l("Conservation (issued = held)"),
        "clearing_not_flat": _l("Clearing account flat"),
        "checkpoint_signature": _l("Checkpoint signature"),
        "checkpoint_head": _l("Chains reach the checkpoint's heads"),
        "checkpoint_behind": _l("Ledger not behind the checkpoint"),
    },
}


def label(kind: str, code: Any) -> str:
    """The word for ``code`` (a string or an enum member) of ``kind`` in the page's language."""
    value = code.value if isinstance(code, Enum) else code
    found = LABELS[kind].get(value)
    return str(found) if found is not None else str(value)
