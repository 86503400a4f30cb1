"""The regulator console: leagues and markets, allocations (single and CSV), deposits,
clearing runs (trigger, list, detail)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from werkzeug.wrappers import Response as BaseResponse

import ledger
from exchange.api.access import Actor, Role
from exchange.errors import Conflict, ExchangeError, InvalidInput
from exchange.extensions import db
from exchange.mechanisms.call_auction import run as clearing
from exchange.mechanisms.call_auction import visibility as auction_visibility
from exchange.models import OrderStatus, RunTrigger, utcnow
from exchange.services import ledger_ops, registry, visibility
from exchange.services.commands import Deposit
from exchange.uow import unit_of_work
from exchange.web import bundle_pages, jobs, queries
from exchange.web.access import page_actor, pages_for
from exchange.web.errors import html_errors, on_stale_form
from exchange.web.formatting import (
    human_quantity,
    local_time,
    paren,
    parse_quantity,
    parse_yuan,
    run_price,
    with_unit,
    yuan,
)
from exchange.web.formatting import quantity as qty
from exchange.web.forms import AllocationForm, CsrfOnlyForm, DepositForm, UploadForm, choices
from exchange.web.labels import label
from exchange.web.messages import refusal
from exchange.web.names import league_name, market_name
from exchange.web.public import curves_svg
from exchange.web.query_args import id_arg, page_arg
from exchange.web.run_view import headline, price_sorted
from exchange.web.tasks import ALREADY_IMPORTED, MAX_UPLOAD_BYTES, upload_text

console = Blueprint("console", __name__)
html_errors(console)

RUNS_PAGE = 50
UPLOAD_KINDS = ("allocation_preview",)
IMPORT_KINDS = ("allocation_import",)


def _forms(
    allocation: AllocationForm | None = None, deposit: DepositForm | None = None
) -> dict[str, Any]:
    session = db.session
    leagues = registry.list_leagues(session)
    markets = registry.list_markets(session)
    league_choices = choices([(lg.code, paren(league_name(lg.code), lg.code)) for lg in leagues])
    allocation = allocation or AllocationForm(formdata=None, prefix="alloc")
    allocation.league.choices = league_choices
    allocation.market.choices = choices(
        [
            (m.code, paren(f"{m.code} · {market_name(m.code)}", label("unit", m.unit)))
            for m in markets
        ]
    )
    deposit = deposit or DepositForm(formdata=None, prefix="deposit")
    deposit.league.choices = league_choices
    return {"allocation_form": allocation, "deposit_form": deposit}


def _render(status: int = 200, upload: UploadForm | None = None, **forms: Any) -> tuple[str, int]:
    session = db.session
    leagues = registry.list_leagues(session)
    markets = registry.list_markets(session)
    cash = {}
    for league in leagues:
        balances = ledger_ops.balances(session, league.code)["balances"]
        cash[league.code] = next((b for b in balances if b["market"] == "cash"), None)
    page = render_template(
        "console/index.html",
        leagues=leagues,
        cash=cash,
        summaries=queries.market_summaries(session, markets),
        upload_form=upload or UploadForm(formdata=None, prefix="upload"),
        clear_form=CsrfOnlyForm(formdata=None),
        uploads=jobs.recent(session, UPLOAD_KINDS + IMPORT_KINDS, limit=5),
        **_forms(**forms),
    )
    return page, status


@console.get("/regulator")
@pages_for(Role.REGULATOR)
def index(actor: Actor) -> tuple[str, int]:
    """Leagues (with cash), markets (with last and next run), allocation and deposit forms."""
    return _render()


@console.post("/regulator/allocations")
@pages_for(Role.REGULATOR)
def allocate(actor: Actor) -> BaseResponse | tuple[str, int] | str:
    """One allocation (issuance) through ``ledger_ops.allocate``: a summary, then confirmed."""
    form = AllocationForm(prefix="alloc")
    _forms(allocation=form)
    if request.form.get("edit"):
        return _render(allocation=form)
    if form.validate():
        market = registry.get_market_by_code(db.session, form.market.data)
        try:
            quantity = parse_quantity(form.quantity.data)
        except ValueError as exc:
            form.quantity.errors.append(str(exc))
        else:
            reference = (form.reference.data or "").strip() or None
            issued = ledger.issued_total(db.session, ledger.market_asset(market.id))
            if quantity <= 0:
                form.quantity.errors.append(_("Enter a quantity above zero."))
            elif issued + quantity > market.cap:
                form.quantity.errors.append(
                    _(
                        "This would exceed the market's cap: %(remaining)s can still be issued.",
                        remaining=_units(market.cap - issued, market.unit),
                    )
                )
            elif not request.form.get("confirm"):
                return _confirm_allocation(form, market, quantity, issued, reference)
            else:
                try:
                    with unit_of_work(db.session) as session:
                        done = ledger_ops.allocate(
                            session,
                            ledger_ops.Allocation(
                                league=form.league.data,
                                market=form.market.data,
                                quantity=quantity,
                                reference=reference,
                            ),
                            actor=actor.username,
                        )
                except ExchangeError as exc:  # rolled back by the unit of work
                    field = getattr(form, exc.field or "", None) or form.quantity
                    field.errors = [*field.errors, refusal(exc, market)]
                else:
                    flash(
                        _(
                            "Allocated %(quantity)s of %(market)s to %(league)s (journal "
                            "%(journal)s); %(remaining)s of the cap remain.",
                            quantity=_units(done["quantity"], market.unit),
                            market=market_name(done["market"]),
                            league=league_name(done["league"]),
                            journal=done["journal_id"],
                            remaining=_units(done["remaining"], market.unit),
                        ),
                        "success",
                    )
                    return redirect(url_for("console.index"))
    flash(_("Please correct the fields marked below."), "error")
    return _render(allocation=form)


def found_unit(run: Any) -> str:
    """The unit of a run's market."""
    return str(registry.get_market(db.session, run.market_id).unit)


def _units(value: int, unit: str) -> str:
    return with_unit(value, unit)


def _confirm_allocation(
    form: AllocationForm, market: Any, quantity: int, issued: int, reference: str | None
) -> str:
    return render_template(
        "confirm.html",
        heading=_("Allocation: please confirm"),
        summary=[
            (_("League"), league_name(form.league.data)),
            (_("Market"), market_name(market.code)),
            (_("Quantity to issue"), human_quantity(quantity, market.unit)),
            (_("Cap"), human_quantity(market.cap, market.unit)),
            (_("Issued so far"), human_quantity(issued, market.unit)),
            (
                _("Left under the cap afterwards"),
                human_quantity(market.cap - issued - quantity, market.unit),
            ),
            (_("Reference"), reference or _("(set by the exchange)")),
        ],
        note=_(
            "Issued rights are booked in the ledger at once; an allocation cannot be taken "
            "back from the console."
        ),
        irreversible=True,
        action=url_for("console.allocate"),
        fields=[
            ("alloc-league", form.league.data),
            ("alloc-market", form.market.data),
            ("alloc-quantity", form.quantity.data),
            ("alloc-reference", form.reference.data or ""),
        ],
        form=CsrfOnlyForm(formdata=None),
        confirm_label=_("Allocate %(quantity)s", quantity=_units(quantity, market.unit)),
        back=url_for("console.index") + "#h-allocation",
        can_edit=True,
    )


@console.post("/regulator/deposits")
@pages_for(Role.REGULATOR)
def deposit(actor: Actor) -> BaseResponse | tuple[str, int] | str:
    """A cash deposit (typed in yuan, booked in fen) through ``ledger_ops.deposit``: a
    summary, then confirmed."""
    form = DepositForm(prefix="deposit")
    _forms(deposit=form)
    if request.form.get("edit"):
        return _render(deposit=form)
    if form.validate():
        try:
            amount = parse_yuan(form.amount.data)
            if amount <= 0:
                raise ValueError(_("Enter an amount above zero."))
        except ValueError as exc:
            form.amount.errors.append(str(exc))
        else:
            reference = (form.reference.data or "").strip() or None
            if not request.form.get("confirm"):
                return _confirm_deposit(form, amount, reference)
            try:
                with unit_of_work(db.session) as session:
                    done = ledger_ops.deposit(
                        session, Deposit(form.league.data, amount, reference), actor=actor.username
                    )
            except ExchangeError as exc:  # rolled back by the unit of work
                field = getattr(form, exc.field or "", None) or form.amount
                field.errors = [*field.errors, refusal(exc)]
            else:
                flash(
                    _(
                        "Deposited %(amount)s yuan to %(league)s (journal %(journal)s); "
                        "%(available)s yuan available now.",
                        amount=yuan(done["amount"]),
                        league=league_name(done["league"]),
                        journal=done["journal_id"],
                        available=yuan(done["available"]),
                    ),
                    "success",
                )
                return redirect(url_for("console.index"))
    flash(_("Please correct the fields marked below."), "error")
    return _render(deposit=form)


