"""Pure parts of the pages: money formatting, parsing, charts, translations."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from exchange.web import charts
from exchange.web.formatting import parse_quantity, parse_yuan, quantity, yuan

TEMPLATES = Path(__file__).resolve().parents[2] / "templates"


@pytest.mark.parametrize(
    ("fen", "text"),
    [(0, "0.00"), (5, "0.05"), (123456, "1,234.56"), (-150, "-1.50"), (None, "—"),
     (2**63 - 1, "92,233,720,368,547,758.07")],
)  # fmt: skip
def test_yuan_shows_fen_exactly(fen: int | None, text: str) -> None:
    assert yuan(fen) == text


def test_quantity_has_separators() -> None:
    assert quantity(5_860_000_000) == "5,860,000,000"


@pytest.mark.parametrize(
    ("text", "fen"), [("12.5", 1250), ("1,234.56", 123456), ("7", 700), (" 0.01 ", 1)]
)
def test_parse_yuan_is_exact(text: str, fen: int) -> None:
    assert parse_yuan(text) == fen


@pytest.mark.parametrize("text", ["", "1.234", "-1", "abc", "1e3", "NaN", "１２", "1.2.3"])
def test_parse_yuan_refuses_what_is_not_fen(text: str) -> None:
    with pytest.raises(ValueError):
        parse_yuan(text)


def test_parse_quantity() -> None:
    assert parse_quantity("1,000") == 1000
    for bad in ("", "1.5", "-3", "١٢", "x"):
        with pytest.raises(ValueError):
            parse_quantity(bad)


def test_curves_chart_is_accessible_svg_with_the_clearing_point() -> None:
    svg = charts.curves_chart(
        [100, 200, 300],
        [30, 20, 10],
        [0, 15, 40],
        price=200,
        volume=15,
        unit="t",
        labels={
            "title": "COD: supply and demand",
            "desc": "Curves.",
            "demand": "Demand",
            "supply": "Supply",
            "clearing_point": "Clearing point",
            "quantity": "Quantity",
            "price": "Price",
            "empty": "none",
        },
    )
    assert svg.startswith("<svg") and 'role="img"' in svg
    assert "<title" in svg and "<desc" in svg
    assert 'aria-label="COD: supply and demand. Clearing point: 2.00 / 15 t"' in svg
    assert svg.count('class="line demand"') == 1 and svg.count('class="line supply"') == 1
    assert "<circle" in svg
    assert "style=" not in svg  # the CSP allows no inline styles


def test_history_chart_names_the_last_price_and_escapes_text() -> None:
    start = datetime(2027, 3, 1, 2, tzinfo=UTC)
    points = [
        charts.HistoryPoint(start + timedelta(days=i), {"A": p}, v)
        for i, (p, v) in enumerate([(1000, 5), (None, 0), (1250, 9)])
    ]
    svg = charts.history_chart(
        points,
        series=["A"],
        unit="t",
        labels={
            "title": "<A> & history",
            "desc": "d",
            "price": "Price",
            "volume": "Volume",
            "time": "Time",
            "empty": "none",
            "last": "Last price",
        },
    )
    assert "&lt;A&gt; &amp; history" in svg
    assert "Last price: A 12.50" in svg
    assert svg.count("<rect") >= 2


def test_empty_charts_say_so() -> None:
    labels = {"title": "T", "desc": "D", "empty": "No run yet.", "last": "L"}
    assert "No run yet." in charts.history_chart([], series=["A"], unit="t", labels=labels)


def test_nice_ticks_cover_the_range() -> None:
    ticks = charts.nice_ticks(37, 912)
    assert ticks[0] <= 37 and ticks[-1] >= 912 and 3 <= len(ticks) <= 8
