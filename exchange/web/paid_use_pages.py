"""Paid-use bills on the league's compliance desk: see them, pay them (instalments).

The compliance desk (``compliance_pages.desk``) lists the bills; the payment is posted here.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from flask import Blueprint, flash, redirect, url_for
from flask_babel import gettext as _
from flask_wtf import FlaskForm
from werkzeug.wrappers import Response as BaseResponse
from wtforms import StringField
from wtforms.validators import DataRequired, Length

from exchange.api.access import Actor, Role
from exchange.errors import ExchangeError
from exchange.extensions import db
from exchange.services import paid_use
from exchange.uow import unit_of_work
from exchange.web.access import pages_for
from exchange.web.errors import html_errors
from exchange.web.formatting import parse_yuan, yuan

paid_use_pages = Blueprint("paid_use_pages", __name__)
html_errors(paid_use_pages)


class PaymentForm(FlaskForm):  # type: ignore[misc]
    amount = StringField("amount", validators=[DataRequired(), Length(1, 24)])


def desk_bills(league: str) -> list[dict[str, Any]]:
    """The league's bills, each with its payment form."""
    today = datetime.now(UTC).date()
    return [
        {
            "bill": paid_use.bill_json(bill, today),
            "form": PaymentForm(formdata=None, prefix=f"b{bill.id}"),
        }
        for bill in paid_use.list_bills(db.session, league)
    ]


def _refusal(exc: ExchangeError) -> str:
    texts = {
        "bill_paid": _("The bill is paid."),
        "overpayment": _("That is more than remains to pay."),
        "insufficient_funds": _("Not enough cash available."),
        "validation_error": _(
            "A bill under 10 million yuan is paid in full; a larger one at least 40 % first."
        ),
        "bill_not_found": _("No such bill."),
    }
    return texts.get(exc.code, _("The request was refused (%(code)s).", code=exc.code))


@paid_use_pages.post("/desk/paid-use/bills/<int:bill_id>/pay")
@pages_for(Role.LEAGUE)
def pay_bill(bill_id: int, actor: Actor) -> BaseResponse:
    """Pay (part of) the league's paid-use bill."""
    form = PaymentForm(prefix=f"b{bill_id}")
    if not form.validate():
        flash(_("Please correct the fields marked below."), "error")
        return redirect(url_for("compliance_pages.desk") + "#h-bills")
    try:
        amount = parse_yuan(form.amount.data)
        command = paid_use.PayBill(
            bill_id,
            actor.league_code or "",
            amount,
            f"desk-{datetime.now(UTC):%Y%m%d%H%M%S%f}",
            actor.username,
            datetime.now(UTC).date(),
        )
        with unit_of_work(db.session) as session:
            paid_use.pay(session, command)
    except ValueError as exc:
        flash(str(exc), "error")
    except ExchangeError as exc:
        flash(_refusal(exc), "error")
    else:
        flash(_("Paid %(amount)s yuan.", amount=yuan(amount)), "success")
    return redirect(url_for("compliance_pages.desk") + "#h-bills")