def _confirm_deposit(form: DepositForm, amount: int, reference: str | None) -> str:
    return render_template(
        "confirm.html",
        heading=_("Cash deposit: please confirm"),
        summary=[
            (_("League"), league_name(form.league.data)),
            (_("Amount (yuan)"), yuan(amount)),
            (_("Reference"), reference or _("(set by the exchange)")),
        ],
        note=_(
            "The cash is credited in the ledger at once; a deposit cannot be taken back from "
            "the console."
        ),
        irreversible=True,
        action=url_for("console.deposit"),
        fields=[
            ("deposit-league", form.league.data),
            ("deposit-amount", form.amount.data),
            ("deposit-reference", form.reference.data or ""),
        ],
        form=CsrfOnlyForm(formdata=None),
        confirm_label=_("Deposit %(amount)s yuan", amount=yuan(amount)),
        back=url_for("console.index") + "#h-deposit",
        can_edit=True,
    )


@on_stale_form("console.allocate")
def _stale_allocate() -> Any:
    if page_actor(Role.REGULATOR) is None:
        return None
    form = AllocationForm(prefix="alloc")
    return _render(allocation=form)[0]


@on_stale_form("console.deposit")
def _stale_deposit() -> Any:
    if page_actor(Role.REGULATOR) is None:
        return None
    form = DepositForm(prefix="deposit")
    return _render(deposit=form)[0]


@console.post("/regulator/allocations/upload")
@pages_for(Role.REGULATOR)
def upload(actor: Actor) -> BaseResponse | tuple[str, int]:
    """Start checking an allocation CSV in the background; its page shows the preview.
    A file that cannot be read comes back to the console, the reason beside the field."""
    form = UploadForm(prefix="upload")
    if form.validate():
        try:
            text = upload_text(form.file.data.read(MAX_UPLOAD_BYTES + 1))
        except InvalidInput as exc:
            form.file.errors = [*form.file.errors, refusal(exc)]
            flash(_("Please correct the fields marked below."), "error")
            return _render(exc.status, upload=form)
        job_id = jobs.start(
            db.session,
            "allocation_preview",
            actor=actor.username,
            params={"text": text, "filename": (form.file.data.filename or "")[:200]},
        )
        return redirect(url_for("console.upload_job", job_id=job_id))
    flash(_("Please correct the fields marked below."), "error")
    return _render(upload=form)


@console.get("/regulator/uploads/<int:job_id>")
@pages_for(Role.REGULATOR)
def upload_job(job_id: int, actor: Actor) -> str:
    """The preview of an upload: accepted rows, rejected rows with the reason, confirm."""
    job = jobs.get(db.session, job_id, UPLOAD_KINDS)
    return render_template(
        "console/upload.html",
        job=job,
        progress=jobs.live_progress(job),
        confirm_form=CsrfOnlyForm(formdata=None),
    )


@console.post("/regulator/uploads/<int:job_id>/confirm")
@pages_for(Role.REGULATOR)
def confirm_upload(job_id: int, actor: Actor) -> BaseResponse:
    """Allocate the accepted rows of a checked upload, in the background, all or nothing."""
    job = jobs.get(db.session, job_id, UPLOAD_KINDS)
    if job.consumed_by is not None:
        raise Conflict(
            f"{ALREADY_IMPORTED} (import {job.consumed_by})",
            field="job_id",
            code="already_imported",
            details={"import_id": job.consumed_by},
        )
    accepted = (job.result or {}).get("accepted") or []
    if not accepted:
        raise InvalidInput(
            "this upload has no row that can be allocated", code="nothing_to_allocate"
        )
    new_id = jobs.start(
        db.session, "allocation_import", actor=actor.username, params={"preview_job": job_id}
    )
    return redirect(url_for("console.import_job", job_id=new_id))


@console.get("/regulator/imports/<int:job_id>")
@pages_for(Role.REGULATOR)
def import_job(job_id: int, actor: Actor) -> str:
    """Status and result of an allocation import."""
    job = jobs.get(db.session, job_id, IMPORT_KINDS)
    return render_template("console/import.html", job=job, progress=jobs.live_progress(job))


