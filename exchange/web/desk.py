"""The league desk: holdings, order entry, open orders with cancel, fills, statement."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from datetime import datetime
from typing import Any

from flask import (
    Blueprint,
    Response,
    flash,
    redirect,
    render_template,
    request,
    stream_with_context,
    url_for,
)
from flask_babel import gettext as _
from marshmallow import ValidationError
from sqlalchemy import select
from werkzeug.wrappers import Response as BaseResponse

from exchange.api.access import Actor, Role
from exchange.api.trading_schemas import OrderCreateSchema
from exchange.errors import ExchangeError
from exchange.extensions import db
from exchange.models import Market, MarketLeague, OrderStatus
from exchange.services import ledger_ops, orders
from exchange.web import queries
from exchange.web.access import pages_for
from exchange.web.errors import html_errors
from exchange.web.formatting import parse_quantity, parse_yuan
from exchange.web.forms import CsrfOnlyForm, OrderForm, RetireForm, choices
from exchange.web.i18n import language

desk = Blueprint("desk", __name__, url_prefix="/desk")
html_errors(desk)

STATEMENT_PAGE = 50
CSV_BATCH = 1000
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


def _order_form(markets: list[Market], formdata: Any = None) -> OrderForm:
    form = OrderForm(formdata=formdata) if formdata is not None else OrderForm()
    zh = language() == "zh"
    form.market_id.choices = choices(
        [(m.id, f"{m.code} · {m.name_zh if zh else m.name_en}") for m in markets]
    )
    form.side.choices = choices([("buy", _("Buy")), ("sell", _("Sell"))])
    form.validity.choices = choices(
        [("gtc", _("Good until cancelled")), ("run", _("Next clearing run only"))]
    )
    if formdata is None:
        form.client_order_id.data = "web-" + datetime.now().strftime("%Y%m%d-%H%M%S-%f")[:-3]
    return form


def _retire_form(markets: list[Market], formdata: Any = None) -> RetireForm:
    form = RetireForm(formdata=formdata, prefix="retire")
    form.market.choices = choices([(m.code, m.code) for m in markets])
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
        balances=ledger_ops.balances(session, league)["balances"],
        form=form,
        markets=markets,
        live=live,
        markets_by_id=by_id,
        fills=queries.fills(session, league=league, limit=30),
        cancel_form=CsrfOnlyForm(),
        retire_form=retire_form or _retire_form(markets),
    )


@desk.get("")
@pages_for(Role.LEAGUE)
def index(actor: Actor) -> str:
    """Holdings, the order form, open orders and fills of the user's league."""
    markets = _markets(actor.league_code or "")
    return _render(actor, _order_form(markets), markets)


@desk.post("/orders")
@pages_for(Role.LEAGUE)
def place(actor: Actor) -> BaseResponse | str:
    """Enter an order through the same service and schema as the API."""
    league = actor.league_code or ""
    markets = _markets(league)
    form = _order_form(markets, request.form)
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
        if not form.errors:
            try:
                loaded = OrderCreateSchema().load(data)
            except ValidationError as exc:
                messages = exc.messages if isinstance(exc.messages, dict) else {"": exc.messages}
                _attach(form, messages)
            else:
                try:
                    placed = orders.place_order(
                        db.session, league=league, data=loaded, actor=actor.username
                    )
                except ExchangeError as exc:
                    db.session.rollback()
                    _attach(form, {exc.field or "": [exc.message]})
                else:
                    if placed.created:
                        flash(_("Order %(id)s placed.", id=placed.order.id), "success")
                    else:
                        flash(
                            _(
                                "Order %(id)s had this reference already; nothing new was placed.",
                                id=placed.order.id,
                            ),
                            "success",
                        )
                    return redirect(url_for("desk.index"))
    flash(_("Please correct the fields marked below."), "error")
    return _render(actor, form, markets)


def _attach(form: OrderForm, messages: dict[str, Any]) -> None:
    """Put each error next to its field (unknown fields: next to the market)."""
    for name, errors in messages.items():
        field = getattr(form, ORDER_FIELDS.get(name, "market_id"))
        items = errors if isinstance(errors, list) else [str(errors)]
        field.errors = [*field.errors, *(str(e) for e in items)]


@desk.post("/retirements")
@pages_for(Role.LEAGUE)
def retire(actor: Actor) -> BaseResponse | str:
    """Surrender available rights of a market (a retirement journal in the ledger)."""
    league = actor.league_code or ""
    markets = _markets(league)
    form = _retire_form(markets, request.form)
    if form.validate():
        try:
            quantity = parse_quantity(form.quantity.data)
        except ValueError as exc:
            form.quantity.errors.append(str(exc))
        else:
            try:
                done = ledger_ops.retire(
                    db.session,
                    league=league,
                    market=form.market.data,
                    quantity=quantity,
                    actor=actor.username,
                    reference=(form.reference.data or "").strip() or None,
                )
            except ExchangeError as exc:
                db.session.rollback()
                field = getattr(form, exc.field or "", None) or form.quantity
                field.errors = [*field.errors, exc.message]
            else:
                flash(
                    _(
                        "%(quantity)s units of %(market)s retired.",
                        quantity=done["quantity"],
                        market=done["market"],
                    ),
                    "success",
                )
                return redirect(url_for("desk.index"))
    flash(_("Please correct the fields marked below."), "error")
    return _render(actor, _order_form(markets), markets, retire_form=form)


@desk.post("/orders/<int:order_id>/cancel")
@pages_for(Role.LEAGUE)
def cancel(order_id: int, actor: Actor) -> BaseResponse:
    """Cancel an open order of the user's league; its hold is released."""
    order = orders.cancel_order(
        db.session, order_id=order_id, league=actor.league_code, actor=actor.username
    )
    flash(_("Order %(id)s cancelled.", id=order.id), "success")
    return redirect(url_for("desk.index"))


def _statement_args() -> tuple[str, str, int]:
    asset = request.args.get("asset", "cash")[:64] or "cash"
    account = request.args.get("account", "available")
    if account not in ("available", "held"):
        account = "available"
    raw = request.args.get("page", "1")
    page = int(raw) if raw.isascii() and raw.isdigit() and 0 < int(raw) < 10**9 else 1
    return asset, account, page


@desk.get("/statement")
@pages_for(Role.LEAGUE)
def statement(actor: Actor) -> str:
    """The league's postings on one asset with the running balance, paged."""
    league = actor.league_code or ""
    asset, account, page = _statement_args()
    result = ledger_ops.statement(
        db.session, league=league, asset=asset, account=account, page=page, per_page=STATEMENT_PAGE
    )
    pages = max(1, -(-result["total"] // STATEMENT_PAGE))
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
        writer = csv.writer(out)
        writer.writerow(
            ["journal_id", "created_at", "kind", "reference", "actor", "amount", "balance",
             "hold_id", "chain", "seq"]
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
                    [line.journal_id, line.created_at.isoformat(), line.kind, line.reference,
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
