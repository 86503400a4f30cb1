"""Signed checkpoints: a truncated or rewritten ledger, forged checkpoints, key rotation.

The attacker has write access to the database (the append-only triggers are
bypassed as in test_tamper.py) but not the signing key.
"""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

import ledger
from exchange.mechanisms.call_auction import settlement
from exchange.mechanisms.call_auction.settlement import Fill
from ledger import CASH
from ledger import checkpoints as cps
from ledger.checkpoint_models import Checkpoint
from ledger.models import Journal
from ledger.signing import (
    ChainHead,
    CheckpointStatement,
    SignedCheckpoint,
    checkpoint_from_json,
    checkpoint_to_json,
    public_key_text,
    sign,
    trusted_keys,
)
from tests.ledger.helpers import as_attacker, assert_clean

WATER = ledger.market_asset(7)
# A fixed key, so that the documented worked example is a test (Ed25519 is deterministic).
FIXED = Ed25519PrivateKey.from_private_bytes(bytes(range(32)))


@pytest.fixture
def key() -> Ed25519PrivateKey:
    return Ed25519PrivateKey.generate()


@pytest.fixture
def book(session: Session) -> Session:
    """Issuance, cash, holds, a settled run and a retirement on two markets' chains."""
    ledger.issue(session, league="ordos", asset=WATER, amount=1000, reference="a:1", actor="r")
    ledger.deposit_cash(session, league="hohhot", amount=50_000, reference="d:1", actor="r")
    sell = ledger.place_hold(
        session, league="ordos", asset=WATER, amount=400, reference="o:1", actor="o"
    )
    buy = ledger.place_hold(
        session, league="hohhot", asset=CASH, amount=20_000, reference="o:2", actor="h", chain=WATER
    )
    settlement.settle_fills(
        session,
        asset=WATER,
        reference="run:1",
        actor="c",
        fills=[Fill(sell, 300, 45, "o:1"), Fill(buy, 300, 45, "o:2", limit=50)],
    )
    session.commit()
    return session


def trust(key: Ed25519PrivateKey, session: Session | None = None) -> dict[str, object]:
    records = [] if session is None else cps.as_key_records(cps.key_records(session))
    return trusted_keys([public_key_text(key)], records)  # type: ignore[return-value]


def stored(session: Session, seq: int) -> SignedCheckpoint:
    row = cps.get(session, seq)
    assert row is not None
    return cps.signed(row)


def checks(violations: list[ledger.Violation]) -> dict[str, set[str | None]]:
    found: dict[str, set[str | None]] = {}
    for v in violations:
        found.setdefault(v.check, set()).add(v.chain)
    return found


def test_a_checkpoint_states_every_chain_head_and_links_to_the_previous(
    book: Session, key: Ed25519PrivateKey
) -> None:
    first = cps.create_checkpoint(book, key, reference="test")
    assert first is not None and first.seq == 1 and first.prev_hash == "0" * 64
    heads = {h.name: (h.seq, h.head) for h in cps.signed(first).statement.heads}
    book.commit()
    report = assert_clean(book)
    book.rollback()  # verify streams with server-side cursors on PostgreSQL: end its transaction
    assert heads == {name: (c["seq"], c["head"]) for name, c in report.chains.items()}
    assert cps.create_checkpoint(book, key, reference="again", only_if_changed=True) is None
    ledger.retire(book, league="hohhot", asset=WATER, amount=10, reference="r:1", actor="h")
    second = cps.create_checkpoint(book, key, reference="after", only_if_changed=True)
    assert second is not None and second.seq == 2 and second.prev_hash == first.hash
    book.commit()
    assert cps.check_against_ledger(book, stored(book, 2), trust(key, book)) == []
    assert [r.seq for r in cps.list_checkpoints(book, since=1)] == [2]


