"""The ledger's Python API: issuance, cash, transfers, holds, settlement, append-only."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import DatabaseError
from sqlalchemy.orm import Session

import ledger
from exchange.mechanisms.call_auction import settlement
from exchange.mechanisms.call_auction.settlement import Fill
from ledger import CASH, AccountKind, JournalKind, JournalSpec, PostingSpec
from ledger.models import Journal
from tests.ledger.helpers import assert_clean, counts

WATER = ledger.market_asset(1)


def avail(session: Session, league: str, asset: str) -> int:
    return ledger.balance_of(session, ledger.league_account(league, asset))


def held(session: Session, league: str, asset: str) -> int:
    return ledger.balance_of(session, ledger.escrow_account(league, asset))


def seed(session: Session) -> None:
    ledger.issue(session, league="ordos", asset=WATER, amount=1000, reference="a:1", actor="reg")
    ledger.issue(session, league="baotou", asset=WATER, amount=500, reference="a:2", actor="reg")
    for league in ("ordos", "baotou", "hohhot"):
        ledger.deposit_cash(session, league=league, amount=100_000, reference="d", actor="reg")
    session.commit()


def test_issue_deposit_and_balances(session: Session) -> None:
    seed(session)
    assert avail(session, "ordos", WATER) == 1000
    assert ledger.issued_total(session, WATER) == 1500
    assert ledger.balance_of(session, ledger.issuance_account(CASH)) == -300_000
    views = {b.asset: b for b in ledger.balances(session, "ordos")}
    assert views[WATER] == ledger.BalanceView(WATER, 1000, 0, 1000)
    assert views[CASH].available == 100_000
    report = assert_clean(session)
    assert report.assets[WATER]["issued"] == 1500
    assert report.journals == 5


def test_cap_is_never_exceeded(session: Session) -> None:
    seed(session)
    with pytest.raises(ledger.CapExceeded) as info:
        ledger.issue(
            session, league="ordos", asset=WATER, amount=501, reference="x", actor="r", cap=2000
        )
    assert info.value.issued == 1500 and info.value.cap == 2000
    session.rollback()
    ledger.issue(
        session, league="ordos", asset=WATER, amount=500, reference="x", actor="r", cap=2000
    )
    session.commit()
    assert ledger.issued_total(session, WATER) == 2000


def test_transfer_and_retire(session: Session) -> None:
    seed(session)
    ledger.transfer(
        session,
        source=ledger.league_account("ordos", WATER),
        target=ledger.league_account("hohhot", WATER),
        amount=300,
        reference="t:1",
        actor="reg",
    )
    ledger.retire(session, league="hohhot", asset=WATER, amount=100, reference="r:1", actor="h")
    session.commit()
    assert avail(session, "ordos", WATER) == 700
    assert avail(session, "hohhot", WATER) == 200
    assert ledger.balance_of(session, ledger.retirement_account(WATER)) == 100
    with pytest.raises(ledger.InsufficientFunds) as info:
        ledger.retire(session, league="hohhot", asset=WATER, amount=201, reference="r", actor="h")
    assert info.value.available == 200 and info.value.requested == 201
    session.rollback()
    assert_clean(session)


def test_hold_release_and_insufficient_funds(session: Session) -> None:
    seed(session)
    before = counts(session)
    with pytest.raises(ledger.InsufficientFunds) as info:
        ledger.place_hold(
            session, league="ordos", asset=WATER, amount=1001, reference="order:1", actor="o"
        )
    assert info.value.available == 1000
    session.rollback()
    assert counts(session) == before
    hold = ledger.place_hold(
        session, league="ordos", asset=WATER, amount=600, reference="order:1", actor="o"
    )
    session.commit()
    assert (avail(session, "ordos", WATER), held(session, "ordos", WATER)) == (400, 600)
    assert ledger.balances(session, "ordos")[1] == ledger.BalanceView(WATER, 1000, 600, 400)
    ledger.release_hold(session, hold, amount=100, actor="o")
    with pytest.raises(ledger.HoldExceeded):
        ledger.release_hold(session, hold, amount=501, actor="o")
    session.rollback()
    ledger.release_hold(session, hold, amount=100, actor="o")
    ledger.release_hold(session, hold, actor="o")
    assert ledger.release_hold(session, hold, actor="o") is None
    session.commit()
    assert ledger.get_hold(session, hold).remaining == 0
    assert (avail(session, "ordos", WATER), held(session, "ordos", WATER)) == (1000, 0)
    with pytest.raises(ledger.HoldNotFound):
        ledger.release_hold(session, 999, actor="o")
    assert_clean(session)


def test_settlement_is_delivery_versus_payment_with_congestion_rent(session: Session) -> None:
    seed(session)
    sell_a = ledger.place_hold(
        session, league="ordos", asset=WATER, amount=300, reference="order:1", actor="o"
    )
    sell_b = ledger.place_hold(
        session, league="baotou", asset=WATER, amount=100, reference="order:2", actor="b"
    )
    buy = ledger.place_hold(
        session,
        league="hohhot",
        asset=CASH,
        amount=400 * 60,
        reference="order:3",
        actor="h",
        chain=WATER,
    )
    session.commit()
    # Ordos' zone clears at 40, Baotou's at 50, Hohhot (the buyer) at 55: rent flows.
    result = settlement.settle_fills(
        session,
        asset=WATER,
        reference="run:1",
        actor="clearing",
        fills=[
            Fill(sell_a, 250, 40, "order:1", release_rest=True),
            Fill(sell_b, 100, 50, "order:2"),
            Fill(buy, 350, 55, "order:3", limit=60),
        ],
    )
    session.commit()
    assert result.volume == 350
    assert result.paid_by_buyers == 350 * 55
    assert result.paid_to_sellers == 250 * 40 + 100 * 50
    assert result.congestion_rent == 350 * 55 - 15_000
    assert len(result.journal_ids) == 4
    assert avail(session, "ordos", WATER) == 750 and held(session, "ordos", WATER) == 0
    assert avail(session, "ordos", CASH) == 100_000 + 10_000
    assert avail(session, "baotou", CASH) == 105_000
    assert avail(session, "hohhot", WATER) == 350
    assert avail(session, "hohhot", CASH) == 100_000 - 24_000 + 350 * 5
    assert held(session, "hohhot", CASH) == 50 * 60
    assert ledger.balance_of(session, ledger.clearing_account(WATER)) == 0
    assert ledger.balance_of(session, ledger.clearing_account(CASH)) == 0
    assert ledger.balance_of(session, ledger.congestion_account(WATER)) == result.congestion_rent
    assert_clean(session)


def test_unbalanced_run_writes_nothing(session: Session) -> None:
    seed(session)
    sell = ledger.place_hold(
        session, league="ordos", asset=WATER, amount=300, reference="o:1", actor="o"
    )
    session.commit()
    before = counts(session)
    with pytest.raises(ledger.InvalidPosting, match="sells 300 but buys 0"):
        settlement.settle_fills(
            session, asset=WATER, reference="run:1", actor="c", fills=[Fill(sell, 300, 40, "o:1")]
        )
    session.rollback()
    assert counts(session) == before
    with pytest.raises(ledger.HoldExceeded):
        settlement.settle_fills(
            session, asset=WATER, reference="run:1", actor="c", fills=[Fill(sell, 301, 40, "o:1")]
        )
    session.rollback()
    assert_clean(session)


@pytest.mark.parametrize(
    ("postings", "message"),
    [
        ([], "needs postings"),
        ([PostingSpec(ledger.league_account("a", WATER), 5)], "does not balance"),
        ([PostingSpec(ledger.league_account("a", WATER), 0)], "non-zero integer"),
        ([PostingSpec(ledger.league_account("a", WATER), 1.0)], "non-zero integer"),  # type: ignore[arg-type]
        ([PostingSpec(ledger.league_account("a", WATER), True)], "non-zero integer"),
    ],
)
def test_bad_journals_are_refused(
    session: Session, postings: list[PostingSpec], message: str
) -> None:
    with pytest.raises(ledger.InvalidPosting, match=message):
        ledger.post_journal(session, JournalSpec(JournalKind.CORRECTION, "c:1", "reg", postings))


def test_bad_text_and_kind_are_refused(session: Session) -> None:
    legs = [
        PostingSpec(ledger.issuance_account(WATER), -1),
        PostingSpec(ledger.league_account("a|b", WATER), 1),
    ]
    with pytest.raises(ledger.InvalidPosting, match="owner"):
        ledger.post_journal(session, JournalSpec(JournalKind.ISSUANCE, "r", "reg", legs))
    with pytest.raises(ledger.InvalidPosting, match="reference"):
        ledger.post_journal(session, JournalSpec(JournalKind.ISSUANCE, "a\nb", "reg", legs[:1]))
    with pytest.raises(ledger.InvalidPosting, match="kind"):
        ledger.post_journal(session, JournalSpec("gift", "r", "reg", legs))


def test_a_journal_hash_is_recomputable_from_its_documented_form(session: Session) -> None:
    now = datetime(2026, 11, 27, 8, 30, 0, 123456, tzinfo=UTC)
    legs = (
        PostingSpec(ledger.issuance_account("market:1"), -5000),
        PostingSpec(ledger.league_account("ordos", "market:1"), 5000),
    )
    jid = ledger.post_journal(
        session, JournalSpec(JournalKind.ISSUANCE, "allocation:demo", "regulator", legs), now=now
    )
    session.commit()
    journal = session.get(Journal, jid)
    assert journal is not None
    canonical = (
        "v1|market:1|1|" + "0" * 64 + "|issuance|allocation:demo|regulator|"
        "2026-11-27T08:30:00.123456Z\n"
        "market:1|issuance|regulator|-5000|\n"
        "market:1|league|ordos|5000|"
    )
    assert journal.hash == hashlib.sha256(canonical.encode()).hexdigest()
    assert journal.prev_hash == "0" * 64


def test_the_database_refuses_updates_and_deletes(session: Session) -> None:
    seed(session)
    for statement in (
        "UPDATE ledger_postings SET amount = amount + 1",
        "DELETE FROM ledger_postings",
        "UPDATE ledger_journals SET actor = 'mallory'",
        "DELETE FROM ledger_journals",
        "UPDATE ledger_accounts SET owner = 'mallory'",
        "DELETE FROM ledger_accounts",
        "UPDATE ledger_chains SET seq = seq - 1",
    ):
        with pytest.raises(DatabaseError):
            session.execute(text(statement))
        session.rollback()
    if session.get_bind().dialect.name == "postgresql":
        with pytest.raises(DatabaseError):
            session.execute(text("TRUNCATE ledger_postings"))
        session.rollback()
    # The derived columns may change (the ledger keeps them in step with postings).
    session.execute(text("UPDATE ledger_accounts SET balance = balance"))
    session.rollback()
    assert_clean(session)


def test_account_kinds_are_open_for_counterparts(session: Session) -> None:
    key = ledger.AccountKey("counterpart", "ningxia", CASH)
    ledger.deposit_cash(session, league="ordos", amount=10, reference="d", actor="reg")
    ledger.transfer(
        session,
        source=ledger.league_account("ordos", CASH),
        target=key,
        amount=10,
        reference="x",
        actor="reg",
    )
    session.commit()
    assert ledger.balance_of(session, key) == 10
    assert AccountKind("escrow") is AccountKind.ESCROW
    assert_clean(session)
    assert session.scalar(select(Journal.chain).order_by(Journal.id.desc()).limit(1)) == CASH
