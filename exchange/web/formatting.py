"""Display of integers: fen as yuan with two decimals, quantities with separators, times.

Data stay integers everywhere; only these filters turn them into text, through Babel's
locale formatting in the page's language. In Chinese a large quantity read as a figure
(not in a table) is written in 万/亿 (``58.6亿立方米``) with the exact value on hover.
Parsing of yuan typed into a form goes the other way, exactly (``Decimal``, no float).
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from babel.dates import format_datetime
from babel.numbers import format_compact_decimal, format_decimal
from flask import Flask, has_request_context
from flask_babel import gettext as _
from markupsafe import Markup, escape

from exchange.schedule import EXCHANGE_TZ

MAX_YUAN_DIGITS = 16
COMPACT_FROM = 100_000  # 10万: from here on a Chinese reader expects 万/亿


def page_language() -> str:
    """The page's language, ``en`` or ``zh`` (``en`` outside a request)."""
    return _locale()


def _locale() -> str:
    """The page's locale (``en`` outside a request)."""
    if has_request_context():
        from exchange.web.i18n import language

        return language()
    return "en"


def yuan(fen: int | None) -> str:
    """``123456`` -> ``"1,234.56"``; ``None`` -> ``"—"``. Exact for any integer."""
    if fen is None:
        return "—"
    amount = Decimal(int(fen)).scaleb(-2)
    return format_decimal(amount, format="#,##0.00", locale=_locale(), decimal_quantization=True)


def run_price(run: Any) -> str | None:
    """The price of a clearing run as people read it: the uniform price, or for a zonal run
    the range over its zones (``"1.20–1.45"``, one figure when all zones agree); ``None``
    when nothing traded."""
    if run is None:
        return None
    if run.price is not None:
        return yuan(run.price)
    zone_prices = [p for p in (run.zone_prices or {}).values() if p is not None]
    if not zone_prices:
        return None
    low, high = min(zone_prices), max(zone_prices)
    return yuan(low) if low == high else f"{yuan(low)}–{yuan(high)}"


def quantity(value: int | None) -> str:
    """``1234567`` -> ``"1,234,567"``; ``None`` -> ``"—"``."""
    if value is None:
        return "—"
    return format_decimal(int(value), locale=_locale())


def with_unit(value: int, unit: str) -> str:
    """An exact quantity with its unit word: ``1,000 m³`` / ``1,000立方米``."""
    from exchange.web.labels import label

    word = label("unit", unit) if unit else ""
    text = quantity(value)
    return f"{text}{word}" if _locale() == "zh" else f"{text} {word}".rstrip()


def compact(value: int, lang: str) -> str:
    """A large quantity as read aloud: ``5860000000`` -> ``"58.6亿"`` in Chinese; in English
    (and below 10万) the exact figure with separators."""
    if lang == "zh" and abs(value) >= COMPACT_FROM:
        return format_compact_decimal(value, locale="zh_CN", fraction_digits=2)
    return format_decimal(value, locale=lang)


def human_quantity(value: int | None, unit: str = "") -> Markup:
    """A quantity with its unit for reading (``58.6亿立方米``), the exact figure in ``title``."""
    if value is None:
        return Markup("—")
    from exchange.web.labels import label

    lang = _locale()
    word = label("unit", unit) if unit else ""
    text = compact(int(value), lang)
    shown = f"{text}{word}" if lang == "zh" else f"{text} {word}".rstrip()
    exact = f"{format_decimal(int(value), locale=lang)} {word}".rstrip()
    if shown == exact:
        return Markup("<span>{}</span>").format(shown)
    return Markup('<span title="{}">{}</span>').format(exact, escape(shown))


def paren(text: str, inner: object) -> str:
    """``text (inner)``; in Chinese with full-width brackets: ``成交量（立方米）``."""
    return f"{text}（{inner}）" if _locale() == "zh" else f"{text} ({inner})"


def local_time(value: datetime | str | None, seconds: bool = False) -> str:
    """A timestamp in Beijing time, e.g. ``2027-03-01 10:05`` (the exchange's zone); an ISO
    text (as stored in a job's result) is read first, and shown as it is if it is not one."""
    if value is None:
        return "—"
    if isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value)
        except ValueError:
            return value
        value = parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    pattern = "yyyy-MM-dd HH:mm:ss" if seconds else "yyyy-MM-dd HH:mm"
    return format_datetime(value, pattern, tzinfo=EXCHANGE_TZ, locale=_locale())


def parse_yuan(text: str) -> int:
    """``"1,234.5"`` -> ``123450`` fen, exactly; ``ValueError`` with a reason otherwise."""
    cleaned = text.strip().replace(",", "").replace("，", "")
    if not cleaned:
        raise ValueError(_("Enter an amount in yuan, e.g. 12.50."))
    if not cleaned.isascii() or not all(c.isdigit() or c == "." for c in cleaned):
        raise ValueError(_("Enter an amount with digits and a decimal point, e.g. 12.50."))
    try:
        amount = Decimal(cleaned)
    except InvalidOperation:
        raise ValueError(_("Enter an amount in yuan, e.g. 12.50.")) from None
    if not amount.is_finite() or amount < 0:
        raise ValueError(_("Enter an amount of zero or more yuan."))
    fen = amount * 100
    if fen != fen.to_integral_value():
        raise ValueError(_("At most two decimals (fen)."))
    if len(str(int(fen))) > MAX_YUAN_DIGITS:
        raise ValueError(_("This amount is too large."))
    return int(fen)


def parse_quantity(text: str) -> int:
    """A whole number of units typed in a form (ASCII digits, separators allowed)."""
    cleaned = text.strip().replace(",", "").replace("_", "")
    if not cleaned or not cleaned.isascii() or not cleaned.isdigit():
        raise ValueError(_("Enter a whole number of units, e.g. 1000."))
    if len(cleaned) > MAX_YUAN_DIGITS:
        raise ValueError(_("This quantity is too large."))
    return int(cleaned)


def init_formatting(app: Flask) -> None:
    """Register the filters ``yuan``, ``qty``, ``hqty`` (quantity for reading, with its unit),
    ``bjt`` (Beijing time) and ``run_price``."""
    app.add_template_filter(yuan, "yuan")
    app.add_template_filter(quantity, "qty")
    app.add_template_filter(human_quantity, "hqty")
    from exchange.web.cron import cron_words

    app.add_template_filter(cron_words, "cron_words")
    app.add_template_filter(local_time, "bjt")
    app.add_template_filter(run_price, "run_price")
