"""Tampering with the rows behind the ledger's back is detected and located by verify.

Each test plays an attacker with database access: the append-only triggers are
bypassed (dropped on SQLite, ``session_replication_role = replica`` on PostgreSQL).
"""

from __future__ import annotations

import hashlib

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

import ledger
from exchange.mechanisms.call_auction import settlement
from exchange.mechanisms.call_auction.settlement import Fill
from ledger import CASH
from ledger.hashing import GENESIS
from ledger.models import Account, Chain, Journal, Posting
from tests.ledger.helpers import as_attacker, assert_clean

WATER = ledger.market_asset(7)


@pytest.fixture
def book(session: Session) -> Session:
    """A small ledger with issuance, cash, holds, a settled run and a retirement."""
    ledger.issue(session, league="ordos", asset=WATER, amount=1000, reference="a:1", actor="r")
    ledger.deposit_cash(session, league="hohhot", amount=50_000, reference="d:1", actor="r")
    ledger.deposit_cash(session, league="ordos", amount=1_000, reference="d:2", actor="r")
    sell = ledger.place_hold(
        session, league="ordos", asset=WATER, amount=400, reference="o:1", actor="o"
    )
    buy = ledger.place_hold(
        session,
        league="hohhot",
        asset=CASH,
        amount=400 * 50,
        reference="o:2",
        actor="h",
        chain=WATER,
    )
    settlement.settle_fills(
        session,
        asset=WATER,
        reference="run:1",
        actor="c",
        fills=[Fill(sell, 300, 45, "o:1"), Fill(buy, 300, 45, "o:2", limit=50)],
    )
    ledger.retire(session, league="hohhot", asset=WATER, amount=100, reference="r:1", actor="h")
    session.commit()
    assert_clean(session)
    return session


def checks(session: Session) -> dict[str, set[int | str | None]]:
    report = ledger.verify(session)
    found: dict[str, set[int | str | None]] = {}
    for violation in report.violations:
        found.setdefault(violation.check, set()).add(
            violation.journal_id or violation.account_id or violation.hold_id or violation.chain
        )
    return found


def journal_of_reference(session: Session, reference: str) -> Journal:
    journal = session.scalars(select(Journal).where(Journal.reference == reference)).one()
    return journal


def test_changed_posting_amount(book: Session) -> None:
    journal = journal_of_reference(book, "r:1")
    as_attacker(
        book, f"UPDATE ledger_postings SET amount = amount * 2 WHERE journal_id = {journal.id}"
    )
    found = checks(book)
    assert found["journal_hash"] == {journal.id}
    assert "balance" in found


def test_changed_posting_amount_with_balances_fixed_up(book: Session) -> None:
    journal = journal_of_reference(book, "a:1")
    as_attacker(
        book,
        f"UPDATE ledger_postings SET amount = amount + 1 WHERE journal_id = {journal.id} "
        "AND amount > 0",
        f"UPDATE ledger_postings SET amount = amount - 1 WHERE journal_id = {journal.id} "
        "AND amount < 0",
        "UPDATE ledger_accounts SET balance = balance + 1 WHERE kind = 'league' "
        f"AND owner = 'ordos' AND asset = '{WATER}'",
        f"UPDATE ledger_accounts SET balance = balance - 1 WHERE kind = 'issuance' "
        f"AND asset = '{WATER}'",
    )
    assert checks(book) == {"journal_hash": {journal.id}}


@pytest.mark.parametrize(
    ("column", "value"),
    [
        ("actor", "'mallory'"),
        ("kind", "'correction'"),
        ("reference", "'a:999'"),
        ("created_at", "'2020-01-01 00:00:00.000000'"),
        ("seq", "seq"),  # control: unchanged row stays clean
    ],
)
def test_changed_journal_field(book: Session, column: str, value: str) -> None:
    journal = journal_of_reference(book, "d:1")
    as_attacker(book, f"UPDATE ledger_journals SET {column} = {value} WHERE id = {journal.id}")
    if column == "seq":
        assert checks(book) == {}
    else:
        assert checks(book) == {"journal_hash": {journal.id}}


def test_changed_hash_breaks_its_journal_and_the_next_link(book: Session) -> None:
    first = journal_of_reference(book, "a:1")
    after = book.scalars(
        select(Journal).where(Journal.chain == first.chain, Journal.seq == first.seq + 1)
    ).one()
    as_attacker(book, f"UPDATE ledger_journals SET hash = '{'f' * 64}' WHERE id = {first.id}")
    found = checks(book)
    assert found["journal_hash"] == {first.id}
    assert found["chain_link"] == {after.id}


def test_rehashed_journal_still_breaks_the_chain(book: Session) -> None:
    """Altering a journal and recomputing its hash moves the break to the next link."""
    journal = journal_of_reference(book, "a:1")
    lines = sorted(
        f"{a.asset}|{a.kind}|{a.owner}|{p.amount}|{p.hold_id or ''}"
        for p, a in book.execute(
            select(Posting, Account).join(Account).where(Posting.journal_id == journal.id)
        )
    )
    stamp = journal.created_at.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    header = f"v1|{journal.chain}|{journal.seq}|{journal.prev_hash}|issuance|a:1|mallory|{stamp}"
    forged = hashlib.sha256("\n".join([header, *lines]).encode()).hexdigest()
    as_attacker(
        book,
        f"UPDATE ledger_journals SET actor = 'mallory', hash = '{forged}' WHERE id = {journal.id}",
    )
    found = checks(book)
    assert "journal_hash" not in found
    assert len(found["chain_link"]) == 1


