"""The league desk: holdings, order entry, open orders with cancel, fills, retirement
(the statement pages are in ``statement.py``, on the same blueprint)."""

from __future__ import annotations

from typing import Any

from flask import (
    Blueprint,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from marshmallow import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.wrappers import Response as BaseResponse

from exchange.api.access import Actor, Role
from exchange.api.trading_schemas import OrderCreateSchema
from exchange.errors import ExchangeError
from exchange.extensions import db
from exchange.identity.action_log import log_in_unit_of_work
from exchange.models import Market, MarketLeague, OrderStatus, utcnow
from exchange.models.trading import CLIENT_ORDER_KEY
from exchange.schedule import EXCHANGE_TZ
from exchange.services import ledger_ops, orders
from exchange.services.commands import PlaceOrder, Retire
from exchange.uow import idempotent_unit_of_work, unit_of_work
from exchange.web import bundle_pages, queries
from exchange.web.access import page_actor, pages_for
from exchange.web.errors import html_errors, on_stale_form
from exchange.web.formatting import local_time, paren, parse_quantity, parse_yuan, with_unit, yuan
from exchange.web.formatting import quantity as qty
from exchange.web.forms import CsrfOnlyForm, OrderForm, RetireForm, choices
from exchange.web.i18n import language
from exchange.web.labels import label
from exchange.web.messages import order_term_problems, refusal, schema_problem
from exchange.web.names import market_name

desk = Blueprint("desk", __name__, url_prefix="/desk")
html_errors(desk)

# Field names of the service and the API schema -> fields of the form.
ORDER_FIELDS = {
    "market_id": "market_id",
    "market": "market_id",
    "side": "side",
    "quantity": "quantity",
    "limit_price": "limit_price",
    "price": "limit_price",
    "validity": "validity",
    "client_order_id": "client_order_id",
}


def _markets(league: str) -> list[Market]:
    return list(
        db.session.scalars(
            select(Market)
            .join(MarketLeague, MarketLeague.market_id == Market.id)
            .where(MarketLeague.league_code == league)
            .order_by(Market.id)
        )
    )


def _order_form(
    markets: list[Market], formdata: Any = None, league: str = "", market: str | None = None
) -> OrderForm:
    form = OrderForm(formdata=formdata) if formdata is not None else OrderForm()
    zh = language() == "zh"
    form.market_id.choices = choices(
        [(m.id, paren(f"{m.code} · {m.name_zh if zh else m.name_en}", label("unit", m.unit)))
         for m in markets]
    )  # fmt: skip
    form.side.choices = choices([("buy", _("Buy")), ("sell", _("Sell"))])
    form.validity.choices = choices(
        [("gtc", _("Good until cancelled")), ("run", _("Next clearing run only"))]
    )
    if formdata is None:
        chosen = next((m for m in markets if m.code == market), None)
        if chosen is not None:
            form.market_id.data = chosen.id
        form.client_order_id.data = client_reference(league)
    return form


def client_reference(league: str) -> str:
    """A reference a person can read back: league, Beijing date and time to the second."""
    now = utcnow().astimezone(EXCHANGE_TZ)
    return f"{league or 'web'}-{now:%Y%m%d-%H%M%S}"


def chosen_market(form: OrderForm, markets: list[Market]) -> Market | None:
    """The market selected in the order form (for its unit, lot and tick next to the fields)."""
    wanted = form.market_id.data
    return next((m for m in markets if m.id == wanted), markets[0] if markets else None)


def _retire_form(markets: list[Market], formdata: Any = None) -> RetireForm:
    form = RetireForm(formdata=formdata, prefix="retire")
    form.market.choices = choices(
        [
            (m.code, paren(f"{m.code} · {market_name(m.code)}", label("unit", m.unit)))
            for m in markets
        ]
    )
    return form


def _render(
    actor: Actor, form: OrderForm, markets: list[Market], retire_form: RetireForm | None = None
) -> str:
    league = actor.league_code or ""
    session = db.session
    live: list[Any] = []
    for status in (OrderStatus.OPEN, OrderStatus.PARTIALLY_FILLED):
        live += orders.list_orders(session, league=league, status=status, per_page=200)[1]
    live.sort(key=lambda o: o.id, reverse=True)
    by_id = {m.id: m for m in session.scalars(select(Market))}
    return render_template(
        "desk/index.html",
        league=league,
        chosen=chosen_market(form, markets),
        balances=ledger_ops.balances(session, league)["balances"],
        form=form,
        markets=markets,
        live=live,
        markets_by_id=by_id,
        fills=queries.fills(session, league=league, limit=30),
        cancel_form=CsrfOnlyForm(),
        retire_form=retire_form or _retire_form(markets),
        **bundle_pages.desk_context(session, league),
    )


@desk.get("")
@pages_for(Role.LEAGUE)
def index(actor: Actor) -> str:
    """Holdings, the order form, open orders and fills of the user's league."""
    league = actor.league_code or ""
    markets = _markets(league)
    market = request.args.get("market", "")[:64] or None
    return _render(actor, _order_form(markets, league=league, market=market), markets)


@desk.post("/orders")
@pages_for(Role.LEAGUE)
def place(actor: Actor) -> BaseResponse | str:
    """Enter an order through the same service and schema as the API."""
    league = actor.league_code or ""
    markets = _markets(league)
    form = _order_form(markets, request.form)
    market = chosen_market(form, markets)
    if form.validate():
        data: dict[str, Any] = {
            "market_id": form.market_id.data,
            "side": form.side.data,
            "validity": form.validity.data,
            "client_order_id": form.client_order_id.data.strip(),
        }
        try:
            data["quantity"] = parse_quantity(form.quantity.data)
        except ValueError as exc:
            form.quantity.errors.append(str(exc))
        try:
            data["limit_price"] = parse_yuan(form.limit_price.data)
        except ValueError as exc:
            form.limit_price.errors.append(str(exc))
        if not form.errors and market is not None:
            _attach(form, order_term_problems(market, data["quantity"], data["limit_price"]))
        if not form.errors:
            try:
                loaded = OrderCreateSchema().load(data)
            except ValidationError as exc:
                messages = exc.messages if isinstance(exc.messages, dict) else {"": exc.messages}
                _attach(form, {name: schema_problem(name) for name in messages})
            else:
                command = PlaceOrder.from_data(loaded)

                def enter(session: Session) -> orders.PlacedOrder:
                    placed = orders.place_order(
                        session, command, league=league, actor=actor.username
                    )
                    log_in_unit_of_work(session, 302)  # one commit: the log entry with it
                    return placed

                try:
                    placed = idempotent_unit_of_work(db.session, enter, key=CLIENT_ORDER_KEY)
                except ExchangeError as exc:  # rolled back by the unit of work
                    _attach(form, {exc.field or "": refusal(exc, market)})
                else:
                    flash(_placed_message(placed.order, placed.created, market), "success")
                    return redirect(url_for("desk.index"))
    flash(_("Please correct the fields marked below."), "error")
    return _render(actor, form, markets)


def _placed_message(order: Any, created: bool, market: Market | None) -> str:
    if not created:
        return _("Order %(id)s had this reference already; nothing new was placed.", id=order.id)
    unit = label("unit", market.unit) if market else ""
    if market is not None and market.mechanism == "continuous":  # matched at entry
        return _(
            "%(side)s order %(id)s placed: %(quantity)s %(unit)s at %(price)s yuan, "
            "%(market)s; %(filled)s %(unit)s traded at entry.",
            side=label("side", order.side),
            id=order.id,
            quantity=qty(order.quantity),
            unit=unit,
            price=yuan(order.limit_price),
            market=market_name(market.code),
            filled=qty(order.filled_quantity),
        )
    upcoming = queries.market_summaries(db.session, [market])[0].next_run if market else None
    return _(
        "%(side)s order %(id)s placed: %(quantity)s %(unit)s at %(price)s yuan, "
        "%(market)s. Next clearing run: %(next)s (Beijing time).",
        side=label("side", order.side),
        id=order.id,
        quantity=qty(order.quantity),
        unit=unit,
        price=yuan(order.limit_price),
        market=market_name(market.code) if market else "",
        next=local_time(upcoming),
    )


@on_stale_form("desk.place")
def _stale_place() -> Any:
    actor = page_actor(Role.LEAGUE)
    if actor is None:
        return None
    markets = _markets(actor.league_code or "")
    return _render(actor, _order_form(markets, request.form), markets)


def _attach(form: Any, messages: dict[str, Any]) -> None:
    """Put each error next to its field (unknown fields: next to the market)."""
    for name, errors in messages.items():
        field = getattr(form, ORDER_FIELDS.get(name, "market_id"))
        items = errors if isinstance(errors, list) else [str(errors)]
        if not items:
            continue
        field.errors = [*field.errors, *(str(e) for e in items)]


@desk.post("/retirements")
@pages_for(Role.LEAGUE)
def retire(actor: Actor) -> BaseResponse | str:
    """Surrender available rights of a market (a retirement journal in the ledger): first a
    summary to confirm (irreversible), then the retirement."""
    league = actor.league_code or ""
    markets = _markets(league)
    form = _retire_form(markets, request.form)
    if request.form.get("edit"):
        return _render(actor, _order_form(markets, league=league), markets, retire_form=form)
    if form.validate():
        market = next((m for m in markets if m.code == form.market.data), None)
        try:
            quantity = parse_quantity(form.quantity.data)
        except ValueError as exc:
            form.quantity.errors.append(str(exc))
        else:
            reference = (form.reference.data or "").strip() or None
            available = _available(league, form.market.data)
            if quantity <= 0:
                form.quantity.errors.append(_("Enter a quantity above zero."))
            elif quantity > available:
                form.quantity.errors.append(
                    _("You have %(available)s available.", available=_units(available, market))
                )
            elif not request.form.get("confirm"):
                return _confirm_retirement(form, market, quantity, available, reference)
            else:
                try:
                    with unit_of_work(db.session) as session:
                        done = ledger_ops.retire(
                            session,
                            Retire(league, form.market.data, quantity, reference),
                            actor=actor.username,
                        )
                except ExchangeError as exc:  # rolled back by the unit of work
                    field = getattr(form, exc.field or "", None) or form.quantity
                    field.errors = [*field.errors, refusal(exc, market)]
                else:
                    flash(
                        _(
                            "Retired %(quantity)s of %(market)s for good (journal %(journal)s); "
                            "%(available)s still available.",
                            quantity=_units(done["quantity"], market),
                            market=market_name(done["market"]),
                            journal=done["journal_id"],
                            available=_units(done["available"], market),
                        ),
                        "success",
                    )
                    return redirect(url_for("desk.index"))
    flash(_("Please correct the fields marked below."), "error")
    return _render(actor, _order_form(markets, league=league), markets, retire_form=form)


def _units(value: int, market: Market | None) -> str:
    return with_unit(value, market.unit if market else "")


def _available(league: str, market_code: str) -> int:
    balances = ledger_ops.balances(db.session, league)["balances"]
    found = next((b for b in balances if b["market"] == market_code), None)
    return int(found["available"]) if found else 0


def _confirm_retirement(
    form: RetireForm, market: Market | None, quantity: int, available: int, reference: str | None
) -> str:
    return render_template(
        "confirm.html",
        heading=_("Retire rights: please confirm"),
        summary=[
            (_("Market"), market_name(form.market.data)),
            (_("Quantity to retire"), _units(quantity, market)),
            (_("Available now"), _units(available, market)),
            (_("Available afterwards"), _units(available - quantity, market)),
            (_("Reference"), reference or _("(set by the exchange)")),
        ],
        note=_(
            "Retired rights leave your holdings for good; the ledger records a retirement journal."
        ),
        irreversible=True,
        action=url_for("desk.retire"),
        fields=[
            ("retire-market", form.market.data),
            ("retire-quantity", form.quantity.data),
            ("retire-reference", form.reference.data or ""),
        ],
        form=CsrfOnlyForm(formdata=None),
        confirm_label=_("Retire %(quantity)s", quantity=_units(quantity, market)),
        back=url_for("desk.index") + "#h-retire",
        can_edit=True,
    )


@on_stale_form("desk.retire")
def _stale_retire() -> Any:
    actor = page_actor(Role.LEAGUE)
    if actor is None:
        return None
    league = actor.league_code or ""
    markets = _markets(league)
    form = _retire_form(markets, request.form)
    return _render(actor, _order_form(markets, league=league), markets, retire_form=form)


@desk.get("/orders/<int:order_id>/cancel")
@pages_for(Role.LEAGUE)
def cancel_confirm(order_id: int, actor: Actor) -> str:
    """What cancelling an order does (the hold released), to confirm."""
    order = orders.get_order(db.session, order_id, league=actor.league_code)
    market = db.session.get(Market, order.market_id)
    remaining = order.quantity - order.filled_quantity
    if order.side.value == "buy":
        released = _("%(amount)s yuan of cash", amount=yuan(remaining * order.limit_price))
    else:
        released = _units(remaining, market)
    return render_template(
        "confirm.html",
        heading=_("Cancel order %(id)s: please confirm", id=order.id),
        summary=[
            (_("Market"), market_name(market.code) if market else "—"),
            (_("Side"), label("side", order.side)),
            (_("Remaining"), _units(remaining, market)),
            (_("Limit (yuan)"), yuan(order.limit_price)),
            (_("Status"), label("order_status", order.status)),
            (_("Released from the hold"), released),
        ],
        note=_("A cancelled order cannot be reopened; place a new order to trade again."),
        irreversible=True,
        action=url_for("desk.cancel", order_id=order.id),
        fields=[],
        form=CsrfOnlyForm(formdata=None),
        confirm_label=_("Cancel order %(id)s", id=order.id),
        back=url_for("desk.index") + "#h-open",
        can_edit=False,
    )


@desk.post("/orders/<int:order_id>/cancel")
@pages_for(Role.LEAGUE)
def cancel(order_id: int, actor: Actor) -> BaseResponse:
    """Cancel an open order of the user's league; its hold is released."""
    with unit_of_work(db.session) as session:
        order = orders.cancel_order(
            session, order_id=order_id, league=actor.league_code, actor=actor.username
        )
        market = session.get(Market, order.market_id)
        log_in_unit_of_work(session, 302)  # one commit: the log entry with the cancel
    flash(
        _(
            "Order %(id)s cancelled (%(side)s %(quantity)s at %(price)s yuan); its hold was "
            "released.",
            id=order.id,
            side=label("side", order.side),
            quantity=_units(order.quantity - order.filled_quantity, market),
            price=yuan(order.limit_price),
        ),
        "success",
    )
    return redirect(url_for("desk.index"))
