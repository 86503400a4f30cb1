"""PostgreSQL: a small write (journals, postings, balances, holds, chain heads) in one
statement of data-modifying CTEs, one round trip (the order and cancel paths)."""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from ledger.driver import array_literal, compiled_for, defer, fetch_rows

# PostgreSQL: a whole small write (journals, their postings, balances, holds and chain
# heads) in one statement of data-modifying CTEs, one round trip; the arrays keep its text
# fixed, so it is prepared once per shape. Postings are inserted in the order given (their
# ids keep the order the journal hashes were computed in). A part with nothing to write is
# left out, not run on empty arrays: the plan PostgreSQL caches for a prepared statement
# is made with the statistics of its day, and an UPDATE joined to an empty array, planned
# when ledger_holds was small, scanned the whole table on every order once it was not. The
# ``= ANY`` conditions give each UPDATE an index path of its own, whatever the join.
_WRITE_HEAD = """
WITH jv AS (
    SELECT * FROM unnest(
        CAST(:j_ord AS INT[]), CAST(:j_chain AS VARCHAR[]), CAST(:j_seq AS BIGINT[]),
        CAST(:j_kind AS VARCHAR[]), CAST(:j_reference AS VARCHAR[]),
        CAST(:j_actor AS VARCHAR[]), CAST(:j_created_at AS TIMESTAMPTZ[]),
        CAST(:j_prev_hash AS VARCHAR[]), CAST(:j_hash AS VARCHAR[])
    ) AS v(ord, chain, seq, kind, reference, actor, created_at, prev_hash, hash)
), j AS (
    INSERT INTO ledger_journals (chain, seq, kind, reference, actor, created_at, prev_hash, hash)
    SELECT chain, seq, kind, reference, actor, created_at, prev_hash, hash FROM jv ORDER BY ord
    RETURNING id, chain, seq
), p AS (
    INSERT INTO ledger_postings (journal_id, account_id, amount, hold_id)
    SELECT j.id, pv.account_id, pv.amount, pv.hold_id
    FROM unnest(
        CAST(:p_ord AS INT[]), CAST(:p_journal AS INT[]), CAST(:p_account AS BIGINT[]),
        CAST(:p_amount AS BIGINT[]), CAST(:p_hold AS BIGINT[])
    ) AS pv(ord, journal, account_id, amount, hold_id)
    JOIN jv ON jv.ord = pv.journal
    JOIN j ON j.chain = jv.chain AND j.seq = jv.seq
    ORDER BY pv.ord
"""
_WRITE_BALANCES = """
), b AS (
    UPDATE ledger_accounts AS t SET balance = t.balance + v.delta
    FROM unnest(CAST(:b_ids AS BIGINT[]), CAST(:b_deltas AS BIGINT[])) AS v(id, delta)
    WHERE t.id = v.id AND t.id = ANY(CAST(:b_ids AS BIGINT[]))
"""
_WRITE_HOLD_DELTAS = """
), h AS (
    UPDATE ledger_holds AS t SET remaining = t.remaining + v.delta
    FROM unnest(CAST(:h_ids AS BIGINT[]), CAST(:h_deltas AS BIGINT[])) AS v(id, delta)
    WHERE t.id = v.id AND t.id = ANY(CAST(:h_ids AS BIGINT[]))
"""
_WRITE_NEW_HOLDS = """
), nh AS (
    INSERT INTO ledger_holds
        (id, main_account_id, escrow_account_id, amount, remaining, reference, created_at)
    SELECT id, main, escrow, amount, amount, reference, created_at FROM unnest(
        CAST(:nh_ids AS BIGINT[]), CAST(:nh_main AS BIGINT[]), CAST(:nh_escrow AS BIGINT[]),
        CAST(:nh_amount AS BIGINT[]), CAST(:nh_reference AS VARCHAR[]),
        CAST(:nh_created_at AS TIMESTAMPTZ[])
    ) AS v(id, main, escrow, amount, reference, created_at)
"""
_WRITE_TAIL = """
), c AS (
    UPDATE ledger_chains AS t SET seq = v.seq, head_hash = v.head
    FROM unnest(
        CAST(:c_names AS VARCHAR[]), CAST(:c_seqs AS BIGINT[]), CAST(:c_heads AS VARCHAR[])
    ) AS v(name, seq, head)
    WHERE t.name = v.name AND t.name = ANY(CAST(:c_names AS VARCHAR[]))
)
SELECT jv.ord, j.id FROM j JOIN jv ON j.chain = jv.chain AND j.seq = jv.seq
"""


