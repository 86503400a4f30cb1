"""Refusals as a person reads them: in the page's language, amounts in yuan with the unit.

The services and the API keep their stable English messages and codes; the pages
check the market's terms themselves (the same rules as ``orders.check_order_terms``)
to word the problem for a person, and word the services' refusals by their code.
"""

from __future__ import annotations

import re
from typing import Any

from flask import Flask
from flask_babel import gettext as _
from markupsafe import Markup

import ledger
from exchange.errors import ExchangeError
from exchange.web.formatting import with_unit, yuan
from exchange.web.names import league_name, market_name


def _units(value: int, unit: str) -> str:
    return with_unit(value, unit)


def order_term_problems(market: Any, quantity: int, price: int) -> dict[str, str]:
    """Lot, tick, floor and ceiling of ``market`` for an order, worded per form field."""
    problems: dict[str, str] = {}
    if quantity <= 0 or quantity % market.lot:
        problems["quantity"] = _(
            "The quantity must be a multiple of the lot, %(lot)s.",
            lot=_units(market.lot, market.unit),
        )
    if price % market.tick:
        problems["limit_price"] = _(
            "The price must be a multiple of %(tick)s yuan.", tick=yuan(market.tick)
        )
    elif price < market.price_floor:
        problems["limit_price"] = _(
            "The price must be at least %(floor)s yuan (the market's floor).",
            floor=yuan(market.price_floor),
        )
    elif market.price_ceiling is not None and price > market.price_ceiling:
        problems["limit_price"] = _(
            "The price must be at most %(ceiling)s yuan (the market's ceiling).",
            ceiling=yuan(market.price_ceiling),
        )
    return problems


SCHEMA_FIELDS = {
    "quantity": lambda: _("Enter a whole number of units within the allowed range."),
    "limit_price": lambda: _("Enter a price in yuan within the allowed range."),
    "client_order_id": lambda: _(
        "Your reference: 1 to 64 letters, digits or _ . : - (starting with a letter or digit)."
    ),
    "market_id": lambda: _("Choose a market."),
    "side": lambda: _("Choose buy or sell."),
    "validity": lambda: _("Choose how long the order is valid."),
}


def schema_problem(field: str) -> str:
    """A refusal of the API schema for ``field`` (the schema's message is English)."""
    worded = SCHEMA_FIELDS.get(field)
    return worded() if worded else _("This value is not valid.")


def refusal(exc: ExchangeError, market: Any = None) -> str:
    """A service's refusal in the page's language, by its stable code."""
    cause = exc.__cause__
    unit = getattr(market, "unit", "")
    if exc.code == "insufficient_funds":
        available = getattr(cause, "available", exc.details.get("available"))
        requested = getattr(cause, "requested", exc.details.get("requested"))
        account = getattr(cause, "account", "") or ""
        cash = exc.field == "limit_price" or account.endswith(ledger.CASH) or not unit
        if available is not None and requested is not None:
            if cash:
                return _(
                    "Not enough cash: the order reserves %(needed)s yuan, %(available)s yuan "
                    "available.",
                    needed=yuan(requested),
                    available=yuan(available),
                )
            return _(
                "Not enough rights: %(needed)s needed, %(available)s available.",
                needed=_units(requested, unit),
                available=_units(available, unit),
            )
        return _("Not enough available cash or rights.")
    if exc.code == "cap_exceeded":
        d = exc.details
        return _(
            "This would exceed the market's cap: cap %(cap)s, already issued %(issued)s.",
            cap=_units(d.get("cap", 0), unit),
            issued=_units(d.get("issued", 0), unit),
        )
    if exc.code == "market_not_open":
        return _("This market takes no orders now.")
    if exc.code == "not_eligible":
        return _("Your league may not trade in this market.")
    if exc.code == "order_not_open":
        return _("This order is no longer open; only open orders can be cancelled.")
    unknown = UNKNOWN.match(exc.message)
    if unknown and exc.field == "league":
        return _("Unknown league %(league)s.", league=unknown.group(1))
    if unknown and exc.field == "market":
        return _("Unknown market %(market)s.", market=unknown.group(1))
    if exc.code == "not_found":
        return _("Not found.")
    if exc.code in CODED_REFUSALS:
        return CODED_REFUSALS[exc.code](exc.details)
    if exc.code == "self_trade":
        other = exc.details.get("conflicting_order_id")
        if other is not None:
            return _(
                "This order would trade with your own open order %(id)s (self-trade); cancel "
                "that order first.",
                id=other,
            )
        return _("This order would trade with another order of your league (self-trade).")
    if exc.field == "reference" and "reserved" in exc.message:
        return reserved_words()
    if exc.field == "reference":
        return _("Reference: 1 to 100 characters, without | or control characters.")
    if exc.field == "limit_price" and "above 0" in exc.message:
        return _("A buy order needs a price above 0 yuan.")
    if exc.field == "quantity" and "more than one order may reserve" in exc.message:
        from exchange.services.orders import MAX_ORDER_VALUE

        return _(
            "This order is too large: price times quantity may be at most %(max)s yuan.",
            max=yuan(MAX_ORDER_VALUE),
        )
    return technical(_("The exchange refused this."), exc.message)


UNKNOWN = re.compile(r"^unknown (?:league|market) '([^']*)'")


def technical(sentence: str, detail: str) -> Markup:
    """``sentence`` in the page's language, then the system's own English wording of the
    problem for a technician, marked as English (``lang="en"``) and kept short."""
    return Markup('{} <small class="detail" lang="en" translate="no">({})</small>').format(
        sentence, detail[:300]
    )


CODED_REFUSALS = {
    "file_too_large": lambda d: _(
        "The file is larger than %(limit)s MB; split it into smaller files.",
        limit=d.get("limit_mb", 4),
    ),
    "not_utf8": lambda d: _(
        'The file is not UTF-8 text: save it as "CSV UTF-8" and upload it again.'
    ),
    "already_imported": lambda d: _(
        "This checked upload was already imported (import %(id)s); nothing was allocated "
        "again. To allocate the rows once more, upload the file again.",
        id=d.get("import_id", "?"),
    ),
    "nothing_to_allocate": lambda d: _("This upload has no row that can be allocated."),
    "upload_gone": lambda d: _("The checked upload is gone; upload the file again."),
    "forbidden": lambda d: _("You may not do this."),
}


def upload_problem(problem: Any) -> str:
    """Why a row of an allocation upload was rejected, in the page's language."""
    if not isinstance(problem, dict):
        return str(problem)  # a preview stored before problems had codes
    code = problem.get("code")
    if code == "unknown_league":
        return _("Unknown league %(league)s.", league=problem.get("league", ""))
    if code == "unknown_market":
        return _("Unknown market %(market)s.", market=problem.get("market", ""))
    if code == "not_eligible":
        return _(
            "%(league)s may not trade in %(market)s.",
            league=league_name(problem.get("league")),
            market=market_name(problem.get("market")),
        )
    if code == "lot":
        return _(
            "The quantity must be a multiple of the lot, %(lot)s.",
            lot=_units(int(problem.get("lot", 1)), str(problem.get("unit", ""))),
        )
    if code == "over_cap":
        return _(
            "Over the cap of %(market)s: %(left)s left.",
            market=market_name(problem.get("market")),
            left=_units(int(problem.get("left", 0)), str(problem.get("unit", ""))),
        )
    if code == "not_integer":
        return _("The quantity is not a positive whole number.")
    if code == "quantity_positive":
        return _("Enter a quantity above zero.")
    if code == "reference":
        return _("Reference: 1 to 100 characters, without | or control characters.")
    if code == "reserved_reference":
        return reserved_words()
    if code == "row":
        return _("Not one row of league,market,quantity[,reference].")
    if code == "csv":
        return technical(
            _("This line cannot be read as CSV; the rest of the file was not read."),
            str(problem.get("text", "")),
        )
    return technical(_("This row cannot be allocated."), str(problem.get("text", "")))


def reserved_words() -> str:
    """The refusal of a reference in a system namespace (``exchange.references``)."""
    return _(
        "References starting with run:, order:, allocation:, deposit:, retirement: or market: "
        "are kept for the exchange's own records; choose another."
    )


def upload_error(error: str) -> str:
    """Why a whole allocation file is unusable, in the page's language."""
    if error.startswith("CSV header needs columns"):
        return _("The first line must name the columns league,market,quantity[,reference].")
    if error == "the file is empty":
        return _("The file is empty.")
    if error.startswith("not a CSV file"):
        return _("This is not a CSV file.")
    return technical(_("This file cannot be used."), error)


def checkpoint_problem(problem: str) -> str:
    """Why an uploaded checkpoint file cannot be used (``checkpointing.uploaded_checkpoint``
    words it in English), in the page's language."""
    if "larger than" in problem:
        return _("The checkpoint file is larger than 2 MiB.")
    return technical(
        _("This is not a checkpoint as GET /api/v1/ledger/checkpoints/latest returns it."),
        problem.removeprefix("not a checkpoint as the API returns it: "),
    )


def init_messages(app: Flask) -> None:
    """``upload_problem`` and ``upload_error`` in every template."""
    app.add_template_global(upload_problem, "upload_problem")
    app.add_template_global(upload_error, "upload_error")
    app.add_template_global(checkpoint_problem, "checkpoint_problem")