@console.get("/regulator/markets/<int:market_id>/clear")
@pages_for(Role.REGULATOR)
def clear_confirm(market_id: int, actor: Actor) -> str:
    """What clearing now does, to confirm."""
    market = registry.get_market(db.session, market_id)
    summary = queries.market_summaries(db.session, [market])[0]
    live = queries.live_order_count(db.session, market_id)
    return render_template(
        "confirm.html",
        heading=_("Clear %(market)s now: please confirm", market=market_name(market.code)),
        summary=[
            (_("Market"), market_name(market.code)),
            (_("Window"), _("now (%(time)s, Beijing time)", time=local_time(utcnow()))),
            (_("Open orders in the book"), qty(live)),
            (_("Next scheduled run"), local_time(summary.next_run)),
        ],
        note=_(
            "A clearing run matches the open orders and settles the trades in the ledger at "
            "once; its result cannot be undone. A window already cleared is not cleared again."
        ),
        irreversible=True,
        action=url_for("console.clear", market_id=market.id),
        fields=[],
        form=CsrfOnlyForm(formdata=None),
        confirm_label=_("Clear now"),
        back=url_for("console.index"),
        can_edit=False,
    )


@console.post("/regulator/markets/<int:market_id>/clear")
@pages_for(Role.REGULATOR)
def clear(market_id: int, actor: Actor) -> BaseResponse:
    """Clear a market now (a manual run of the current window)."""
    with unit_of_work(db.session) as session:  # the read ends here; the run is its own unit
        code = registry.get_market(session, market_id).code
    outcome = clearing.run_clearing(
        current_app.extensions["exchange.db"]["sessions"],
        market_id,
        utcnow(),
        trigger=RunTrigger.MANUAL,
        actor=actor.username,
    )
    if outcome.created:
        found = clearing.get_run(db.session, outcome.run_id)
        price = run_price(found)
        if price is None:
            message = _(
                "Clearing run %(id)s of %(market)s done: nothing traded.",
                id=outcome.run_id,
                market=market_name(code),
            )
        else:
            message = _(
                "Clearing run %(id)s of %(market)s done: price %(price)s yuan, volume %(volume)s.",
                id=outcome.run_id,
                market=market_name(code),
                price=price,
                volume=with_unit(found.volume or 0, found_unit(found)),
            )
        flash(message, "success")
    else:
        flash(_("This window was already cleared: run %(id)s.", id=outcome.run_id), "success")
    return redirect(url_for("console.run", run_id=outcome.run_id))


@console.get("/runs")
@pages_for(Role.REGULATOR, Role.AUDITOR)
def runs(actor: Actor) -> str:
    """Clearing runs of every market (or one), with status and timings, paged."""
    session = db.session
    markets = registry.list_markets(session)
    market_id = id_arg("market")
    page = page_arg()
    total, rows = queries.recent_runs(session, market_id=market_id, page=page, per_page=RUNS_PAGE)
    return render_template(
        "console/runs.html",
        markets=markets,
        market_id=market_id,
        rows=rows,
        total=total,
        page=page,
        pages=max(1, -(-total // RUNS_PAGE)),
    )


@console.get("/runs/<int:run_id>")
@pages_for(Role.REGULATOR, Role.AUDITOR)
def run(run_id: int, actor: Actor) -> str:
    """A run: result, curves, orders snapshot (sealed bids stay sealed), fills, journals."""
    session = db.session
    found = clearing.get_run(session, run_id)
    market = registry.get_market(session, found.market_id)
    snapshot: list[dict[str, Any]] = []
    sealed = 0
    try:
        book = clearing.snapshot_book(session, run_id)
    except ExchangeError:
        book = {"orders": []}
    book_orders = book.get("orders", [])
    states = queries.order_states(session, [int(o["id"]) for o in book_orders])
    for item in book_orders:
        league, status = states.get(int(item["id"]), ("?", OrderStatus.OPEN))
        if not visibility.may_see_order(actor, league, status):
            sealed += 1  # still live: a sealed bid (exchange.services.visibility)
            continue
        snapshot.append({**item, "league": league, "status": status.value})
    show_curves = auction_visibility.curves_visible(actor, lambda: sealed)
    journals = ledger_ops.journals(session, reference=f"run:{run_id}/", per_page=500)
    book = price_sorted(snapshot)
    return render_template(
        "console/run.html",
        run=found,
        market=market,
        head=headline(found, book if not sealed else None, prices_visible=show_curves),
        curves_svg=curves_svg(market, found) if show_curves else None,
        snapshot=snapshot,
        book=book,
        sealed=sealed,
        fills=queries.fills(session, run_id=run_id, limit=1000),
        journals=journals,
        asset_names=queries.market_of_asset(session),
        bundles=bundle_pages.run_bundles(session, run_id),
    )
