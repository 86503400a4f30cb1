"""The audit console: ledger explorer, verification (verify + replay) and exports."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

from flask import (
    Blueprint,
    Response,
    flash,
    redirect,
    render_template,
    request,
    stream_with_context,
    url_for,
)
from flask_babel import gettext as _
from werkzeug.wrappers import Response as BaseResponse

import ledger
from exchange.api.access import Actor, Role
from exchange.checkpointing import uploaded_checkpoint
from exchange.csv_safe import SafeDictWriter
from exchange.extensions import db
from exchange.schedule import EXCHANGE_TZ
from exchange.services import ledger_ops, registry
from exchange.web import jobs, queries
from exchange.web.access import pages_for
from exchange.web.errors import html_errors
from exchange.web.forms import CsrfOnlyForm
from exchange.web.query_args import page_arg
from exchange.web.tasks import CHECKS
from exchange.web.verify_jobs import start_verification

audit = Blueprint("audit", __name__, url_prefix="/audit")
html_errors(audit)

JOURNALS_PAGE = 20
VERIFY_KINDS = ("verify",)
EXPORT_COLUMNS = [
    "journal_id", "chain", "seq", "kind", "reference", "actor", "created_at_utc+8",
    "prev_hash", "hash", "posting", "account_kind", "owner", "asset", "amount", "amount_unit",
    "hold_id",
]  # fmt: skip


def _parse_time(raw: str, *, end: bool = False) -> datetime | None:
    """``2027-03-01`` or ``2027-03-01T10:00`` in Beijing time from a filter field; None if
    empty or bad. A bare date as the end of a range means the whole of that day."""
    raw = raw.strip()
    if not raw:
        return None
    try:
        value = datetime.fromisoformat(raw)
    except ValueError:
        return None
    if end and len(raw) == 10:
        value += timedelta(days=1)
    return value.replace(tzinfo=EXCHANGE_TZ) if value.tzinfo is None else value


@audit.get("")
@pages_for(Role.AUDITOR, Role.REGULATOR)
def journals(actor: Actor) -> str:
    """Journals, newest first, with postings and hashes; filters and paging."""
    session = db.session
    args = request.args
    filters: dict[str, Any] = {}
    problems: list[str] = []
    league = args.get("league", "").strip()[:32]
    market = args.get("market", "").strip()[:64]
    kind = args.get("kind", "").strip()
    reference = args.get("reference", "").strip()[:128]
    since_raw, until_raw = args.get("since", ""), args.get("until", "")
    if league:
        filters["league"] = league
    if market:
        filters["market"] = market
    if kind in ledger.JOURNAL_KINDS:
        filters["kind"] = kind
    if reference:
        filters["reference"] = reference
    for name, raw in (("since", since_raw), ("until", until_raw)):
        if raw.strip():
            parsed = _parse_time(raw, end=name == "until")
            if parsed is None:
                problems.append(_("Dates: use the date picker, or YYYY-MM-DD."))
            else:
                filters[name] = parsed
    page = page_arg()
    from exchange.errors import ExchangeError

    try:
        result = ledger_ops.journals(session, page=page, per_page=JOURNALS_PAGE, **filters)
    except ExchangeError as exc:
        from exchange.web.messages import refusal

        problems.append(refusal(exc))
        result = {"total": 0, "page": page, "per_page": JOURNALS_PAGE, "journals": []}
    query = {k: v for k, v in args.items() if k not in ("page", "lang") and v}
    return render_template(
        "audit/journals.html",
        result=result,
        page=page,
        pages=max(1, -(-result["total"] // JOURNALS_PAGE)),
        query=query,
        values={
            "league": league,
            "market": market,
            "kind": kind,
            "reference": reference,
            "since": since_raw,
            "until": until_raw,
        },
        problems=problems,
        kinds=ledger.JOURNAL_KINDS,
        leagues=registry.list_leagues(session),
        markets=registry.list_markets(session),
        asset_names=queries.market_of_asset(session),
    )


@audit.get("/verify")
@pages_for(Role.AUDITOR, Role.REGULATOR)
def verify_page(actor: Actor) -> str:
    """Start a verification; the recent ones with their outcome."""
    return render_template(
        "audit/verify.html",
        form=CsrfOnlyForm(formdata=None),
        recent=jobs.recent(db.session, VERIFY_KINDS, limit=10),
    )


@audit.post("/verify")
@pages_for(Role.AUDITOR, Role.REGULATOR)
def verify_start(actor: Actor) -> BaseResponse | tuple[str, int]:
    """Run verify (against the latest or an uploaded checkpoint) and the replay of recent
    runs in the background (one at a time)."""
    checkpoint, problem = uploaded_checkpoint(request.files.get("checkpoint"))
    if problem is not None:
        page = render_template(
            "audit/verify.html",
            form=CsrfOnlyForm(formdata=None),
            recent=jobs.recent(db.session, VERIFY_KINDS, limit=10),
            checkpoint_error=problem,
        )
        return page, 422
    job_id, started = start_verification(
        db.session, actor=actor.username, replay_runs=20, checkpoint=checkpoint
    )
    if not started:
        flash(
            _(
                "A verification is already running (job %(id)s); here it is. One runs at a time.",
                id=job_id,
            ),
            "info",
        )
    return redirect(url_for("audit.verify_job", job_id=job_id))


@audit.get("/verify/<int:job_id>")
@pages_for(Role.AUDITOR, Role.REGULATOR)
def verify_job(job_id: int, actor: Actor) -> str:
    """Each check green or red, with the exact violations; replays; chain heads."""
    job = jobs.get(db.session, job_id, VERIFY_KINDS)
    return render_template(
        "audit/verify_job.html", job=job, progress=jobs.live_progress(job), checks=CHECKS
    )


@audit.get("/export.csv")
@pages_for(Role.AUDITOR, Role.REGULATOR)
def export_csv(actor: Actor) -> Response:
    """Every posting with its journal's fields, one CSV row each (streamed)."""

    def rows() -> Iterator[str]:
        out = io.StringIO()
        writer = SafeDictWriter(out, fieldnames=EXPORT_COLUMNS)
        writer.writeheader()
        units = {a: n.get("unit", "") for a, n in queries.market_of_asset(db.session).items()}
        for count, row in enumerate(ledger_ops.export_rows(db.session), 1):
            created = datetime.fromisoformat(row.pop("created_at"))
            row["created_at_utc+8"] = created.astimezone(EXCHANGE_TZ).isoformat()
            asset = row["asset"]
            row["amount_unit"] = "fen" if asset.startswith("cash") else units.get(asset, "")
            writer.writerow(row)
            if count % 2000 == 0:
                yield out.getvalue()
                out.seek(0)
                out.truncate()
        yield out.getvalue()

    return _download(rows(), "ledger.csv", "text/csv")


@audit.get("/export.jsonl")
@pages_for(Role.AUDITOR, Role.REGULATOR)
def export_jsonl(actor: Actor) -> Response:
    """Every journal with its postings, one JSON object per line (streamed)."""

    def lines() -> Iterator[str]:
        for journal in ledger_ops.export_journals(db.session):
            yield json.dumps(journal, ensure_ascii=False, separators=(",", ":")) + "\n"

    return _download(lines(), "ledger.jsonl", "application/jsonl")


def _download(body: Iterator[str], filename: str, mimetype: str) -> Response:
    return Response(
        stream_with_context(body),
        mimetype=mimetype,
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )
