"""The ledger's vocabulary: assets, account keys and kinds, journal kinds and specs.

Pure values (no database): every other module of the ledger, and its callers,
take these names from here, so each rule is stated once.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Sequence
from dataclasses import dataclass

from ledger.errors import InvalidPosting

CASH = "cash:CNY"
"""The cash asset: Chinese yuan, amounts in fen."""
CLAIMS = "claim:CNY"
"""Cash claims on leagues (penalties they owe), in fen: the regulator issues them."""

REGULATOR = "regulator"
EXCHANGE = "exchange"
MAX_AMOUNT = 2**62
"""Largest absolute amount of one posting (balances stay inside BIGINT)."""

TEXT = re.compile(r"^[^|\x00-\x1f\x7f]{1,128}$")
"""References, actors, owners and assets: 1-128 characters, no ``|``, no control characters."""
NAME = re.compile(r"^[a-z][a-z0-9_]{0,31}$")
"""Account kinds: lower-case names."""


def market_asset(market_id: int) -> str:
    """The asset of one market's rights: ``market:<id>``."""
    return f"market:{market_id}"


def order_chain(chain: str, league: str) -> str:
    """The chain of a league's hold and release journals: ``<chain>/<league>``.

    Order intake of one league in one market is serialised by the league's account
    locks anyway; giving it its own chain means the chain head never makes two
    leagues (or two markets) wait for each other.
    """
    return f"{chain}/{league}"


class AccountKind(enum.StrEnum):
    """Kinds of account owner. Other lower-case names (e.g. ``counterpart``) are allowed."""

    LEAGUE = "league"
    """A league's own (available) balance."""
    ESCROW = "escrow"
    """A league's held balance: the sum of its open holds."""
    ISSUANCE = "issuance"
    """The regulator's source of an asset; its balance is minus the amount issued."""
    CLEARING = "clearing"
    """The exchange as central counterparty; nets to zero after each run."""
    RETIREMENT = "retirement"
    """Where surrendered rights end."""
    CONGESTION = "congestion"
    """Congestion rent of zonal clearing (cash), one account per market."""
    COMPENSATION_DEPOSIT = "comp_deposit"
    """One side's deposit in the escrow of an ecological-compensation agreement (cash)."""
    CONVEYANCE_LOSS = "conveyance_loss"
    """Water lost on its way between zones (a transfer's conveyance loss), per market."""
    SURRENDER = "surrender"
    """Rights surrendered against a compliance period (owner: the period); they only receive."""
    PENALTY = "penalty"
    """A league's penalties (asset :data:`CLAIMS`): its balance is what the league owes."""
    FEE = "fee"
    """A league's unpaid paid-use fees (asset :data:`CLAIMS`): its balance is what it owes."""
    FEE_INCOME = "fee_income"
    """The regulator's income of paid-use fees (cash)."""


class JournalKind(enum.StrEnum):
    """What a journal records."""

    ISSUANCE = "issuance"
    DEPOSIT = "deposit"
    TRANSFER = "transfer"
    TRADE_SETTLEMENT = "trade_settlement"
    RETIREMENT = "retirement"
    HOLD = "hold"
    RELEASE = "release"
    CORRECTION = "correction"
    COMPENSATION_DEPOSIT = "compensation_deposit"
    """A side's deposit into the escrow of a compensation agreement, at signing."""
    COMPENSATION = "compensation"
    """A settled period of a compensation agreement: the payer pays the payee."""
    COMPENSATION_REFUND = "compensation_refund"
    """What is left of a side's deposit, back to it once the agreement's term is settled."""
    SURRENDER = "surrender"
    PENALTY = "penalty"
    DEDUCTION = "deduction"
    FEE_BILL = "fee_bill"
    FEE_PAYMENT = "fee_payment"


JOURNAL_KINDS = tuple(kind.value for kind in JournalKind)
"""Every journal kind, as stored (``issuance``, ``deposit``, ...)."""


