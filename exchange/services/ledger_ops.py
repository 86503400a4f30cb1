"""Ledger use cases of the exchange: allocation, deposits, retirement, balances, audit.

Use cases take the caller's session and never commit: the request, job or
command that calls them owns the unit of work (``exchange.uow``), so an
allocation can be one atomic step with other work. They turn the ledger's
errors into the exchange's domain errors.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

import ledger
from exchange.errors import (
    Conflict,
    ExchangeError,
    InvalidInput,
    NotFound,
    insufficient_funds,
)
from exchange.models import League, Market, MarketLeague
from exchange.paging import first_row
from exchange.references import user_reference_error
from exchange.services import enterprises
from exchange.services.commands import Allocation, Deposit, Retire
from exchange.services.compliance_deductions import apply_compliance_deductions
from exchange.services.transfer_delivery import serve_transfer_obligations

CASH_CODE = "cash"
REFERENCE = re.compile(r"^[^|\x00-\x1f\x7f]{1,100}$")


def ledger_error(err: ledger.LedgerError) -> ExchangeError:
    """The exchange's error for a ledger refusal."""
    if isinstance(err, ledger.InsufficientFunds):
        return insufficient_funds(err, str(err))
    if isinstance(err, ledger.CapExceeded):
        return Conflict(
            str(err),
            code="cap_exceeded",
            details={"cap": err.cap, "issued": err.issued, "requested": err.requested},
        )
    if isinstance(err, ledger.HoldNotFound):
        return NotFound(str(err), code="hold_not_found")
    if isinstance(err, ledger.HoldExceeded):
        return Conflict(str(err), code="hold_exceeded")
    return InvalidInput(str(err), code=err.code)


# --------------------------------------------------------------------------- lookups


def _league(session: Session, code: str, *, status: int = 422) -> League:
    league = session.get(League, code)
    if league is None:
        error = NotFound if status == 404 else InvalidInput
        raise error(f"unknown league {code!r}", field="league")
    return league


def _market(session: Session, code: str) -> Market:
    market = session.scalar(select(Market).where(Market.code == code))
    if market is None:
        raise InvalidInput(f"unknown market {code!r}", field="market")
    return market


def _reference(value: str | None, default: str) -> str:
    """A user's ``value`` (never in a system namespace) or the system's ``default``."""
    reference = value or default
    if not REFERENCE.match(reference):
        raise InvalidInput(
            "reference: 1-100 characters without '|' or control characters", field="reference"
        )
    reserved = user_reference_error(value) if value else None
    if reserved is not None:
        raise InvalidInput(reserved, field="reference")
    return reference


def asset_of(session: Session, code: str) -> str:
    """The ledger asset of a market code, or of ``cash``."""
    if code == CASH_CODE:
        return ledger.CASH
    return ledger.market_asset(_market(session, code).id)


def asset_names(session: Session) -> dict[str, dict[str, Any]]:
    """Ledger asset -> market code and unit (cash: ``cash``, fen)."""
    names: dict[str, dict[str, Any]] = {ledger.CASH: {"market": CASH_CODE, "unit": "fen"}}
    for market_id, code, unit in session.execute(select(Market.id, Market.code, Market.unit)):
        names[ledger.market_asset(market_id)] = {"market": code, "unit": unit}
    return names


# --------------------------------------------------------------------------- writes


def allocate(session: Session, allocation: Allocation, *, actor: str) -> dict[str, Any]:
    """Issue one allocation of a market's rights to an eligible league, under the cap."""
    return allocate_many(session, [allocation], actor=actor)[0]


def allocate_many(
    session: Session,
    allocations: Sequence[Allocation],
    *,
    actor: str,
    progress: Callable[[int], None] | None = None,
    system: bool = False,
) -> list[dict[str, Any]]:
    """Issue many allocations in the caller's unit of work: all of them, or none.

    ``system``: the references are the system's own (the demo seed), not a user's.

    Every league must exist and be eligible for the market; each market's cap
    holds for the sum of what was issued before and what is issued now (the
    issuance account is locked, so concurrent allocations cannot pass it).
    """
    if not allocations:
        raise InvalidInput("no allocations given")
    results: list[dict[str, Any]] = []
    markets, by_market = _group_allocations(session, allocations, system=system)
    journal_ids: dict[int, int] = {}
    for code in sorted(by_market):
        market = markets[code]
        entries = by_market[code]
        try:
            ids = ledger.issue_many(
                session,
                [(item.league, item.quantity, reference) for _i, item, reference in entries],
                asset=ledger.market_asset(market.id),
                actor=actor,
                cap=market.cap,
            )
        except ledger.LedgerError as err:
            raise ledger_error(err) from None
        for (index, _item, _ref), journal_id in zip(entries, ids, strict=True):
            journal_ids[index] = journal_id
        if progress is not None:
            progress(len(entries))
    serve_transfer_obligations(session, allocations, actor=actor)
    issued = {
        code: ledger.issued_total(session, ledger.market_asset(m.id)) for code, m in markets.items()
    }
    for index, item in enumerate(allocations):
        market = markets[item.market]
        results.append(
            {
                "journal_id": journal_ids[index],
                "league": item.league,
                "market": market.code,
                "quantity": item.quantity,
                "issued": issued[market.code],
                "cap": market.cap,
                "remaining": market.cap - issued[market.code],
            }
        )
    # compliance: shortfalls of past periods are taken from the units just issued
    apply_compliance_deductions(session, results, actor=actor)
    return results


