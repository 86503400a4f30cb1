"""Read side: balances, statements, journal listings and the export stream."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Select, and_, func, select
from sqlalchemy.orm import Session, aliased

from ledger.keys import AccountKind
from ledger.models import Account, Journal, Posting


@dataclass(frozen=True, slots=True)
class BalanceView:
    """A league's position in one asset: posted = available + held."""

    asset: str
    posted: int
    held: int
    available: int


@dataclass(frozen=True, slots=True)
class StatementLine:
    """One posting on an account, with the balance right after it."""

    journal_id: int
    chain: str
    seq: int
    kind: str
    reference: str
    actor: str
    created_at: datetime
    amount: int
    hold_id: int | None
    balance: int


@dataclass(frozen=True, slots=True)
class Statement:
    """A page of an account's postings (oldest first)."""

    owner: str
    asset: str
    account_kind: str
    total: int
    balance: int
    lines: list[StatementLine]


@dataclass(frozen=True, slots=True)
class PostingView:
    """A posting with its account's natural key."""

    account_kind: str
    owner: str
    asset: str
    amount: int
    hold_id: int | None


@dataclass(frozen=True, slots=True)
class JournalView:
    """A journal with its postings (the audit fields included)."""

    id: int
    chain: str
    seq: int
    kind: str
    reference: str
    actor: str
    created_at: datetime
    prev_hash: str
    hash: str
    postings: list[PostingView]


def balances(session: Session, owner: str) -> list[BalanceView]:
    """Posted, held and available balance of ``owner`` (a league) per asset."""
    rows = session.execute(
        select(Account.kind, Account.asset, Account.balance).where(
            Account.owner == owner, Account.kind.in_([AccountKind.LEAGUE, AccountKind.ESCROW])
        )
    )
    available: dict[str, int] = defaultdict(int)
    held: dict[str, int] = defaultdict(int)
    for kind, asset, balance in rows:
        (held if kind == AccountKind.ESCROW else available)[asset] += balance
    return [
        BalanceView(asset, available[asset] + held[asset], held[asset], available[asset])
        for asset in sorted(set(available) | set(held))
    ]


def statement(
    session: Session,
    *,
    owner: str,
    asset: str,
    account_kind: str = AccountKind.LEAGUE,
    offset: int = 0,
    limit: int = 50,
) -> Statement:
    """A page of the postings of one account, each with the running balance after it."""
    account = session.execute(
        select(Account.id, Account.balance).where(
            Account.kind == account_kind, Account.owner == owner, Account.asset == asset
        )
    ).first()
    if account is None:
        return Statement(owner, asset, str(account_kind), 0, 0, [])
    account_id, balance = account
    total = session.scalar(
        select(func.count()).select_from(Posting).where(Posting.account_id == account_id)
    )
    running = (
        select(
            Posting.id.label("posting_id"),
            Posting.journal_id,
            Posting.amount,
            Posting.hold_id,
            func.sum(Posting.amount)
            .over(order_by=(Posting.journal_id, Posting.id))
            .label("running"),
        )
        .where(Posting.account_id == account_id)
        .subquery()
    )
    rows = session.execute(
        select(
            Journal.id,
            Journal.chain,
            Journal.seq,
            Journal.kind,
            Journal.reference,
            Journal.actor,
            Journal.created_at,
            running.c.amount,
            running.c.hold_id,
            running.c.running,
        )
        .join(running, running.c.journal_id == Journal.id)
        .order_by(running.c.journal_id, running.c.posting_id)
        .offset(offset)
        .limit(limit)
    )
    lines = [
        StatementLine(
            journal_id=row[0],
            chain=row[1],
            seq=row[2],
            kind=row[3],
            reference=row[4],
            actor=row[5],
            created_at=row[6],
            amount=row[7],
            hold_id=row[8],
            balance=int(row[9]),
        )
        for row in rows
    ]
    return Statement(owner, asset, str(account_kind), int(total or 0), balance, lines)


def list_journals(
    session: Session,
    *,
    owner: str | None = None,
    asset: str | None = None,
    kind: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    reference: str | None = None,
    offset: int = 0,
    limit: int = 50,
) -> tuple[int, list[JournalView]]:
    """``(total, page)`` of journals, newest first, with filters.

    ``owner`` / ``asset``: journals with a posting on an account of that owner /
    asset; ``since`` inclusive, ``until`` exclusive; ``reference``: a prefix.
    """
    query = _journal_filter(select(Journal.id), owner, asset, kind, since, until, reference)
    total = session.scalar(select(func.count()).select_from(query.subquery()))
    ids = list(session.scalars(query.order_by(Journal.id.desc()).offset(offset).limit(limit)))
    return int(total or 0), _load(session, ids)


def _journal_filter(
    query: Select[Any],
    owner: str | None,
    asset: str | None,
    kind: str | None,
    since: datetime | None,
    until: datetime | None,
    reference: str | None,
) -> Select[Any]:
    if kind is not None:
        query = query.where(Journal.kind == kind)
    if since is not None:
        query = query.where(Journal.created_at >= since)
    if until is not None:
        query = query.where(Journal.created_at < until)
    if reference is not None:
        query = query.where(Journal.reference.startswith(reference, autoescape=True))
    if owner is not None or asset is not None:
        account = aliased(Account)
        conditions = [Posting.journal_id == Journal.id]
        if owner is not None:
            conditions.append(account.owner == owner)
        if asset is not None:
            conditions.append(account.asset == asset)
        query = query.where(
            select(Posting.id)
            .join(account, account.id == Posting.account_id)
            .where(and_(*conditions))
            .exists()
        )
    return query


def _load(session: Session, ids: list[int]) -> list[JournalView]:
    if not ids:
        return []
    postings: dict[int, list[PostingView]] = defaultdict(list)
    for jid, kind, owner, asset, amount, hold_id in session.execute(
        select(
            Posting.journal_id,
            Account.kind,
            Account.owner,
            Account.asset,
            Posting.amount,
            Posting.hold_id,
        )
        .join(Account, Account.id == Posting.account_id)
        .where(Posting.journal_id.in_(ids))
        .order_by(Posting.journal_id, Posting.id)
    ):
        postings[jid].append(PostingView(kind, owner, asset, amount, hold_id))
    rows = session.execute(
        select(
            Journal.id,
            Journal.chain,
            Journal.seq,
            Journal.kind,
            Journal.reference,
            Journal.actor,
            Journal.created_at,
            Journal.prev_hash,
            Journal.hash,
        ).where(Journal.id.in_(ids))
    )
    by_id = {row[0]: JournalView(*row, postings=postings.get(row[0], [])) for row in rows}
    return [by_id[i] for i in ids if i in by_id]


def iter_journals(session: Session, *, batch: int = 5000) -> Iterator[JournalView]:
    """Every journal with its postings, oldest first, in batches (for exports)."""
    last = 0
    while True:
        ids = list(
            session.scalars(
                select(Journal.id).where(Journal.id > last).order_by(Journal.id).limit(batch)
            )
        )
        if not ids:
            return
        yield from _load(session, ids)
        last = ids[-1]
