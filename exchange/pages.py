"""Server-rendered pages (the web front of the exchange)."""

from __future__ import annotations

from flask import Blueprint, render_template

from exchange.extensions import db
from exchange.services import registry

pages = Blueprint("pages", __name__)


@pages.get("/")
def home() -> str:
    """Home page: the markets and the leagues."""
    session = db.session
    return render_template(
        "index.html",
        markets=registry.list_markets(session),
        leagues=registry.list_leagues(session),
    )