def test_deleted_journal_and_postings(book: Session) -> None:
    journal = journal_of_reference(book, "d:1")
    seq, jid = journal.seq, journal.id
    as_attacker(
        book,
        f"DELETE FROM ledger_postings WHERE journal_id = {jid}",
        f"DELETE FROM ledger_journals WHERE id = {jid}",
    )
    found = checks(book)
    assert found["chain_gap"] == {journal_of_reference(book, "d:2").id}
    assert "balance" in found
    violation = next(v for v in ledger.verify(book).violations if v.check == "chain_gap")
    assert violation.chain == CASH and violation.expected == seq


def test_deleted_last_journal_is_caught_by_the_chain_head(book: Session) -> None:
    journal = journal_of_reference(book, "r:1")
    as_attacker(
        book,
        f"DELETE FROM ledger_postings WHERE journal_id = {journal.id}",
        f"DELETE FROM ledger_journals WHERE id = {journal.id}",
    )
    found = checks(book)
    assert found["chain_head"] == {WATER}


def test_deleted_journal_row_leaves_orphan_postings(book: Session) -> None:
    jid = journal_of_reference(book, "a:1").id
    as_attacker(book, f"DELETE FROM ledger_journals WHERE id = {jid}")
    found = checks(book)
    assert found["orphan_posting"] == {jid}
    assert "chain_gap" in found


def test_deleted_posting(book: Session) -> None:
    journal = journal_of_reference(book, "a:1")
    posting = book.scalars(select(Posting.id).where(Posting.journal_id == journal.id)).first()
    as_attacker(book, f"DELETE FROM ledger_postings WHERE id = {posting}")
    found = checks(book)
    assert found["journal_hash"] == {journal.id}
    assert found["unbalanced_journal"] == {journal.id}


def _forge(book: Session, seq: int, prev: str, digest: str, chain: str = WATER) -> int:
    ordos = book.scalars(
        select(Account.id).where(Account.owner == "ordos", Account.asset == WATER)
    ).first()
    issuer = book.scalars(
        select(Account.id).where(Account.kind == "issuance", Account.asset == WATER)
    ).one()
    new_id = (book.scalar(select(Journal.id).order_by(Journal.id.desc()).limit(1)) or 0) + 100
    as_attacker(
        book,
        "INSERT INTO ledger_journals (id, chain, seq, kind, reference, actor, created_at, "
        f"prev_hash, hash) VALUES ({new_id}, '{chain}', {seq}, 'issuance', 'a:forged', 'r', "
        f"'2026-01-01 00:00:00.000000', '{prev}', '{digest}')",
        "INSERT INTO ledger_postings (journal_id, account_id, amount) "
        f"VALUES ({new_id}, {issuer}, -5)",
        "INSERT INTO ledger_postings (journal_id, account_id, amount) "
        f"VALUES ({new_id}, {ordos}, 5)",
        f"UPDATE ledger_accounts SET balance = balance + 5 WHERE id = {ordos}",
        f"UPDATE ledger_accounts SET balance = balance - 5 WHERE id = {issuer}",
    )
    return new_id


def test_forged_journal_at_the_end(book: Session) -> None:
    head = book.get(Chain, WATER)
    assert head is not None
    forged = _forge(book, head.seq + 1, head.head_hash, "ab" * 32)
    found = checks(book)
    assert found["journal_hash"] == {forged}
    assert found["chain_head"] == {WATER}


def test_forged_journal_with_a_valid_hash_at_the_end(book: Session) -> None:
    """Even a correctly hashed and linked forgery shows: the chain head does not vouch."""
    head = book.get(Chain, WATER)
    assert head is not None
    header = (
        f"v1|{WATER}|{head.seq + 1}|{head.head_hash}|issuance|a:forged|r|"
        "2026-01-01T00:00:00.000000Z"
    )
    lines = [f"{WATER}|issuance|regulator|-5|", f"{WATER}|league|ordos|5|"]
    digest = hashlib.sha256("\n".join([header, *sorted(lines)]).encode()).hexdigest()
    _forge(book, head.seq + 1, head.head_hash, digest)
    assert checks(book) == {"chain_head": {WATER}}


def test_forged_journal_on_an_unknown_chain(book: Session) -> None:
    header = f"v1|market:99|1|{GENESIS}|issuance|a:forged|r|2026-01-01T00:00:00.000000Z"
    lines = [f"{WATER}|issuance|regulator|-5|", f"{WATER}|league|ordos|5|"]
    digest = hashlib.sha256("\n".join([header, *sorted(lines)]).encode()).hexdigest()
    _forge(book, 1, GENESIS, digest, chain="market:99")
    assert checks(book) == {"chain_head": {"market:99"}}


def test_changed_balance_or_hold(book: Session) -> None:
    as_attacker(
        book,
        "UPDATE ledger_accounts SET balance = balance + 7 WHERE kind = 'league' "
        f"AND owner = 'hohhot' AND asset = '{WATER}'",
        "UPDATE ledger_holds SET remaining = remaining + 1",
    )
    found = checks(book)
    assert set(found) == {"balance", "hold", "escrow", "conservation"}


def test_relabelled_account(book: Session) -> None:
    as_attacker(book, "UPDATE ledger_accounts SET owner = 'mallory' WHERE owner = 'hohhot'")
    assert set(checks(book)) == {"journal_hash"}


def test_the_report_names_expected_and_found(book: Session) -> None:
    as_attacker(
        book,
        "UPDATE ledger_accounts SET balance = 123 WHERE kind = 'retirement'",
    )
    report = ledger.verify(book)
    balance = next(v for v in report.violations if v.check == "balance")
    assert (balance.expected, balance.found) == (100, 123)
    conservation = next(v for v in report.violations if v.check == "conservation")
    assert conservation.asset == WATER
    assert conservation.to_dict()["expected"] == 1000
