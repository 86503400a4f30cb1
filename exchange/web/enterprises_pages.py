"""The league's page of its enterprises (issue 20): their state, holdings and compliance
status, read-only (the local authority's view; their orders stay sealed)."""

from __future__ import annotations

from datetime import UTC, datetime

from flask import Blueprint, render_template
from flask_babel import gettext as _

from exchange.api.access import Actor, Role
from exchange.compliance import status
from exchange.extensions import db
from exchange.services import enterprise_views
from exchange.web.access import pages_for
from exchange.web.errors import html_errors

enterprises_pages = Blueprint("enterprises_pages", __name__)
html_errors(enterprises_pages)


@enterprises_pages.get("/desk/enterprises")
@pages_for(Role.LEAGUE)
def league_enterprises(actor: Actor) -> str:
    """The calling league's enterprises."""
    league = actor.league_code or ""
    today = datetime.now(UTC).date()
    views = enterprise_views.league_overview(db.session, actor, league, today, status.statuses_of)
    names = {e.code: e for e in enterprise_views.enterprises_of(db.session, league)}
    return render_template(
        "enterprises/league.html",
        league=league,
        views=views,
        enterprises=names,
        states=_states(),
        sectors=_sectors(),
    )


def _states() -> dict[str, str]:
    return {
        "pending": _("pending approval"),
        "open": _("open"),
        "restricted": _("restricted (surrender only)"),
        "suspended": _("suspended"),
        "closure_pending": _("closure pending"),
        "closed": _("closed"),
        "rejected": _("refused"),
    }


def _sectors() -> dict[str, str]:
    return {
        "power": _("power"),
        "coal_chemical": _("coal chemicals"),
        "chemical": _("chemicals"),
        "nonferrous": _("nonferrous metals"),
        "steel": _("steel"),
        "building_materials": _("building materials"),
        "irrigation": _("irrigation district"),
        "industrial_water": _("industrial water user"),
        "data_centre": _("data centre"),
        "other": _("other"),
    }
