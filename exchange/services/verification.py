"""The periodic ledger audit: verify the book of record and report the outcome to metrics."""

from __future__ import annotations

import logging
import os
import time
from typing import Any

from flask import Flask
from sqlalchemy.orm import Session

import ledger
from exchange.checkpointing import check, trust_anchors
from exchange.observability import metrics
from exchange.services import ledger_ops
from ledger.signing import SignedCheckpoint
from ledger.verify_report import VerifyReport

VERIFY_INTERVAL_ENV = "EXCHANGE_VERIFY_INTERVAL_SECONDS"
DEFAULT_VERIFY_INTERVAL = 900

log = logging.getLogger("exchange")


def run_verify(app: Flask) -> bool:
    """Verify the ledger now and record the result in the metrics; True if clean."""
    started = time.perf_counter()
    session = app.extensions["exchange.db"]["read_sessions"]()
    try:
        report = ledger.verify(session)
    finally:
        session.close()
    metrics.verify_finished(report.ok, len(report.violations), time.perf_counter() - started)
    return bool(report.ok)


def _verify_job(app: Flask) -> None:
    try:
        run_verify(app)
    except Exception:
        log.exception("periodic ledger verify could not run")


def install_verify_job(app: Flask, scheduler: Any) -> None:
    """Every ``EXCHANGE_VERIFY_INTERVAL_SECONDS`` (default 900; 0: never), verify the ledger."""
    raw = os.environ.get(VERIFY_INTERVAL_ENV, str(DEFAULT_VERIFY_INTERVAL)).strip()
    seconds = int(raw) if raw.isdigit() else DEFAULT_VERIFY_INTERVAL
    if seconds <= 0:
        return
    scheduler.add_job(
        _verify_job,
        "interval",
        seconds=seconds,
        id="verify-ledger",
        kwargs={"app": app},
        replace_existing=True,
    )


def verify_against(
    session: Session,
    checkpoint: SignedCheckpoint | None,
    *,
    anchors: list[str] | None = None,
    progress: Any = None,
) -> VerifyReport:
    """``ledger.verify`` plus the checks against ``checkpoint``, in one snapshot."""
    ledger_ops.snapshot(session)
    try:
        report = ledger.verify(session, progress=progress)
        if checkpoint is not None:
            for violation in check(session, checkpoint, trust_anchors(session, anchors)):
                report.add(violation)
        return report
    finally:
        session.rollback()
