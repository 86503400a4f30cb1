"""The kinds of background jobs: allocation upload (check, then import) and verification."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

import ledger
from exchange import checkpointing
from exchange.errors import Conflict, InvalidInput
from exchange.models import BackgroundJob, ClearingRun, Market
from exchange.services import ledger_ops, replay, verification
from exchange.uow import unit_of_work
from exchange.web import queries
from exchange.web.jobs import JobContext

CHECKS = ledger.VERIFY_CHECKS
SHOWN_VIOLATIONS = 100
SHOWN_REJECTED = 2000
ALREADY_IMPORTED = (
    "this checked upload was already imported; nothing was allocated again "
    "(upload the file again to allocate it once more)"
)


def allocation_preview(ctx: JobContext) -> dict[str, Any]:
    """Check every row of an uploaded CSV; accepted rows are kept for the import."""
    text: str = ctx.params["text"]
    ctx.set_total(max(text.count("\n"), 1))
    session = ctx.read_sessions()
    try:
        preview = queries.preview_allocations(
            session, text, progress=lambda line: ctx.progress(line - ctx.done)
        )
    finally:
        session.rollback()
        session.close()
    totals: dict[str, int] = {}
    for row in preview.accepted:
        totals[row["market"]] = totals.get(row["market"], 0) + row["quantity"]
    return {
        "filename": ctx.params.get("filename"),
        "error": preview.error,
        "accepted": preview.accepted,
        "rejected": preview.rejected[:SHOWN_REJECTED],
        "rejected_count": len(preview.rejected),
        "totals": totals,
    }


def allocation_import(ctx: JobContext) -> dict[str, Any]:
    """Allocate the accepted rows of a checked upload in one transaction (all or none).

    The result is recorded in that transaction (``record_effect``): a runner that
    dies after the commit leaves the next one the result, never a second import.
    """
    session = ctx.sessions()
    try:
        preview = session.get(BackgroundJob, int(ctx.params["preview_job"]))
        if preview is None or preview.result is None:
            raise InvalidInput("the checked upload is gone")
        rows = preview.result.get("accepted") or []
        session.rollback()
        ctx.set_total(len(rows))
        allocations = [
            ledger_ops.Allocation(r["league"], r["market"], r["quantity"], r.get("reference"))
            for r in rows
        ]
        actor = str(ctx.params.get("actor") or "web")
        job = session.get(BackgroundJob, ctx.job_id)
        if job is not None:
            actor = job.created_by
        session.rollback()
        # One unit of work: the preview is consumed with the allocations (a second
        # import of it finds it taken, or waits for the first, then finds it taken)
        # and the job's result is recorded with them.
        with unit_of_work(session):
            _consume_preview(session, int(ctx.params["preview_job"]), ctx.job_id)
            results = ledger_ops.allocate_many(
                session, allocations, actor=actor, progress=ctx.progress_note
            )
            ctx.record_effect(session, _import_summary(results))
    finally:
        session.close()
    ctx.done = len(rows)
    return _import_summary(results)


def _import_summary(results: list[dict[str, Any]]) -> dict[str, Any]:
    """What the import page shows: rows, journal range, quantity per market against its cap."""
    by_market: dict[str, dict[str, int]] = {}
    for item in results:
        entry = by_market.setdefault(item["market"], {"quantity": 0, "rows": 0})
        entry["quantity"] += item["quantity"]
        entry["rows"] += 1
        entry["issued"] = item["issued"]
        entry["cap"] = item["cap"]
    return {
        "count": len(results),
        "first_journal": min((r["journal_id"] for r in results), default=None),
        "last_journal": max((r["journal_id"] for r in results), default=None),
        "markets": by_market,
    }


def _consume_preview(session: Session, preview_id: int, import_id: int) -> None:
    """Mark the checked upload as used by ``import_id`` (uncommitted), or ``Conflict``."""
    claimed = session.execute(
        update(BackgroundJob)
        .where(BackgroundJob.id == preview_id, BackgroundJob.consumed_by.is_(None))
        .values(consumed_by=import_id)
    )
    if not claimed.rowcount:  # type: ignore[attr-defined]
        raise Conflict(ALREADY_IMPORTED)


def verify(ctx: JobContext) -> dict[str, Any]:
    """``ledger.verify`` over the whole ledger, then the replay of the latest runs."""
    replay_count = int(ctx.params.get("replay_runs", 20))
    session = ctx.read_sessions()
    try:
        total = ledger.count_postings(session)
        session.rollback()
        ctx.set_total(total + replay_count)
        source = ctx.params.get("checkpoint")
        checkpoint = checkpointing.job_checkpoint(session, source)
        report = verification.verify_against(session, checkpoint, progress=ctx.progress)
        ctx.done = total
        run_rows = session.execute(
            select(ClearingRun.id, Market.code)
            .join(Market, Market.id == ClearingRun.market_id)
            .order_by(ClearingRun.id.desc())
            .limit(replay_count)
        ).all()
        replays = []
        for run_id, code in run_rows:
            result = replay.replay_run(session, run_id)
            replays.append(
                {
                    "run_id": run_id,
                    "market": code,
                    "ok": result.ok,
                    "differences": result.differences,
                }
            )
            ctx.progress(1)
        session.rollback()
    finally:
        session.close()
    by_check: dict[str, list[dict[str, Any]]] = {c: [] for c in CHECKS}
    for violation in report.violations:
        if not violation.check.startswith(checkpointing.CHECKPOINT_PREFIX):
            by_check.setdefault(violation.check, []).append(violation.to_dict())
    return {
        "checkpoint": checkpointing.job_result(checkpoint, report, source),
        "ok": report.ok and all(r["ok"] for r in replays),
        "ledger_ok": report.ok,
        "checks": [
            {
                "check": check,
                "ok": not found,
                "count": len(found),
                "violations": found[:SHOWN_VIOLATIONS],
            }
            for check, found in by_check.items()
        ],
        "replays": replays,
        "journals": report.journals,
        "postings": report.postings,
        "accounts": report.accounts,
        "holds": report.holds,
        "chains": report.chains,
        "truncated": report.truncated,
        "seconds": round(report.seconds, 3),
    }