# One journal on one chain (an order's hold or its release, the hot path): the same write
# with the journal, the new hold and the chain head as plain parameters, not arrays to unnest
# and join back (PostgreSQL's CPU for the write: 252 -> 228 µs).
_WRITE_ONE_HEAD = """
WITH j AS (
    INSERT INTO ledger_journals (chain, seq, kind, reference, actor, created_at, prev_hash, hash)
    VALUES (:j_chain, :j_seq, :j_kind, :j_reference, :j_actor, :j_created_at, :j_prev_hash, :j_hash)
    RETURNING id
), p AS (
    INSERT INTO ledger_postings (journal_id, account_id, amount, hold_id)
    SELECT j.id, pv.account_id, pv.amount, pv.hold_id
    FROM j, unnest(
        CAST(:p_ord AS INT[]), CAST(:p_account AS BIGINT[]), CAST(:p_amount AS BIGINT[]),
        CAST(:p_hold AS BIGINT[])
    ) AS pv(ord, account_id, amount, hold_id)
    ORDER BY pv.ord
"""
# Its balance and hold updates take their rows as plain parameters too. PostgreSQL plans
# an array parameter at ten rows: the generic plan of an UPDATE joined to one, costed for
# ten index probes, lost to the custom plan of the rows at hand, so PostgreSQL planned the
# cancel's write anew on every run (117 µs of the 270 it spent on it). A list of parameters
# is costed at its length, generic or not.
_WRITE_ONE_BALANCES = """
), b AS (
    UPDATE ledger_accounts AS t SET balance = t.balance + v.delta
    FROM (VALUES {rows}) AS v(id, delta)
    WHERE t.id = v.id AND t.id IN ({ids})
"""
_WRITE_ONE_HOLD_DELTA = """
), h AS (
    UPDATE ledger_holds SET remaining = remaining + :h_delta WHERE id = :h_id
"""
ONE_MAX_BALANCES = 4
"""A write of one journal touching more accounts than this takes the arrays' shape."""
_WRITE_ONE_NEW_HOLD = """
), nh AS (
    INSERT INTO ledger_holds
        (id, main_account_id, escrow_account_id, amount, remaining, reference, created_at)
    VALUES (:nh_ids, :nh_main, :nh_escrow, :nh_amount, :nh_amount, :nh_reference, :nh_created_at)
"""
_WRITE_ONE_TAIL = """
), c AS (
    UPDATE ledger_chains SET seq = :c_seq, head_hash = :c_head WHERE name = :c_name
)
SELECT id FROM j
"""


@functools.cache
def write_sql(balances: int | None, hold_deltas: bool, new_holds: bool) -> str:
    """The statement of :func:`write_at_once`: for many journals (``balances`` None), or
    for one journal on one chain updating ``balances`` accounts and at most one hold; with
    or without its two optional parts."""
    if balances is None:
        parts = [_WRITE_HEAD, _WRITE_BALANCES]
        parts += [_WRITE_HOLD_DELTAS] if hold_deltas else []
        parts += [_WRITE_NEW_HOLDS, _WRITE_TAIL] if new_holds else [_WRITE_TAIL]
    else:
        rows = ", ".join(
            f"(CAST(:b_id_{n} AS BIGINT), CAST(:b_delta_{n} AS BIGINT))" for n in range(balances)
        )
        ids = ", ".join(f":b_id_{n}" for n in range(balances))
        parts = [_WRITE_ONE_HEAD, _WRITE_ONE_BALANCES.format(rows=rows, ids=ids)]
        parts += [_WRITE_ONE_HOLD_DELTA] if hold_deltas else []
        parts += [_WRITE_ONE_NEW_HOLD, _WRITE_ONE_TAIL] if new_holds else [_WRITE_ONE_TAIL]
    return compiled_for(text("".join(parts)))


JOURNAL_COLUMNS = ("chain", "seq", "kind", "reference", "actor", "created_at", "prev_hash", "hash")
NEW_HOLD_COLUMNS = (
    ("ids", "id"),
    ("main", "main_account_id"),
    ("escrow", "escrow_account_id"),
    ("amount", "amount"),
    ("reference", "reference"),
    ("created_at", "created_at"),
)
AT_ONCE_MAX_POSTINGS = 2000
"""Above this many postings a write goes the bulk way (``COPY``), not in one statement."""


