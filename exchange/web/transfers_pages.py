"""Transfer pages: the public list (成交公示), the league desk's transfers, the console queue.

Thin views over ``exchange.services.transfers`` (writes, in a unit of work) and
``transfer_views`` (reads, filtered by the transfer mechanism's visibility rule).
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Flask, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from werkzeug.wrappers import Response as BaseResponse

from exchange.api.access import ANONYMOUS, Actor, Role
from exchange.errors import ExchangeError
from exchange.extensions import db
from exchange.models import Basin
from exchange.services import participants, transfer_views, transfers
from exchange.uow import unit_of_work
from exchange.web.access import pages_for
from exchange.web.errors import html_errors
from exchange.web.forms import CsrfOnlyForm
from exchange.web.i18n import language

transfer_pages = Blueprint("transfer_pages", __name__)
html_errors(transfer_pages)

LEAGUE_ACTIONS = ("accept", "reject", "withdraw")
REGULATOR_ACTIONS = ("review", "approve", "reject")


def status_label(status: str) -> str:
    """A transfer's or a year's status in the page's language."""
    labels = {
        "proposed": _("proposed"),
        "accepted": _("accepted"),
        "reviewed": _("reviewed"),
        "active": _("active"),
        "completed": _("completed"),
        "rejected": _("rejected"),
        "withdrawn": _("withdrawn"),
        "defaulted": _("defaulted"),
        "pending": _("awaiting allocation"),
        "secured": _("water held"),
        "delivered": _("delivered"),
        "cancelled": _("cancelled"),
    }
    return labels.get(status, status)


def payment_label(payment: str) -> str:
    """How the buyer pays, in the page's language."""
    return _("upfront") if payment == "upfront" else _("yearly")


def step_label(step: str) -> str:
    """A four-eyes step in the page's language."""
    return {"review": _("reviewed"), "approve": _("approved"), "reject": _("rejected")}.get(
        step, step
    )


def family_label(family: str) -> str:
    """``water:yellow`` -> "Yellow River water" (黄河水权) in the page's language."""
    _right, _sep, basin_code = family.partition(":")
    basin = db.session.get(Basin, basin_code) if basin_code else None
    if basin is None:
        return family
    name = basin.name_zh if language() == "zh" else basin.name_en
    return _("%(basin)s water", basin=name)


def defaults_to_notice() -> int:
    """How many transfers are in default (the console's banner shows it to regulators)."""
    return len(transfer_views.defaults(db.session))


def init_transfer_notice(app: Flask) -> None:
    """``transfer_defaults()`` in templates: the regulator console's notice of defaults."""
    app.add_template_global(defaults_to_notice, "transfer_defaults")


def _dicts(items: Any) -> list[dict[str, Any]]:
    return [transfer_views.transfer_dict(db.session, t) for t in items]


def _render(template: str, **context: Any) -> str:
    return render_template(
        template,
        status_label=status_label,
        payment_label=payment_label,
        step_label=step_label,
        family_label=family_label,
        action_form=CsrfOnlyForm(),
        **context,
    )


@transfer_pages.get("/transfers")
def public_list() -> str:
    """Approved transfers, newest first: parties, volume, term, price (成交公示)."""
    _total, items = transfer_views.list_transfers(
        db.session, transfer_views.TransferQuery(per_page=200), ANONYMOUS
    )
    return _render(
        "transfers/public.html",
        transfers=_dicts(items),
        cross_border=participants.cross_border(db.session),
    )


def desk_page(actor: Actor, form: Any) -> str:
    """The desk's transfers page with the proposal ``form`` (fresh, or with its errors)."""
    league = actor.league_code or ""
    _total, items = transfer_views.list_transfers(
        db.session, transfer_views.TransferQuery(party=league, per_page=500), actor
    )
    mine = _dicts(items)
    proposed = [t for t in mine if t["status"] == "proposed"]
    return _render(
        "transfers/desk.html",
        league=league,
        incoming=[t for t in proposed if t["proposer"] != league],
        outgoing=[t for t in proposed if t["proposer"] == league],
        running=[t for t in mine if t["status"] in ("accepted", "reviewed", "active")],
        closed=[
            t for t in mine if t["status"] in ("completed", "rejected", "withdrawn", "defaulted")
        ],
        propose_form=form,
    )


@transfer_pages.get("/regulator/transfers")
@pages_for(Role.REGULATOR)
def console(actor: Actor) -> str:
    """The four-eyes queue (review, then approval by another regulator) and the defaults."""
    return _render(
        "transfers/console.html",
        queue=_dicts(transfer_views.approval_queue(db.session)),
        defaults=_dicts(transfer_views.defaults(db.session)),
        me=actor.username,
    )


def _act(actor: Actor, transfer_id: int, action: str, back: str) -> BaseResponse:
    form = CsrfOnlyForm()
    if not form.validate():
        abort(400)
    reason = (request.form.get("reason") or "").strip()[:500] or None
    try:
        with unit_of_work(db.session) as session:
            transfer = getattr(transfers, action)(
                session, transfers.TransferAction(transfer_id, reason), actor
            )
    except ExchangeError as exc:  # rolled back by the unit of work
        flash(refusal(exc), "error")
    else:
        flash(
            _(
                "Transfer %(id)s is now %(status)s.",
                id=transfer.id,
                status=status_label(transfer.status.value),
            ),
            "success",
        )
    return redirect(url_for(back))


@transfer_pages.post("/desk/transfers/<int:transfer_id>/<action>")
@pages_for(Role.LEAGUE)
def desk_action(actor: Actor, transfer_id: int, action: str) -> BaseResponse:
    """Accept or reject a proposal made to the league, or withdraw one it made."""
    if action not in LEAGUE_ACTIONS:
        abort(404)
    return _act(actor, transfer_id, action, "transfer_pages.desk")


@transfer_pages.post("/regulator/transfers/<int:transfer_id>/<action>")
@pages_for(Role.REGULATOR)
def console_action(actor: Actor, transfer_id: int, action: str) -> BaseResponse:
    """Review, approve (a different regulator than the reviewer) or reject with a reason."""
    if action not in REGULATOR_ACTIONS:
        abort(404)
    return _act(actor, transfer_id, action, "transfer_pages.console")


def refusal(exc: ExchangeError) -> str:
    """A service's refusal of a transfer action, in the page's language."""
    if exc.code == "same_user":
        return _("Four eyes: you reviewed this transfer, so another regulator must approve it.")
    if exc.code == "insufficient_funds":
        if exc.field == "quantity_per_year":
            return _("The seller does not have the promised water available to hold.")
        return _("The buyer does not have the cash for the first payment.")
    if exc.code == "transfer_status":
        return _("This transfer is no longer in a state that allows this.")
    if exc.field == "reason":
        return _("Give a reason for the rejection.")
    if exc.status == 404:
        return _("No such transfer.")
    if exc.status == 403:
        return _("You may not do this for this transfer.")
    return _("The transfer could not be changed.")
