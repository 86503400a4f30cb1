"""The page of a continuous market: depth, last trades, the day's chart, daily closes.

``/markets/<code>`` shows it for a continuous market (``public.market`` hands over);
``/markets/<code>/live`` is the same live part as an HTML fragment, which
``static/continuous.js`` fetches every few seconds to refresh the page without a reload
(no external script; the page works without scripts, only not live).
"""

from __future__ import annotations

from datetime import UTC, datetime, time
from typing import Any

from flask import Blueprint, render_template
from flask_babel import gettext as _
from markupsafe import Markup

from exchange.errors import NotFound
from exchange.extensions import db
from exchange.mechanisms.continuous import market_data, sessions
from exchange.models import Market
from exchange.services import registry
from exchange.web import charts
from exchange.web.errors import html_errors
from exchange.web.labels import label
from exchange.web.names import market_name

continuous_pages = Blueprint("continuous_pages", __name__)
html_errors(continuous_pages)


def _live(market: Market) -> dict[str, Any]:
    session = db.session
    return {
        "market": market,
        "book": market_data.book(session, market.id),
        "tape": market_data.trades(session, market.id, limit=20),
        "hours": _hours(market.session_calendar),
    }


def _hours(calendar: str | None) -> str:
    if (calendar or sessions.DEFAULT_CALENDAR) == sessions.ALWAYS:
        return str(_("Open around the clock"))
    return str(_("Monday to Friday 9:30-11:30 and 13:00-15:00, Beijing time"))


def market_page(market: Market) -> str:
    """The full page of a continuous market."""
    live = _live(market)
    closes = market_data.closes(db.session, market.id)
    return render_template(
        "market_continuous.html",
        **live,
        day_svg=day_svg(market, live["tape"]["path"]),
        closes=closes,
        closes_svg=closes_svg(market, closes),
    )


@continuous_pages.get("/markets/<code>/live")
def live(code: str) -> str:
    """The live part of a continuous market's page (depth, trades, the day's chart)."""
    market = registry.get_market_by_code(db.session, code)
    if market.mechanism != "continuous":
        raise NotFound(f"market {code} does not trade continuously", field="code")
    data = _live(market)
    return render_template(
        "_continuous_live.html", **data, day_svg=day_svg(market, data["tape"]["path"])
    )


def day_svg(market: Market, path: list[dict[str, Any]]) -> Markup:
    """Today's listed trades: price (line) and quantity (bars) over the day."""
    points = [charts.HistoryPoint(p["t"], {market.code: p["price"]}, p["quantity"]) for p in path]
    labels = {
        "title": f"{market_name(market.code)}: {_('Trades of the day')}",
        "desc": _("Price (line, yuan per unit) and quantity (bars) of each listed trade today."),
        "price": _("Price (yuan)"),
        "volume": _("Volume"),
        "time": _("Time"),
        "empty": _("No trade yet today."),
        "last": _("Last price (yuan)"),
        market.code: _("Price"),
    }
    return charts.history_chart(
        points, series=[market.code], unit=label("unit", market.unit), labels=labels
    )


def closes_svg(market: Market, closes: list[Any]) -> Markup:
    """Daily closes (line) and listed volume (bars)."""
    points = [
        charts.HistoryPoint(
            datetime.combine(c.day, time(7, 0), tzinfo=UTC), {market.code: c.close}, c.volume
        )
        for c in closes
    ]
    labels = {
        "title": f"{market_name(market.code)}: {_('Daily closes')}",
        "desc": _("Close of each day (line, yuan per unit: the volume-weighted average price "
                  "of its listed trades) and listed volume (bars)."),
        "price": _("Close (yuan)"),
        "volume": _("Volume"),
        "time": _("Day"),
        "empty": _("No close yet."),
        "last": _("Last close (yuan)"),
        market.code: _("Close"),
    }  # fmt: skip
    return charts.history_chart(
        points, series=[market.code], unit=label("unit", market.unit), labels=labels
    )
