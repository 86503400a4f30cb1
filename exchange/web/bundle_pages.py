"""Bundle orders on the pages (issue 21): the league desk lists a bundle as one order with its
legs inside (and cancels it); a run's page lists the bundles of its joint clearing, accepted
or not, and why not."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import Blueprint, flash, redirect, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext
from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.wrappers import Response as BaseResponse

from exchange.api.access import Actor, Role
from exchange.extensions import db
from exchange.identity.action_log import log_in_unit_of_work
from exchange.models import Market
from exchange.models.bundles import Bundle, BundleLeg, BundleStatus, JointClearingRun
from exchange.services import bundles as bundle_service
from exchange.uow import unit_of_work
from exchange.web.access import pages_for
from exchange.web.errors import html_errors

bundle_pages = Blueprint("bundle_pages", __name__, url_prefix="/desk/bundles")
html_errors(bundle_pages)

STATUS = {
    BundleStatus.OPEN: lazy_gettext("Open"),
    BundleStatus.ACCEPTED: lazy_gettext("Accepted"),
    BundleStatus.REJECTED: lazy_gettext("Not accepted"),
    BundleStatus.CANCELLED: lazy_gettext("Cancelled"),
}
REASONS = {
    "limit_not_met": lazy_gettext("its limit was not met at the clearing prices"),
    "no_counterpart": lazy_gettext("a market could not absorb one of its legs"),
    "not_selected": lazy_gettext(
        "its limit was met at the clearing prices, but accepting it would have moved the "
        "prices against it (paradoxical) or lowered the window's total surplus"
    ),
    "market_cleared": lazy_gettext("a market of the bundle had already cleared this window"),
    "stability_rules": lazy_gettext(
        "a market of the bundle came under stability rules, which joint clearing does not apply"
    ),
    "window_missed": lazy_gettext(
        "its window was not cleared (a market was closed or the run failed)"
    ),
}
RECENT = 20


@dataclass(frozen=True)
class BundleRow:
    """A bundle as a page shows it: one order, its legs inside."""

    bundle: Bundle
    status: str
    reason: str | None
    legs: list[tuple[BundleLeg, Market | None]]


def _rows(session: Session, found: list[Bundle]) -> list[BundleRow]:
    ids = {leg.market_id for b in found for leg in b.legs}
    markets = {m.id: m for m in session.scalars(select(Market).where(Market.id.in_(ids)))}
    return [
        BundleRow(
            b,
            str(STATUS[b.status]),
            str(REASONS[b.reason]) if b.reason in REASONS else b.reason,
            [(leg, markets.get(leg.market_id)) for leg in b.legs],
        )
        for b in found
    ]


def desk_bundles(session: Session, league: str) -> list[BundleRow]:
    """The league's open bundles and its latest others, newest first."""
    found = session.scalars(
        select(Bundle).where(Bundle.league_code == league).order_by(Bundle.id.desc()).limit(RECENT)
    ).all()
    return _rows(session, list(found))


def run_bundles(session: Session, run_id: int) -> list[BundleRow]:
    """The bundles of the joint clearing run ``run_id`` was part of, with a leg in its market
    (none while open: a run's bundles are accepted or rejected by the run itself)."""
    link = session.get(JointClearingRun, run_id)
    if link is None:
        return []
    found = session.scalars(
        select(Bundle).where(Bundle.joint_id == link.joint_id).order_by(Bundle.id)
    ).all()
    return _rows(session, list(found))


def desk_context(session: Session, league: str) -> dict[str, Any]:
    """What the desk's bundle section needs."""
    return {"bundles": desk_bundles(session, league)}


@bundle_pages.post("/<int:bundle_id>/cancel")
@pages_for(Role.LEAGUE)
def cancel(bundle_id: int, actor: Actor) -> BaseResponse:
    """Cancel an open bundle of the user's league; its holds are released."""
    with unit_of_work(db.session) as session:
        bundle = bundle_service.cancel_bundle(
            session, bundle_id=bundle_id, viewer=actor, actor=actor.username
        )
        log_in_unit_of_work(session, 302)  # one commit: the log entry with the cancel
    flash(_("Bundle %(id)s cancelled; its holds were released.", id=bundle.id), "success")
    return redirect(url_for("desk.index") + "#h-bundles")
