"""The league desk's statement: postings of one asset with the running balance (newest
first on screen) and its CSV download (units in the header, Beijing time with the offset)."""

from __future__ import annotations

import io
from collections.abc import Iterator
from datetime import datetime

from flask import Response, render_template, request, stream_with_context

import ledger
from exchange.api.access import Actor, Role
from exchange.csv_safe import SafeWriter
from exchange.extensions import db
from exchange.schedule import EXCHANGE_TZ
from exchange.services import ledger_ops
from exchange.web.access import pages_for
from exchange.web.desk import _markets, desk
from exchange.web.query_args import page_arg

STATEMENT_PAGE = 50
CSV_BATCH = 1000


def csv_unit(league: str, asset: str) -> str:
    """The unit of a market's rights for a CSV header (``m3``, ``t``, ...)."""
    return next((m.unit for m in _markets(league) if m.code == asset), "units")


def beijing_iso(value: datetime) -> str:
    """``2027-03-01T10:05:00.123456+08:00``: the instant, in Beijing time with its offset."""
    return value.astimezone(EXCHANGE_TZ).isoformat(timespec="microseconds")


def _statement_args() -> tuple[str, str, int]:
    asset = request.args.get("asset", "cash")[:64] or "cash"
    account = request.args.get("account", "available")
    if account not in ("available", "held"):
        account = "available"
    return asset, account, page_arg()


@desk.get("/statement")
@pages_for(Role.LEAGUE)
def statement(actor: Actor) -> str:
    """The league's postings on one asset with the running balance, newest first, paged."""
    league = actor.league_code or ""
    asset, account, page = _statement_args()
    first = ledger_ops.statement(
        db.session, league=league, asset=asset, account=account, page=1, per_page=1
    )  # checks league and asset; the total
    total = first["total"]
    end = max(0, total - (page - 1) * STATEMENT_PAGE)
    start = max(0, end - STATEMENT_PAGE)
    kind = ledger.AccountKind.ESCROW if account == "held" else ledger.AccountKind.LEAGUE
    lines = ledger.statement(
        db.session, owner=league, asset=first["asset"], account_kind=kind, offset=start,
        limit=max(end - start, 0),
    ).lines if end > start else []  # fmt: skip
    result = {**first, "lines": list(reversed(lines)), "page": page}
    pages = max(1, -(-total // STATEMENT_PAGE))
    unit = (
        "yuan"
        if asset == "cash"
        else next((m.unit for m in _markets(league) if m.code == asset), "")
    )
    return render_template(
        "desk/statement.html",
        league=league,
        result=result,
        asset=asset,
        account=account,
        page=page,
        pages=pages,
        unit=unit,
        markets=_markets(league),
    )


@desk.get("/statement.csv")
@pages_for(Role.LEAGUE)
def statement_csv(actor: Actor) -> Response:
    """The whole statement of one asset as CSV (integers: units, or fen for cash)."""
    league = actor.league_code or ""
    asset, account, _page = _statement_args()
    first = ledger_ops.statement(
        db.session, league=league, asset=asset, account=account, page=1, per_page=1
    )  # checks league and asset before the download starts
    total = first["total"]

    def rows() -> Iterator[str]:
        out = io.StringIO()
        writer = SafeWriter(out)
        unit = "fen" if asset == "cash" else csv_unit(league, asset)
        writer.writerow(
            ["journal_id", "created_at_utc+8", "kind", "reference", "actor", f"amount_{unit}",
             f"balance_{unit}", "hold_id", "chain", "seq"]
        )  # fmt: skip
        for page in range(1, total // CSV_BATCH + 2):
            result = ledger_ops.statement(
                db.session,
                league=league,
                asset=asset,
                account=account,
                page=page,
                per_page=CSV_BATCH,
            )
            for line in result["lines"]:
                writer.writerow(
                    [line.journal_id, beijing_iso(line.created_at), line.kind, line.reference,
                     line.actor, line.amount, line.balance,
                     "" if line.hold_id is None else line.hold_id, line.chain, line.seq]
                )  # fmt: skip
            yield out.getvalue()
            out.seek(0)
            out.truncate()

    filename = f"statement-{league}-{asset}-{account}.csv"
    return Response(
        stream_with_context(rows()),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )
