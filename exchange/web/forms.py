"""Forms of the pages (Flask-WTF: every POST form carries its CSRF token).

Typed values stay strings in the forms, so a form shown again after an error keeps
exactly what was typed; the views convert them (``formatting.parse_*``) and let
the services and the API's marshmallow schemas decide what is valid.
"""

from __future__ import annotations

from typing import Any

from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import RadioField, SelectField, StringField
from wtforms.validators import DataRequired, Length, Optional

try:  # WTForms >= 3.3 deprecates (value, label) tuples
    from wtforms import SelectChoice
except ImportError:  # pragma: no cover - older WTForms
    SelectChoice = None


def choices(pairs: list[tuple[Any, str]]) -> list[Any]:
    """Options of a select or radio field from ``(value, label)`` pairs."""
    if SelectChoice is None:  # pragma: no cover
        return pairs
    return [SelectChoice(str(value), label) for value, label in pairs]


class CsrfOnlyForm(FlaskForm):  # type: ignore[misc]
    """A button that changes state: only the CSRF token (cancel, clear, confirm, verify)."""


class OrderForm(FlaskForm):  # type: ignore[misc]
    market_id = SelectField("market", coerce=int, validators=[DataRequired()])
    side = RadioField("side", choices=["buy", "sell"], default="buy")
    quantity = StringField("quantity", validators=[DataRequired(), Length(1, 24)])
    limit_price = StringField("limit_price", validators=[DataRequired(), Length(1, 24)])
    validity = SelectField("validity", choices=["gtc", "run"], default="gtc")
    client_order_id = StringField("client_order_id", validators=[DataRequired(), Length(1, 64)])


class AllocationForm(FlaskForm):  # type: ignore[misc]
    league = SelectField("league", validators=[DataRequired()])
    market = SelectField("market", validators=[DataRequired()])
    quantity = StringField("quantity", validators=[DataRequired(), Length(1, 24)])
    reference = StringField("reference", validators=[Optional(), Length(1, 100)])


class UploadForm(FlaskForm):  # type: ignore[misc]
    file = FileField("file", validators=[FileRequired()])


class RetireForm(FlaskForm):  # type: ignore[misc]
    market = SelectField("market", validators=[DataRequired()])
    quantity = StringField("quantity", validators=[DataRequired(), Length(1, 24)])
    reference = StringField("reference", validators=[Optional(), Length(1, 100)])


class DepositForm(FlaskForm):  # type: ignore[misc]
    league = SelectField("league", validators=[DataRequired()])
    amount = StringField("amount", validators=[DataRequired(), Length(1, 24)])
    reference = StringField("reference", validators=[Optional(), Length(1, 100)])