def write_at_once(
    session: Session,
    journals: Sequence[Mapping[str, Any]],
    postings: Sequence[tuple[int, int, int, int | None]],
    balances: Mapping[int, int],
    holds: Mapping[int, int],
    heads: Mapping[str, tuple[int, str]],
    new_holds: Sequence[Mapping[str, Any]] = (),
    *,
    deferred: bool = False,
) -> list[int]:
    """PostgreSQL only: write journals (rows as for ``INSERT_JOURNAL``), postings
    ``(journal index, account id, amount, hold id)``, balance and hold deltas by id, the
    new chain heads and new holds (rows as for ``INSERT_HOLD`` with their ``id``, drawn by
    :func:`lock_for_hold`) in one statement; returns the journal ids in the order given.
    ``deferred``: one journal's write goes with the transaction's next round trip
    (``ledger.driver.defer``), and no id is returned."""
    if (
        len(journals) == 1
        and list(heads) == [journals[0]["chain"]]
        and len(new_holds) <= 1
        and len(holds) <= 1
        and 0 < len(balances) <= ONE_MAX_BALANCES
    ):
        written = _write_one(
            session, journals[0], postings, balances, holds, heads, new_holds, deferred=deferred
        )
        return [] if written is None else [written]
    chains = sorted(heads)
    arrays = {
        **{f"nh_{key}": [h[column] for h in new_holds] for key, column in NEW_HOLD_COLUMNS},
        "j_ord": list(range(len(journals))),
        **{f"j_{column}": [row[column] for row in journals] for column in JOURNAL_COLUMNS},
        "p_journal": [p[0] for p in postings],
        **_posting_arrays(postings),
        **_delta_arrays(balances, holds),
        "c_names": chains,
        "c_seqs": [heads[c][0] for c in chains],
        "c_heads": [heads[c][1] for c in chains],
    }
    params = {name: array_literal(values) for name, values in arrays.items()}
    statement = write_sql(None, bool(holds), bool(new_holds))
    ids: dict[int, int] = {int(o): int(i) for o, i in fetch_rows(session, statement, params)}
    return [ids[index] for index in range(len(journals))]


def _write_one(
    session: Session,
    journal: Mapping[str, Any],
    postings: Sequence[tuple[int, int, int, int | None]],
    balances: Mapping[int, int],
    holds: Mapping[int, int],
    heads: Mapping[str, tuple[int, str]],
    new_holds: Sequence[Mapping[str, Any]],
    *,
    deferred: bool = False,
) -> int | None:
    """:func:`write_at_once` of one journal on one chain (at most one new hold, one hold
    delta and :data:`ONE_MAX_BALANCES` balances); its id, None if ``deferred``."""
    ((chain, (seq, head)),) = heads.items()
    params: dict[str, Any] = {
        name: array_literal(values) for name, values in _posting_arrays(postings).items()
    }
    for n, account_id in enumerate(sorted(balances)):  # ascending, as every lock
        params.update({f"b_id_{n}": account_id, f"b_delta_{n}": balances[account_id]})
    for hold_id, delta in holds.items():
        params.update(h_id=hold_id, h_delta=delta)
    params.update({f"j_{column}": journal[column] for column in JOURNAL_COLUMNS})
    params.update(c_name=chain, c_seq=seq, c_head=head)
    for hold in new_holds:
        params.update({f"nh_{key}": hold[column] for key, column in NEW_HOLD_COLUMNS})
    statement = write_sql(len(balances), bool(holds), bool(new_holds))
    if deferred:
        defer(session, statement, params)
        return None
    ((journal_id,),) = fetch_rows(session, statement, params)
    return int(journal_id)


def _posting_arrays(postings: Sequence[tuple[int, int, int, int | None]]) -> dict[str, list[Any]]:
    """The postings' arrays both shapes of the write take, in the order given."""
    return {
        "p_ord": list(range(len(postings))),
        "p_account": [p[1] for p in postings],
        "p_amount": [p[2] for p in postings],
        "p_hold": [p[3] for p in postings],
    }


def _delta_arrays(balances: Mapping[int, int], holds: Mapping[int, int]) -> dict[str, list[int]]:
    """Balance and hold deltas as the arrays of the many journals' shape, by ascending id."""
    account_ids, hold_ids = sorted(balances), sorted(holds)
    return {
        "b_ids": account_ids,
        "b_deltas": [balances[i] for i in account_ids],
        "h_ids": hold_ids,
        "h_deltas": [holds[i] for i in hold_ids],
    }


def one_statement(session: Session, postings: int) -> bool:
    """Whether a write of ``postings`` postings goes in one statement (PostgreSQL, small)."""
    return session.get_bind().dialect.name == "postgresql" and postings <= AT_ONCE_MAX_POSTINGS
