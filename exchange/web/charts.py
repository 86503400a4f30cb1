"""Charts as server-side SVG: no JavaScript, no CDN, testable as text.

Every chart is an ``<svg role="img">`` with a ``<title>`` and a ``<desc>`` (also
referenced by ``aria-labelledby``) and an ``aria-label``; pages put the plotted
numbers in a table beside it as well. Colours and fonts come from classes styled
in ``static/app.css`` (the Content-Security-Policy allows no inline styles).
Data are integers (fen, units); only the drawing coordinates are floats.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from html import escape

from babel.numbers import format_compact_decimal
from markupsafe import Markup

from exchange.web.formatting import local_time, page_language, paren, quantity, yuan

WIDTH = 720
HEIGHT = 340
MARGIN_LEFT = 78
MARGIN_RIGHT = 20
MARGIN_TOP = 34
MARGIN_BOTTOM = 44
SERIES_CLASSES = tuple(f"s{i}" for i in range(12))  # 12 leagues: 12 distinct styles (app.css)
_ids = itertools.count(1)


def nice_ticks(low: float, high: float, count: int = 5) -> list[float]:
    """About ``count`` round tick values covering ``[low, high]``."""
    if high < low:
        low, high = high, low
    if high == low:
        high = low + 1
    raw = (high - low) / max(count, 1)
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw)
    start = math.floor(low / step) * step
    ticks = []
    value = start
    while value <= high + step * 1e-9:
        ticks.append(round(value, 10))
        value += step
    if ticks[-1] < high:
        ticks.append(round(value, 10))
    return ticks


_SUFFIXES = ((10**9, "G"), (10**6, "M"), (10**3, "k"))


def _compact(value: float) -> str:
    """Axis label of a quantity, three significant digits: 950 / 1.5k / 139k / 3.5M / 2.1G.

    k = 10^3, M = 10^6, G = 10^9. A value that rounds up to the next unit takes it
    (999,999 reads 1M, never 1e+03k).
    """
    magnitude = abs(value)
    for index, (size, suffix) in enumerate(_SUFFIXES):
        if magnitude >= size:
            scaled = float(f"{value / size:.3g}")
            if abs(scaled) >= 1000 and index > 0:
                bigger, big_suffix = _SUFFIXES[index - 1]
                return f"{value / bigger:.3g}{big_suffix}"
            return f"{scaled:g}{suffix}"
    if magnitude >= 999.5:  # rounds to 1,000 at three digits
        return "1k" if value > 0 else "-1k"
    if value == int(value):
        return f"{value:,.0f}"
    return f"{float(f'{value:.3g}'):g}"


def axis_quantity(value: float, lang: str | None = None) -> str:
    """A quantity on an axis as the page's reader reads it: in Chinese from 1万 on in 万/亿
    (80万, 13.9万, 58.6亿), otherwise k/M/G (``_compact``)."""
    lang = lang or page_language()
    if lang == "zh" and abs(value) >= 10_000:
        return format_compact_decimal(value, locale="zh_CN", fraction_digits=2)
    return _compact(value)


def price_labels(ticks: Sequence[float]) -> list[str]:
    """Labels of a price axis (ticks in fen) in one format: yuan, two decimals unless every
    tick is a whole number of yuan, then none; thousands separated."""
    whole = all(round(t) % 100 == 0 for t in ticks)
    return [f"{t / 100:,.0f}" if whole else f"{t / 100:,.2f}" for t in ticks]


@dataclass(frozen=True)
class Scale:
    """A linear map from data to pixels."""

    d0: float
    d1: float
    p0: float
    p1: float

    def __call__(self, value: float) -> float:
        span = self.d1 - self.d0 or 1
        return round(self.p0 + (value - self.d0) * (self.p1 - self.p0) / span, 2)


def _open(
    title: str, desc: str, label: str, css: str, height: float = HEIGHT
) -> tuple[list[str], str]:
    uid = f"chart{next(_ids)}"
    head = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart {css}" role="img" '
        f'viewBox="0 0 {WIDTH} {height:g}" aria-label="{escape(label)}" '
        f'aria-labelledby="{uid}-t {uid}-d" focusable="false">',
        f'<title id="{uid}-t">{escape(title)}</title>',
        f'<desc id="{uid}-d">{escape(desc)}</desc>',
    ]
    return head, uid


def _empty(title: str, desc: str, message: str) -> Markup:
    parts, _ = _open(title, desc, f"{title}: {message}", "empty")
    parts.append(
        f'<text class="note" x="{WIDTH / 2}" y="{HEIGHT / 2}" text-anchor="middle">'
        f"{escape(message)}</text></svg>"
    )
    return Markup("".join(parts))


def _axes(
    parts: list[str],
    x: Scale,
    y: Scale,
    xticks: Sequence[tuple[float, str]],
    yticks: Sequence[tuple[float, str]],
    xlabel: str,
    ylabel: str,
) -> None:
    left, right = MARGIN_LEFT, WIDTH - MARGIN_RIGHT
    top, bottom = MARGIN_TOP, HEIGHT - MARGIN_BOTTOM
    parts.append('<g class="grid" aria-hidden="true">')
    for value, text in yticks:
        py = y(value)
        parts.append(f'<line x1="{left}" x2="{right}" y1="{py}" y2="{py}"/>')
        parts.append(
            f'<text class="tick" x="{left - 6}" y="{py + 4}" text-anchor="end">'
            f"{escape(text)}</text>"
        )
    last = len(xticks) - 1
    for index, (value, text) in enumerate(xticks):
        px = x(value)
        anchor = "end" if index == last and px > right - 40 else "middle"
        parts.append(
            f'<text class="tick" x="{px}" y="{bottom + 16}" text-anchor="{anchor}">'
            f"{escape(text)}</text>"
        )
    parts.append(f'<line class="axis" x1="{left}" x2="{right}" y1="{bottom}" y2="{bottom}"/>')
    parts.append(f'<line class="axis" x1="{left}" x2="{left}" y1="{top}" y2="{bottom}"/>')
    parts.append(
        f'<text class="label" x="{(left + right) / 2}" y="{HEIGHT - 6}" text-anchor="middle">'
        f"{escape(xlabel)}</text>"
    )
    parts.append(f'<text class="label" x="{left}" y="{top - 12}">{escape(ylabel)}</text>')
    parts.append("</g>")


LEGEND_ROW = 16


def _text_width(text: str) -> float:
    return sum(13 if ord(c) > 0x2E80 else 7.5 for c in text)


def _legend_rows(items: Sequence[tuple[str, str]]) -> list[list[tuple[str, str, float]]]:
    """Legend items in rows that fit the plot's width, in reading order."""
    room = WIDTH - MARGIN_LEFT - MARGIN_RIGHT
    rows: list[list[tuple[str, str, float]]] = [[]]
    used = 0.0
    for css, text in items:
        width = 14 + _text_width(text) + 14
        if rows[-1] and used + width > room:
            rows.append([])
            used = 0.0
        rows[-1].append((css, text, width))
        used += width
    return rows


def _legend_extra(items: Sequence[tuple[str, str]]) -> float:
    """Height the legend needs above the plot beyond its first row."""
    return (len(_legend_rows(items)) - 1) * LEGEND_ROW


def _legend(parts: list[str], items: Sequence[tuple[str, str]]) -> None:
    """Every item, right-aligned rows above the plot (the plot is shifted down by
    ``_legend_extra`` when there is more than one row)."""
    parts.append('<g class="legend" aria-hidden="true">')
    for row_index, row in enumerate(_legend_rows(items)):
        top = MARGIN_TOP - 24 + row_index * LEGEND_ROW
        x: float = WIDTH - MARGIN_RIGHT - sum(width for _, _, width in row)
        for css, text, width in row:
            parts.append(f'<rect class="{css}" x="{x:g}" y="{top}" width="10" height="10"/>')
            parts.append(f'<text x="{x + 14:g}" y="{top + 9}">{escape(text)}</text>')
            x += width
    parts.append("</g>")


def curves_chart(
    prices: Sequence[int],
    demand: Sequence[int],
    supply: Sequence[int],
    *,
    price: int | None,
    volume: int,
    unit: str,
    labels: dict[str, str],
) -> Markup:
    """Aggregated demand and supply as step curves (quantity across, price up).

    ``labels``: ``title``, ``desc``, ``demand``, ``supply``, ``clearing_point``,
    ``quantity``, ``price``, ``empty``.
    """
    title = labels["title"]
    point = (
        f"{labels['clearing_point']}: {yuan(price)} / {quantity(volume)} {unit}"
        if price is not None
        else labels.get("no_point", "")
    )
    desc = f"{labels['desc']} {point}".strip()
    if not prices:
        return _empty(title, desc, labels["empty"])
    top_q = max(max(demand, default=0), max(supply, default=0), volume, 1)
    low_p, high_p = min(prices), max(prices)
    pad = max((high_p - low_p) * 0.05, 1)
    yt = nice_ticks(max(low_p - pad, 0), high_p + pad)
    xt = nice_ticks(0, top_q)
    x = Scale(0, xt[-1], MARGIN_LEFT, WIDTH - MARGIN_RIGHT)
    y = Scale(yt[0], yt[-1], HEIGHT - MARGIN_BOTTOM, MARGIN_TOP)
    parts, _uid = _open(title, desc, f"{title}. {point}", "curves")
    _axes(
        parts,
        x,
        y,
        [(v, axis_quantity(v)) for v in xt],
        list(zip(yt, price_labels(yt), strict=True)),
        paren(labels["quantity"], unit),
        labels["price"],
    )
    # Demand: D(p) for p in (p_i, p_i+1] is D_i+1; supply: S(p) for p in [p_i, p_i+1) is S_i.
    d_path = [f"M{x(demand[0])},{y(prices[0])}"]
    s_path = [f"M{x(supply[0])},{y(prices[0])}"]
    for i in range(1, len(prices)):
        d_path.append(f"H{x(demand[i])}V{y(prices[i])}")
        s_path.append(f"V{y(prices[i])}H{x(supply[i])}")
    parts.append(f'<path class="line demand" d="{"".join(d_path)}"/>')
    parts.append(f'<path class="line supply" d="{"".join(s_path)}"/>')
    if price is not None:
        px, py = x(volume), y(price)
        parts.append(
            f'<g class="point"><line x1="{MARGIN_LEFT}" x2="{px}" y1="{py}" y2="{py}"/>'
            f'<line x1="{px}" x2="{px}" y1="{py}" y2="{HEIGHT - MARGIN_BOTTOM}"/>'
            f'<circle cx="{px}" cy="{py}" r="5"/>'
            f'<text x="{min(px + 8, WIDTH - 150)}" y="{py - 8}">'
            f"{escape(yuan(price))} × {escape(quantity(volume))}</text></g>"
        )
    _legend(parts, [("demand", labels["demand"]), ("supply", labels["supply"])])
    parts.append("</svg>")
    return Markup("".join(parts))


