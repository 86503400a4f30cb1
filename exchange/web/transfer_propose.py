"""The desk's transfers page and its proposal form: a league proposes a transfer of water to
a named counterparty (routes on the ``transfer_pages`` blueprint; the same service and schema
as the API)."""

from __future__ import annotations

from typing import Any

from flask import flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_wtf import FlaskForm
from marshmallow import ValidationError
from sqlalchemy import select
from werkzeug.wrappers import Response as BaseResponse
from wtforms import SelectField, StringField
from wtforms.validators import DataRequired

from exchange.api.access import Actor, Role
from exchange.api.transfers_api import TransferCreateSchema
from exchange.errors import ExchangeError
from exchange.extensions import db
from exchange.models import League, Market, MarketLeague, RightType
from exchange.services import families, transfers
from exchange.uow import unit_of_work
from exchange.web.access import pages_for
from exchange.web.desk import client_reference
from exchange.web.formatting import parse_quantity, parse_yuan
from exchange.web.forms import choices
from exchange.web.names import league_name
from exchange.web.transfers_pages import desk_page, family_label, transfer_pages

# Fields of the service and the API schema -> fields of the form.
FIELDS = {
    "market_family": "family",
    "seller": "counterparty",
    "buyer": "counterparty",
    "quantity_per_year": "quantity",
    "first_year": "first_year",
    "last_year": "last_year",
    "price": "price",
    "payment": "payment",
}


class ProposeForm(FlaskForm):  # type: ignore[misc]
    family = SelectField("family", validators=[DataRequired()])
    side = SelectField("side", validators=[DataRequired()])
    counterparty = SelectField("counterparty", validators=[DataRequired()])
    quantity = StringField("quantity", validators=[DataRequired()])
    first_year = StringField("first_year", validators=[DataRequired()])
    last_year = StringField("last_year", validators=[DataRequired()])
    price = StringField("price", validators=[DataRequired()])
    payment = SelectField("payment", validators=[DataRequired()])


def propose_form(league: str, formdata: Any = None) -> ProposeForm:
    """The form with the league's water families and the other participants."""
    form = ProposeForm(formdata=formdata, prefix="propose")
    markets = db.session.scalars(
        select(Market)
        .join(MarketLeague, MarketLeague.market_id == Market.id)
        .where(MarketLeague.league_code == league, Market.right_type == RightType.WATER)
    ).all()
    codes = sorted({families.family_of(m) for m in markets})
    form.family.choices = choices([(c, family_label(c)) for c in codes])
    form.side.choices = choices([("sell", _("We sell")), ("buy", _("We buy"))])
    others = db.session.scalars(select(League.code).where(League.code != league)).all()
    form.counterparty.choices = choices([(c, league_name(c)) for c in sorted(others)])
    form.payment.choices = choices([("yearly", _("yearly")), ("upfront", _("upfront"))])
    return form


def _data(form: ProposeForm, league: str) -> dict[str, Any] | None:
    """The proposal as the API takes it, or None (errors attached to the form)."""
    data: dict[str, Any] = {"market_family": form.family.data, "payment": form.payment.data}
    mine, theirs = league, form.counterparty.data
    data["seller"], data["buyer"] = (mine, theirs) if form.side.data == "sell" else (theirs, mine)
    for name, parse in (
        ("quantity", parse_quantity),
        ("first_year", parse_quantity),
        ("last_year", parse_quantity),
        ("price", parse_yuan),
    ):
        try:
            data[name] = parse(getattr(form, name).data)
        except ValueError as exc:
            getattr(form, name).errors.append(str(exc))
    if form.errors:
        return None
    data["quantity_per_year"] = data.pop("quantity")
    data["client_ref"] = client_reference(league)
    return data


@transfer_pages.get("/desk/transfers")
@pages_for(Role.LEAGUE)
def desk(actor: Actor) -> str:
    """The league's proposals in and out, its transfers with their schedules, a new proposal."""
    return desk_page(actor, propose_form(actor.league_code or ""))


@transfer_pages.post("/desk/transfers")
@pages_for(Role.LEAGUE)
def propose(actor: Actor) -> BaseResponse | str:
    """Propose a transfer through the same schema and service as the API."""
    league = actor.league_code or ""
    form = propose_form(league, request.form)
    if form.validate() and (data := _data(form, league)) is not None:
        try:
            loaded = TransferCreateSchema().load(data)
            with unit_of_work(db.session) as session:
                transfer, _created = transfers.propose(
                    session, transfers.ProposeTransfer(**loaded), actor
                )
        except ValidationError as exc:
            messages = exc.messages if isinstance(exc.messages, dict) else {}
            for name in messages:
                getattr(form, FIELDS.get(name, "family")).errors.append(_("Check this value."))
        except ExchangeError as exc:  # rolled back by the unit of work
            field = getattr(form, FIELDS.get(exc.field or "", "family"))
            field.errors.append(proposal_refusal(exc))
        else:
            flash(_("Transfer %(id)s proposed.", id=transfer.id), "success")
            return redirect(url_for("transfer_pages.desk"))
    flash(_("Please correct the fields marked below."), "error")
    return desk_page(actor, form)


def proposal_refusal(exc: ExchangeError) -> str:
    """Why the service refused a proposal, in the page's language."""
    messages = {
        "market_family": _("No market of this water family exists."),
        "seller": _("This participant may not trade in this water family."),
        "buyer": _("This participant may not trade in this water family."),
        "quantity_per_year": _("Enter a positive multiple of the market's lot."),
        "first_year": _("Enter a year from 2000 to 2100."),
        "last_year": _("The term runs from the first to the last year, at most 30 years."),
        "price": _("Enter a price of zero or more yuan."),
    }
    return messages.get(exc.field or "", _("The proposal could not be made."))
