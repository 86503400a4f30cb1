"""Use cases of the book: issuance, deposits, retirement and transfers."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.orm import Session

from ledger.accounts import balance_of, lock_accounts
from ledger.errors import CapExceeded, InvalidPosting
from ledger.journals import post_journal, post_journals
from ledger.keys import (
    CASH,
    AccountKey,
    JournalKind,
    JournalSpec,
    PostingSpec,
    issuance_account,
    league_account,
    positive,
    retirement_account,
)


def issue(
    session: Session,
    *,
    league: str,
    asset: str,
    amount: int,
    reference: str,
    actor: str,
    cap: int | None = None,
) -> int:
    """Issue (allocate) ``amount`` of ``asset`` to a league; returns the journal id.

    With ``cap``, the issuance account is locked first and the total issued may
    not exceed it (:class:`CapExceeded`), also under concurrent issuers.
    """
    return issue_many(session, [(league, amount, reference)], asset=asset, actor=actor, cap=cap)[0]


def issue_many(
    session: Session,
    allocations: Sequence[tuple[str, int, str]],
    *,
    asset: str,
    actor: str,
    cap: int | None = None,
) -> list[int]:
    """Issue many ``(league, amount, reference)`` allocations of one asset at once."""
    positive(*(a for _l, a, _r in allocations))
    source = issuance_account(asset)
    locked = lock_accounts(session, [source])
    if cap is not None:
        issued = -locked[source]
        requested = sum(a for _l, a, _r in allocations)
        if issued + requested > cap:
            raise CapExceeded(asset, cap, issued, requested)
    specs = [
        JournalSpec(
            JournalKind.ISSUANCE,
            reference,
            actor,
            (PostingSpec(source, -amount), PostingSpec(league_account(league, asset), amount)),
        )
        for league, amount, reference in allocations
    ]
    return post_journals(session, specs)


def issued_total(session: Session, asset: str) -> int:
    """How much of ``asset`` has been issued (minus the issuance account's balance)."""
    return -balance_of(session, issuance_account(asset))


def deposit_cash(
    session: Session,
    *,
    league: str,
    amount: int,
    reference: str,
    actor: str,
    asset: str = CASH,
) -> int:
    """Credit a league's cash account (fen) from the regulator's cash issuance account."""
    positive(amount)
    return post_journal(
        session,
        JournalSpec(
            JournalKind.DEPOSIT,
            reference,
            actor,
            (
                PostingSpec(issuance_account(asset), -amount),
                PostingSpec(league_account(league, asset), amount),
            ),
        ),
    )


def retire(
    session: Session, *, league: str, asset: str, amount: int, reference: str, actor: str
) -> int:
    """Surrender ``amount`` of a league's available rights to the retirement account."""
    positive(amount)
    return post_journal(
        session,
        JournalSpec(
            JournalKind.RETIREMENT,
            reference,
            actor,
            (
                PostingSpec(league_account(league, asset), -amount),
                PostingSpec(retirement_account(asset), amount),
            ),
        ),
    )


def transfer(
    session: Session,
    *,
    source: AccountKey,
    target: AccountKey,
    amount: int,
    reference: str,
    actor: str,
    kind: str = JournalKind.TRANSFER,
) -> int:
    """Move ``amount`` from one account to another of the same asset."""
    positive(amount)
    if source.asset != target.asset:
        raise InvalidPosting("a transfer moves one asset; use a journal for exchanges")
    if source == target:
        raise InvalidPosting(f"a transfer needs two accounts, got {source} twice")
    return post_journal(
        session,
        JournalSpec(
            kind, reference, actor, (PostingSpec(source, -amount), PostingSpec(target, amount))
        ),
    )