@dataclass(frozen=True)
class HistoryPoint:
    """One completed run: when, the price per series (fen, None: no trade), volume."""

    at: datetime
    prices: dict[str, int | None]
    volume: int


def history_chart(
    points: Sequence[HistoryPoint], *, series: Sequence[str], unit: str, labels: dict[str, str]
) -> Markup:
    """Clearing price per series (lines, top 70 %) and volume (bars, bottom) over time.

    ``labels``: ``title``, ``desc``, ``price``, ``volume``, ``empty``, and the name of
    each series.
    """
    title = labels["title"]
    last = next(
        (p for p in reversed(points) if any(v is not None for v in p.prices.values())), None
    )
    summary = ""
    if last is not None:
        shown = ", ".join(
            f"{labels.get(name, name)} {yuan(v)}"
            for name, v in last.prices.items()
            if v is not None
        )
        summary = f"{labels['last']}: {paren(shown, local_time(last.at))}"
    desc = f"{labels['desc']} {summary}".strip()
    if not points:
        return _empty(title, desc, labels["empty"])
    times = [p.at.timestamp() for p in points]
    t0, t1 = min(times), max(times)
    if t0 == t1:
        t0, t1 = t0 - 3600, t1 + 3600
    all_prices = [v for p in points for v in p.prices.values() if v is not None]
    low, high = (min(all_prices), max(all_prices)) if all_prices else (0, 100)
    pad = max((high - low) * 0.1, 100)
    yt = nice_ticks(max(low - pad, 0), high + pad, 4)
    split = MARGIN_TOP + (HEIGHT - MARGIN_TOP - MARGIN_BOTTOM) * 0.68
    x = Scale(t0, t1, MARGIN_LEFT + 8, WIDTH - MARGIN_RIGHT - 8)
    y = Scale(yt[0], yt[-1], split, MARGIN_TOP)
    top_volume = max(max(p.volume for p in points), 1)
    vy = Scale(0, top_volume, HEIGHT - MARGIN_BOTTOM, split + 14)
    step = (t1 - t0) / 4
    xticks = [(t0 + step * i, "") for i in range(5)]
    xticks = [
        (v, local_time(datetime.fromtimestamp(v, tz=points[0].at.tzinfo))[5:]) for v, _ in xticks
    ]
    legend = [
        (SERIES_CLASSES[index % len(SERIES_CLASSES)], labels.get(name, name))
        for index, name in enumerate(series)
    ]
    legend.append(("bar", paren(labels["volume"], unit)))
    extra = _legend_extra(legend)
    parts, _uid = _open(title, desc, f"{title}. {summary}", "history", HEIGHT + extra)
    _legend(parts, legend)
    parts.append(f'<g transform="translate(0 {extra:g})">')
    price_ticks = list(zip(yt, price_labels(yt), strict=True))
    _axes(parts, x, y, xticks, price_ticks, labels["time"], labels["price"])
    bar = max(min((WIDTH - MARGIN_LEFT - MARGIN_RIGHT) / max(len(points), 1) * 0.6, 14), 1.5)
    parts.append('<g class="bars">')
    for p, t in zip(points, times, strict=True):
        if p.volume:
            top = vy(p.volume)
            parts.append(
                f'<rect x="{x(t) - bar / 2:.2f}" y="{top}" width="{bar:.2f}" '
                f'height="{round(HEIGHT - MARGIN_BOTTOM - top, 2)}"/>'
            )
    parts.append("</g>")
    parts.append(
        f'<text class="tick" x="{MARGIN_LEFT - 6}" y="{split + 24}" text-anchor="end">'
        f"{escape(axis_quantity(top_volume))}</text>"
    )
    for (css, _label), name in zip(legend, series, strict=False):
        coords = [
            (x(t), y(v))
            for p, t in zip(points, times, strict=True)
            if (v := p.prices.get(name)) is not None
        ]
        if coords:
            d = "M" + "L".join(f"{cx},{cy}" for cx, cy in coords)
            parts.append(f'<path class="line {css}" d="{d}"/>')
            cx, cy = coords[-1]
            parts.append(f'<circle class="last {css}" cx="{cx}" cy="{cy}" r="4"/>')
    parts.append("</g>")
    parts.append("</svg>")
    return Markup("".join(parts))