def _group_allocations(
    session: Session, allocations: Sequence[Allocation], *, system: bool = False
) -> tuple[dict[str, Market], dict[str, list[tuple[int, Allocation, str]]]]:
    """Check every allocation (league, market, eligibility, lot); group them by market.

    ``system``: the caller is the system itself (the demo), which may use the
    reserved reference namespaces (``exchange.references``).
    """
    leagues = {code: status for code, status in session.execute(select(League.code, League.status))}
    markets: dict[str, Market] = {}
    eligible: dict[int, set[str]] = {}
    by_market: dict[str, list[tuple[int, Allocation, str]]] = defaultdict(list)
    for index, item in enumerate(allocations):
        where = f"allocation {index + 1}: " if len(allocations) > 1 else ""
        if item.league not in leagues:
            raise InvalidInput(f"{where}unknown league {item.league!r}", field="league")
        # a suspended, closing or closed account receives nothing (docs/participants.md)
        enterprises.check_state(item.league, leagues[item.league], enterprises.RECEIVE)
        market = markets.get(item.market)
        if market is None:
            market = session.scalar(select(Market).where(Market.code == item.market))
            if market is None:
                raise InvalidInput(f"{where}unknown market {item.market!r}", field="market")
            markets[item.market] = market
            eligible[market.id] = set(
                session.scalars(
                    select(MarketLeague.league_code).where(MarketLeague.market_id == market.id)
                )
            )
        if item.league not in eligible[market.id]:
            raise InvalidInput(
                f"{where}league {item.league!r} is not eligible for {market.code}",
                field="league",
            )
        if type(item.quantity) is not int or item.quantity <= 0:
            raise InvalidInput(f"{where}quantity must be a positive integer", field="quantity")
        if item.quantity % market.lot:
            raise InvalidInput(
                f"{where}quantity {item.quantity} is not a multiple of the lot {market.lot}",
                field="quantity",
            )
        default = f"allocation:{market.code}:{item.league}"
        reference = item.reference or default if system else _reference(item.reference, default)
        by_market[market.code].append((index, item, reference))
    return markets, by_market


def deposit(session: Session, command: Deposit, *, actor: str) -> dict[str, Any]:
    """Credit a league's cash (fen) by the regulator."""
    league, amount = command.league, command.amount
    _league(session, league)
    ref = _reference(command.reference, f"deposit:{league}")
    try:
        journal_id = ledger.deposit_cash(
            session, league=league, amount=amount, reference=ref, actor=actor
        )
    except ledger.LedgerError as err:
        raise ledger_error(err) from None
    balance = ledger.balance_of(session, ledger.league_account(league, ledger.CASH))
    return {"journal_id": journal_id, "league": league, "amount": amount, "available": balance}


def retire(session: Session, command: Retire, *, actor: str) -> dict[str, Any]:
    """A league surrenders available rights of a market (they go to retirement)."""
    league, market, quantity = command.league, command.market, command.quantity
    _league(session, league)
    found = _market(session, market)
    asset = ledger.market_asset(found.id)
    ref = _reference(command.reference, f"retirement:{found.code}:{league}")
    try:
        journal_id = ledger.retire(
            session, league=league, asset=asset, amount=quantity, reference=ref, actor=actor
        )
    except ledger.LedgerError as err:
        raise ledger_error(err) from None
    balance = ledger.balance_of(session, ledger.league_account(league, asset))
    retired = ledger.balance_of(session, ledger.retirement_account(asset))
    return {
        "journal_id": journal_id,
        "league": league,
        "market": found.code,
        "quantity": quantity,
        "available": balance,
        "retired": retired,
    }


# --------------------------------------------------------------------------- reads


def balances(session: Session, league: str) -> dict[str, Any]:
    """Posted, held and available per asset of a league."""
    _league(session, league, status=404)
    names = asset_names(session)
    return {
        "league": league,
        "balances": [
            {
                "asset": view.asset,
                **names.get(view.asset, {"market": None, "unit": None}),
                "posted": view.posted,
                "held": view.held,
                "available": view.available,
            }
            for view in ledger.balances(session, league)
        ],
    }