def test_truncation_is_clean_alone_but_caught_against_a_checkpoint(
    book: Session, key: Ed25519PrivateKey
) -> None:
    ledger.retire(book, league="hohhot", asset=WATER, amount=100, reference="r:1", actor="h")
    ledger.retire(book, league="ordos", asset=WATER, amount=50, reference="r:2", actor="o")
    cps.create_checkpoint(book, key, reference="published")
    book.commit()
    checkpoint = stored(book, 1)
    water_seq = {h.name: h.seq for h in checkpoint.statement.heads}[WATER]
    # The attacker deletes the two retirements, undoes their balances, rewinds the head,
    # and deletes the checkpoint rows that would give it away.
    tail = list(book.scalars(select(Journal).where(Journal.chain == WATER).order_by(Journal.seq)))[
        -2:
    ]
    ids = ", ".join(str(j.id) for j in tail)
    keep = book.scalars(
        select(Journal).where(Journal.chain == WATER, Journal.seq == water_seq - 2)
    ).one()
    as_attacker(
        book,
        "UPDATE ledger_accounts SET balance = balance - COALESCE((SELECT SUM(p.amount) "
        "FROM ledger_postings p WHERE p.account_id = ledger_accounts.id "
        f"AND p.journal_id IN ({ids})), 0)",
        f"DELETE FROM ledger_postings WHERE journal_id IN ({ids})",
        f"DELETE FROM ledger_journals WHERE id IN ({ids})",
        f"UPDATE ledger_chains SET seq = {keep.seq}, head_hash = '{keep.hash}' "
        f"WHERE name = '{WATER}'",
        "DELETE FROM ledger_checkpoints",
    )
    assert_clean(book)  # the chain alone cannot tell
    found = cps.check_against_ledger(book, checkpoint, trust(key))
    assert [v.check for v in found] == ["checkpoint_behind"]
    assert found[0].chain == WATER
    assert found[0].expected == water_seq and found[0].found == water_seq - 2
    assert f"#{water_seq - 1}..#{water_seq} are missing" in found[0].message


def test_a_rewritten_and_rehashed_tail_is_caught_by_the_head_hash(
    book: Session, key: Ed25519PrivateKey
) -> None:
    cps.create_checkpoint(book, key, reference="published")
    book.commit()
    last = book.scalars(
        select(Journal).where(Journal.chain == WATER).order_by(Journal.seq.desc()).limit(1)
    ).one()
    original, forged = last.hash, "ab" * 32
    as_attacker(
        book,
        f"UPDATE ledger_journals SET hash = '{forged}' WHERE id = {last.id}",
        f"UPDATE ledger_chains SET head_hash = '{forged}' WHERE name = '{WATER}'",
    )
    found = cps.check_against_ledger(book, stored(book, 1), trust(key))
    assert checks(found) == {"checkpoint_head": {WATER}}
    assert found[0].expected == original and found[0].found == forged


def test_an_altered_or_forged_checkpoint_fails_the_signature(
    book: Session, key: Ed25519PrivateKey
) -> None:
    cps.create_checkpoint(book, key, reference="published")
    book.commit()
    good = stored(book, 1)
    statement = good.statement
    # Lower a chain's head in the statement (to hide a truncation), keep the signature.
    heads = tuple(
        ChainHead(h.name, h.seq - 1, h.head) if h.name == WATER else h for h in statement.heads
    )
    lowered = dataclasses.replace(statement, heads=heads)
    altered = SignedCheckpoint(lowered, lowered.digest(), good.signature)
    problems = checks(cps.check_against_ledger(book, altered, trust(key)))
    assert problems.keys() == {"checkpoint_signature", "checkpoint_head"}
    # The same statement signed by the attacker's own key: not a trusted key.
    mallory = Ed25519PrivateKey.generate()
    forged_statement = dataclasses.replace(
        lowered, key_id=ledger.signing.key_id_of(public_key_text(mallory))
    )
    forged = SignedCheckpoint(
        forged_statement, forged_statement.digest(), sign(mallory, forged_statement.text())
    )
    messages = [v.message for v in cps.check_against_ledger(book, forged, trust(key))]
    assert any("not a trusted key" in m for m in messages)
    # A changed hash field alone, and a mangled signature.
    for bad in (
        dataclasses.replace(good, hash="0" * 64),
        dataclasses.replace(good, signature=sign(key, "something else")),
    ):
        assert checks(cps.check_against_ledger(book, bad, trust(key))) == {
            "checkpoint_signature": {None}
        }
    assert cps.check_against_ledger(book, good, trust(key)) == []


def test_the_json_form_round_trips_and_refuses_malformed_input(
    book: Session, key: Ed25519PrivateKey
) -> None:
    cps.create_checkpoint(book, key, reference="published")
    good = stored(book, 1)
    data = checkpoint_to_json(dataclasses.replace(good, public_key=public_key_text(key)))
    assert checkpoint_from_json(data) == dataclasses.replace(good, public_key=public_key_text(key))
    for field, value in (("seq", "1"), ("seq", True), ("prev_hash", "x"), ("chains", {})):
        with pytest.raises(ValueError):
            checkpoint_from_json({**data, field: value})
    with pytest.raises(ValueError):
        checkpoint_from_json({k: v for k, v in data.items() if k != "signature"})


