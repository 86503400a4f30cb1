"""Helpers of the ledger tests: an attacker's raw SQL, counts, a clean-verify check."""

from __future__ import annotations

import sqlite3
import time
from typing import Any

from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

import ledger
from ledger.models import Journal, Posting


def as_attacker(session: Session, *statements: str) -> None:
    """Run raw SQL with the append-only triggers (and foreign keys) out of the way."""
    session.rollback()
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SET LOCAL session_replication_role = replica"))
        for statement in statements:
            session.execute(text(statement))
        session.commit()
        return
    path = session.get_bind().url.database
    assert path
    conn = sqlite3.connect(path, isolation_level=None)  # foreign keys are off by default
    try:
        conn.execute("BEGIN IMMEDIATE")
        triggers = conn.execute("SELECT name, sql FROM sqlite_master WHERE type = 'trigger'")
        saved = triggers.fetchall()
        for name, _sql in saved:
            conn.execute(f"DROP TRIGGER {name}")
        for statement in statements:
            conn.execute(statement)
        for _name, sql in saved:
            conn.execute(sql)
        conn.execute("COMMIT")
    finally:
        conn.close()


def counts(session: Session) -> tuple[int, int]:
    """(journals, postings)."""
    return (
        session.scalar(select(func.count()).select_from(Journal)) or 0,
        session.scalar(select(func.count()).select_from(Posting)) or 0,
    )


def assert_clean(session: Session) -> ledger.VerifyReport:
    report = ledger.verify(session)
    assert report.ok, [v.to_dict() for v in report.violations]
    return report


def spend_in_process(url: str, amount: int, barrier: Any, results: Any) -> None:
    """Child process: wait for the others, hold ``amount`` of Ordos' water, report."""
    from exchange.db import make_engine, make_session_factory

    engine = make_engine(url)
    try:
        session = make_session_factory(engine)()
        barrier.wait()
        results.put(spend(session, amount))
        session.close()
    finally:
        engine.dispose()


def spend(session: Session, amount: int, linger: float = 0.3) -> str:
    """Hold ``amount`` of Ordos' rights in market 1 and keep the lock a while; the outcome."""
    try:
        ledger.place_hold(
            session,
            league="ordos",
            asset=ledger.market_asset(1),
            amount=amount,
            reference="order:race",
            actor="ordos",
        )
        time.sleep(linger)
        session.commit()
        return "ok"
    except ledger.InsufficientFunds as exc:
        session.rollback()
        return f"insufficient:{exc.available}"