def statement(
    session: Session, *, league: str, asset: str, account: str, page: int, per_page: int
) -> dict[str, Any]:
    """A page of a league's postings on one asset with the running balance."""
    _league(session, league, status=404)
    kind = ledger.AccountKind.ESCROW if account == "held" else ledger.AccountKind.LEAGUE
    result = ledger.statement(
        session,
        owner=league,
        asset=asset_of(session, asset),
        account_kind=kind,
        offset=first_row(page, per_page),
        limit=per_page,
    )
    return {
        "league": league,
        "asset": result.asset,
        "market": asset,
        "account": account,
        "balance": result.balance,
        "total": result.total,
        "page": page,
        "per_page": per_page,
        "lines": result.lines,
    }


def journals(
    session: Session,
    *,
    league: str | None = None,
    market: str | None = None,
    kind: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    reference: str | None = None,
    page: int = 1,
    per_page: int = 50,
) -> dict[str, Any]:
    """A page of journals (newest first) with their postings."""
    if league is not None:
        _league(session, league)
    total, items = ledger.list_journals(
        session,
        owner=league,
        asset=None if market is None else asset_of(session, market),
        kind=kind,
        since=since,
        until=until,
        reference=reference,
        offset=first_row(page, per_page),
        limit=per_page,
    )
    return {"total": total, "page": page, "per_page": per_page, "journals": items}


def snapshot(session: Session) -> None:
    """Start a read transaction that sees one consistent state (PostgreSQL: repeatable read)."""
    if session.in_transaction():
        session.rollback()
    if session.get_bind().dialect.name == "postgresql":
        session.connection(execution_options={"isolation_level": "REPEATABLE READ"})


def verify(
    session: Session, *, progress: Callable[[int], None] | None = None
) -> ledger.VerifyReport:
    """Audit the ledger in one consistent snapshot."""
    snapshot(session)
    try:
        return ledger.verify(session, progress=progress)
    finally:
        session.rollback()


def export_rows(session: Session) -> Iterator[dict[str, Any]]:
    """Every posting with its journal's fields (flat rows, oldest journal first)."""
    for journal in ledger.iter_journals(session):
        for number, posting in enumerate(journal.postings):
            yield {
                "journal_id": journal.id,
                "chain": journal.chain,
                "seq": journal.seq,
                "kind": journal.kind,
                "reference": journal.reference,
                "actor": journal.actor,
                "created_at": journal.created_at.isoformat(timespec="microseconds"),
                "prev_hash": journal.prev_hash,
                "hash": journal.hash,
                "posting": number,
                "account_kind": posting.account_kind,
                "owner": posting.owner,
                "asset": posting.asset,
                "amount": posting.amount,
                "hold_id": posting.hold_id,
            }


def export_journals(session: Session) -> Iterator[dict[str, Any]]:
    """Every journal with its postings (JSON Lines export), then the stored state rows."""
    for journal in ledger.iter_journals(session):
        yield {
            "id": journal.id,
            "chain": journal.chain,
            "seq": journal.seq,
            "kind": journal.kind,
            "reference": journal.reference,
            "actor": journal.actor,
            "created_at": journal.created_at.isoformat(timespec="microseconds"),
            "prev_hash": journal.prev_hash,
            "hash": journal.hash,
            "postings": [
                {
                    "account_kind": p.account_kind,
                    "owner": p.owner,
                    "asset": p.asset,
                    "amount": p.amount,
                    "hold_id": p.hold_id,
                }
                for p in journal.postings
            ],
        }
    # then the stored state (accounts, holds, chain heads, keys): lines with a "record" field
    from ledger.export import state_records

    yield from state_records(session)


def read_allocations_csv(lines: Iterable[str]) -> list[Allocation]:
    """Parse ``league,market,quantity[,reference]`` rows (with a header line)."""
    import csv

    reader = csv.DictReader(lines)
    missing = {"league", "market", "quantity"} - set(reader.fieldnames or [])
    if missing:
        raise InvalidInput(
            f"CSV header needs columns league, market, quantity (missing: "
            f"{', '.join(sorted(missing))})"
        )
    result: list[Allocation] = []
    for row in reader:
        line = reader.line_num
        raw = (row.get("quantity") or "").strip()
        if not raw.isascii() or not raw.isdigit() or len(raw) > 16:
            raise InvalidInput(f"line {line}: quantity {raw!r} is not a positive integer")
        quantity = int(raw)
        if quantity <= 0:
            raise InvalidInput(f"line {line}: quantity must be positive")
        result.append(
            Allocation(
                league=(row.get("league") or "").strip(),
                market=(row.get("market") or "").strip(),
                quantity=quantity,
                reference=(row.get("reference") or "").strip() or None,
            )
        )
    return result