@dataclass(frozen=True, slots=True, order=True)
class AccountKey:
    """The natural key of an account: owner kind, owner code and asset."""

    kind: str
    owner: str
    asset: str

    def __str__(self) -> str:
        return f"{self.kind}:{self.owner}/{self.asset}"


def league_account(league: str, asset: str) -> AccountKey:
    """A league's main (available) account of ``asset``."""
    return AccountKey(AccountKind.LEAGUE, league, asset)


def escrow_account(league: str, asset: str) -> AccountKey:
    """A league's escrow (held) account of ``asset``."""
    return AccountKey(AccountKind.ESCROW, league, asset)


def issuance_account(asset: str) -> AccountKey:
    """The regulator's issuance account of ``asset``."""
    return AccountKey(AccountKind.ISSUANCE, REGULATOR, asset)


def clearing_account(asset: str) -> AccountKey:
    """The exchange's clearing (central counterparty) account of ``asset``."""
    return AccountKey(AccountKind.CLEARING, EXCHANGE, asset)


def retirement_account(asset: str) -> AccountKey:
    """The retirement account of ``asset``."""
    return AccountKey(AccountKind.RETIREMENT, REGULATOR, asset)


def conveyance_loss_account(asset: str) -> AccountKey:
    """Where the conveyance loss of deliveries of ``asset`` (water) ends."""
    return AccountKey(AccountKind.CONVEYANCE_LOSS, REGULATOR, asset)


def surrender_account(period: str, asset: str) -> AccountKey:
    """The surrender account of compliance period ``period`` (e.g. ``period:3``) for ``asset``."""
    return AccountKey(AccountKind.SURRENDER, period, asset)


def penalty_account(league: str) -> AccountKey:
    """The account of the penalties a league owes (asset :data:`CLAIMS`, fen)."""
    return AccountKey(AccountKind.PENALTY, league, CLAIMS)


def fee_account(league: str) -> AccountKey:
    """The account of the paid-use fees a league owes (asset :data:`CLAIMS`, fen)."""
    return AccountKey(AccountKind.FEE, league, CLAIMS)


def fee_income_account(cash_asset: str = CASH) -> AccountKey:
    """The regulator's account of paid-use fees received."""
    return AccountKey(AccountKind.FEE_INCOME, REGULATOR, cash_asset)


def congestion_account(market: str, cash_asset: str = CASH) -> AccountKey:
    """The congestion-rent account of ``market`` (an asset name), in cash."""
    return AccountKey(AccountKind.CONGESTION, market, cash_asset)


def compensation_deposit_account(agreement_id: int, league: str, asset: str = CASH) -> AccountKey:
    """The deposit ``league`` holds in the escrow of compensation agreement ``agreement_id``."""
    return AccountKey(AccountKind.COMPENSATION_DEPOSIT, f"agreement:{agreement_id}:{league}", asset)


def compensation_chain(agreement_id: int) -> str:
    """The chain of one compensation agreement's journals (deposits and settlements)."""
    return f"compensation:{agreement_id}"


@dataclass(frozen=True, slots=True)
class PostingSpec:
    """One leg of a journal: ``amount`` (signed) on ``account``, optionally on a hold."""

    account: AccountKey
    amount: int
    hold_id: int | None = None


@dataclass(frozen=True, slots=True)
class JournalSpec:
    """A journal to post. ``chain`` defaults to its first market asset, else its first asset."""

    kind: str
    reference: str
    actor: str
    postings: Sequence[PostingSpec]
    chain: str | None = None


def positive(*amounts: int) -> None:
    """Raise :class:`InvalidPosting` unless every amount is an integer in ``1..MAX_AMOUNT``."""
    for amount in amounts:
        if type(amount) is not int or amount <= 0 or amount > MAX_AMOUNT:
            raise InvalidPosting(f"amount must be a positive integer, got {amount!r}")
