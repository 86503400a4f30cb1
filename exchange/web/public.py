"""Public pages: the market overview and each market's page with its charts."""

from __future__ import annotations

from flask import Blueprint, render_template
from flask_babel import gettext as _
from markupsafe import Markup

from exchange.api.access import Role, current_actor
from exchange.errors import NotFound
from exchange.extensions import db
from exchange.mechanisms.call_auction import run as clearing
from exchange.mechanisms.call_auction import stats as run_stats
from exchange.mechanisms.call_auction import visibility
from exchange.models import ClearingRun, Market, RunStatus
from exchange.services import registry
from exchange.web import charts, queries
from exchange.web.errors import html_errors
from exchange.web.labels import label
from exchange.web.names import league_name, market_name
from exchange.web.query_args import page_arg
from exchange.web.run_view import headline

RUNS_PAGE = 10

pages = Blueprint("pages", __name__)
html_errors(pages)


@pages.get("/")
def home() -> str:
    """Every market with its last clearing price and volume and its next run; the leagues."""
    session = db.session
    markets = registry.list_markets(session)
    return render_template(
        "index.html",
        summaries=queries.market_summaries(session, markets),
        leagues=registry.list_leagues(session),
    )


@pages.get("/markets/<code>")
def market(code: str) -> str:
    """A market: terms, price and volume history, the last run's auction results.

    No supply and demand curves here: they reveal the sealed bids of live orders
    (``exchange.services.visibility``); the public gets what ``run_stats`` publishes.
    """
    session = db.session
    found = registry.get_market_by_code(session, code)
    if found.mechanism == "continuous":  # its own page: depth, trades, the day
        from exchange.web.continuous_pages import market_page

        return market_page(found)
    history = queries.price_history(session, found.id)
    page = page_arg()
    total, runs = clearing.list_runs(session, found.id, page=page, per_page=RUNS_PAGE)
    last = next((r for r in reversed(history)), None)
    return render_template(
        "market.html",
        market=found,
        summary=queries.market_summaries(session, [found])[0],
        history=history,
        history_svg=history_svg(found, history),
        last=last,
        runs=runs,
        run_total=total,
        page=page,
        pages=max(1, -(-total // RUNS_PAGE)),
    )


@pages.get("/markets/<code>/runs/<int:run_id>")
def run(code: str, run_id: int) -> str:
    """The public view of a clearing run: headline (the published auction results), zone
    prices and flows; a league also sees its own fills in it. The curves and the best bid
    and offer only for whom ``visibility.curves_visible`` allows (sealed bids)."""
    session = db.session
    found = registry.get_market_by_code(session, code)
    the_run = clearing.get_run(session, run_id)
    if the_run.market_id != found.id:
        raise NotFound(f"no clearing run {run_id} in market {code}", field="run_id")
    actor = current_actor()
    show_curves = actor.authenticated and visibility.curves_visible(
        actor, lambda: run_stats.live_in_snapshot(session, run_id)
    )
    own_fills = []
    if actor.authenticated and actor.role is Role.LEAGUE and actor.league_code:
        own_fills = [
            f
            for f in queries.fills(session, run_id=run_id, limit=1000)
            if f.order.league_code == actor.league_code
        ]
    return render_template(
        "run_public.html",
        run=the_run,
        market=found,
        head=headline(the_run, prices_visible=show_curves),
        curves_svg=curves_svg(found, the_run) if show_curves else None,
        own_fills=own_fills,
        full_view=actor.authenticated and actor.role in (Role.REGULATOR, Role.AUDITOR),
    )


def history_svg(market: Market, history: list[ClearingRun]) -> Markup:
    """The price and volume chart of a market (one line per zone for zonal markets)."""
    zonal = market.zonal
    series: list[str] = sorted({e.zone for e in market.eligibility}) if zonal else [market.code]
    points = []
    for run in history:
        if run.status is not RunStatus.COMPLETED:
            continue
        if zonal:
            prices = {z: (run.zone_prices or {}).get(z) for z in series}
        else:
            prices = {market.code: run.price}
        points.append(charts.HistoryPoint(run.window, prices, run.volume))
    labels = {
        "title": f"{market_name(market.code)}: {_('Price and volume history')}",
        "desc": _("Clearing price (line, yuan per unit) and volume (bars) of each completed run."),
        "price": _("Price (yuan)"),
        "volume": _("Volume"),
        "time": _("Time"),
        "empty": _("No clearing run yet."),
        "last": _("Last price (yuan)"),
        market.code: _("Price"),
        **({zone: league_name(zone) for zone in series} if zonal else {}),
    }
    unit = label("unit", market.unit)
    return charts.history_chart(points, series=series, unit=unit, labels=labels)


def curves_svg(market: Market, run: ClearingRun) -> Markup:
    """The aggregated supply and demand curves of a run with its clearing point."""
    curves = run.curves or {"prices": [], "demand": [], "supply": []}
    labels = {
        "title": f"{market_name(market.code)}: {_('Aggregated supply and demand')}",
        "desc": _(
            "Cumulative demand (buy quantity with limit at or above the price) and supply "
            "(sell quantity with limit at or below it); the clearing point is marked."
        ),
        "demand": _("Demand"),
        "supply": _("Supply"),
        "clearing_point": _("Clearing point"),
        "quantity": _("Quantity"),
        "price": _("Price (yuan)"),
        "empty": _("The run had no orders."),
        "no_point": _("no trade") if run.price is None and not run.zone_prices else "",
    }
    return charts.curves_chart(
        curves["prices"],
        curves["demand"],
        curves["supply"],
        price=run.price,
        volume=run.volume,
        unit=label("unit", market.unit),
        labels=labels,
    )