def test_key_rotation_both_keys_verify_and_the_old_one_is_retired(
    book: Session, key: Ed25519PrivateKey
) -> None:
    old = key
    t0 = datetime(2026, 11, 30, 1, 0, tzinfo=UTC)
    cps.create_checkpoint(book, old, reference="before", now=t0)
    new = Ed25519PrivateKey.generate()
    cps.register_key(book, new, predecessor=old, now=t0 + timedelta(minutes=1))
    cps.create_checkpoint(book, new, reference="after", now=t0 + timedelta(minutes=2))
    book.commit()
    for anchor in (old, new):  # pinned to either key, both checkpoints verify
        keys = trust(anchor, book)
        assert set(keys) == {ledger.signing.key_id_of(public_key_text(k)) for k in (old, new)}
        for seq in (1, 2):
            assert cps.check_against_ledger(book, stored(book, seq), keys) == [], seq
    # The old key signing after its retirement (a stolen key) is refused.
    late = CheckpointStatement(
        3,
        "2026-11-30T01:05:00.000000Z",
        "late",
        stored(book, 2).hash,
        ledger.signing.key_id_of(public_key_text(old)),
        stored(book, 2).statement.heads,
    )
    stolen = SignedCheckpoint(late, late.digest(), sign(old, late.text()))
    messages = [v.message for v in cps.check_against_ledger(book, stolen, trust(new, book))]
    assert len(messages) == 1 and "retired at 2026-11-30T01:01:00.000000Z" in messages[0]


def test_rotation_without_the_old_private_key_is_trusted_backwards_only(
    book: Session, key: Ed25519PrivateKey
) -> None:
    cps.create_checkpoint(book, key, reference="before")
    new = Ed25519PrivateKey.generate()
    cps.register_key(book, new, predecessor=public_key_text(key))
    book.commit()
    assert ledger.signing.key_id_of(public_key_text(key)) in trust(new, book)
    assert ledger.signing.key_id_of(public_key_text(new)) not in trust(key, book)


def test_checkpoint_rows_are_append_only(book: Session, key: Ed25519PrivateKey) -> None:
    cps.create_checkpoint(book, key, reference="x")
    book.commit()
    for statement in (
        "UPDATE ledger_checkpoints SET reference = 'y'",
        "DELETE FROM ledger_checkpoints",
        "DELETE FROM ledger_signing_keys",
    ):
        with pytest.raises(DBAPIError):
            book.execute(text(statement))
        book.rollback()
    assert book.scalar(select(Checkpoint.reference)) == "x"


def test_the_documented_worked_example() -> None:
    statement = CheckpointStatement(
        seq=1,
        created_at="2026-11-27T08:35:00.000000Z",
        reference="clearing_run:1",
        prev_hash="0" * 64,
        key_id=ledger.signing.key_id_of(public_key_text(FIXED)),
        heads=(
            ChainHead("market:1/ordos", 1, HOLD_HASH),
            ChainHead("market:1", 2, RETIREMENT_HASH),
        ),
    )
    assert statement.text().splitlines()[1].startswith("market:1/ordos|1|")  # "/" < "|"
    assert statement.key_id == DOC_KEY_ID
    assert statement.digest() == DOC_HASH
    assert public_key_text(FIXED) == DOC_PUBLIC_KEY
    assert sign(FIXED, statement.text()) == DOC_SIGNATURE


# The journal hashes of the worked examples of docs/ledger.md ("Canonical form").
HOLD_HASH = "2670408871d8530dafa30ec55231e822ae5989cc6dc693690236b79f7f26b370"
RETIREMENT_HASH = "008e701fa6fdcae4f5dfb20cdced3da3877ea45aacc327919a5cb38135990fed"
# The values printed in docs/ledger.md ("Checkpoints", worked example).
DOC_PUBLIC_KEY = "A6EHv/POEL4dcN0Y50vAmWfk1jCbpQ1fHdyGZBJVMbg="
DOC_KEY_ID = "56475aa75463474c0285df5dbf2bcab73da651358839e9b77481b2eab107708c"
DOC_HASH = "b9c2c995b9ed02515521acc2a410e6144b4b05e9b144e7e5d9d12294b8bfcb81"
DOC_SIGNATURE = (
    "HsSBuAG4Tk9cOGT2D6pjXCq/9UdaM9JXpz3zf75+ZUacJBrBJZBZnqpKiiAAhhr/1b4TvWP79s1Khgowhf0qBw=="
)
