"""Names of leagues and markets in the page's language, for templates and messages.

The codes (``ordos``, ``YR-WATER-2027``) stay the keys; a person reads 鄂尔多斯市 or
"Ordos". Loaded once per request.
"""

from __future__ import annotations

from typing import Any

from flask import Flask, g
from sqlalchemy import select

from exchange.extensions import db
from exchange.models import League, Market
from exchange.web.i18n import language


def _names() -> dict[str, dict[str, tuple[str, str]]]:
    cached: dict[str, dict[str, tuple[str, str]]] | None = g.get("_names")
    if cached is None:
        session = db.session
        leagues = {lg.code: (lg.name_en, lg.name_zh) for lg in session.scalars(select(League))}
        markets = {m.code: (m.name_en, m.name_zh) for m in session.scalars(select(Market))}
        cached = {"league": leagues, "market": markets}
        g._names = cached
    return cached


def league_name(code: Any) -> str:
    """鄂尔多斯市 / Ordos for ``ordos``; an unknown code as it is."""
    pair = _names()["league"].get(str(code))
    if pair is None:
        return str(code) if code is not None else "—"
    return pair[1] if language() == "zh" else pair[0]


def market_name(code: Any) -> str:
    """The market's name for its code; an unknown code as it is."""
    pair = _names()["market"].get(str(code))
    if pair is None:
        return str(code) if code is not None else "—"
    return pair[1] if language() == "zh" else pair[0]


def init_names(app: Flask) -> None:
    """``league_name`` and ``market_name_of`` in every template."""
    app.add_template_global(league_name, "league_name_of")
    app.add_template_global(market_name, "market_name_of")
