"""Charts of the compensation report, drawn with the SVG helpers of ``charts``.

The class over time (I at the top: cleaner water is up; the target as a dashed
line) and the cumulative net payment (yuan; above zero: downstream has paid
upstream). Periods are evenly spaced categories; the numbers are in the table too.
"""

from __future__ import annotations

from collections.abc import Sequence

from markupsafe import Markup

from exchange.web.charts import (
    HEIGHT,
    MARGIN_BOTTOM,
    MARGIN_LEFT,
    MARGIN_RIGHT,
    MARGIN_TOP,
    WIDTH,
    Scale,
    _axes,
    _empty,
    _legend,
    _open,
    axis_quantity,
    nice_ticks,
)

ROMAN = ("I", "II", "III", "IV", "V", ">V")


def _xticks(periods: Sequence[str], x: Scale) -> list[tuple[float, str]]:
    step = max(1, -(-len(periods) // 8))  # at most about 8 labels
    return [(float(i), periods[i]) for i in range(0, len(periods), step)]


def _path(points: Sequence[tuple[float, float]], css: str) -> str:
    if not points:
        return ""
    d = "M" + "L".join(f"{px},{py}" for px, py in points)
    return f'<path class="line {css}" d="{d}"/>' + "".join(
        f'<circle class="{css}" cx="{px}" cy="{py}" r="3"/>' for px, py in points
    )


def class_chart(
    periods: Sequence[str], classes: Sequence[int | None], target: int, labels: dict[str, str]
) -> Markup:
    """Measured class per period against the target. ``labels``: title, desc, empty,
    period, class, measured, target."""
    if not any(c is not None for c in classes):
        return _empty(labels["title"], labels["desc"], labels["empty"])
    parts, _uid = _open(labels["title"], labels["desc"], labels["title"], "history")
    _legend(parts, [("s1", labels["measured"]), ("s9", labels["target"])])
    x = Scale(0, max(len(periods) - 1, 1), MARGIN_LEFT + 12, WIDTH - MARGIN_RIGHT - 12)
    y = Scale(0.5, 6.5, MARGIN_TOP, HEIGHT - MARGIN_BOTTOM)  # class I at the top
    yticks = [(float(c), ROMAN[c - 1]) for c in range(1, 7)]
    _axes(parts, x, y, _xticks(periods, x), yticks, labels["period"], labels["class"])
    points = [(x(i), y(c)) for i, c in enumerate(classes) if c is not None]
    parts.append(
        f'<path class="line s9" d="M{x(0)},{y(target)}L{x(max(len(periods) - 1, 1))},{y(target)}"/>'
    )
    parts.append(_path(points, "s1"))
    parts.append("</svg>")
    return Markup("".join(parts))


def cumulative_chart(
    periods: Sequence[str], cumulative: Sequence[int], labels: dict[str, str]
) -> Markup:
    """Cumulative net payment per period (fen on the data, yuan on the axis). ``labels``:
    title, desc, empty, period, amount, line."""
    if not periods:
        return _empty(labels["title"], labels["desc"], labels["empty"])
    parts, _uid = _open(labels["title"], labels["desc"], labels["title"], "history")
    _legend(parts, [("s0", labels["line"])])
    low, high = min(0, *cumulative), max(0, *cumulative)
    ticks = nice_ticks(low, high if high > low else low + 100, 4)
    x = Scale(0, max(len(periods) - 1, 1), MARGIN_LEFT + 12, WIDTH - MARGIN_RIGHT - 12)
    y = Scale(ticks[0], ticks[-1], HEIGHT - MARGIN_BOTTOM, MARGIN_TOP)
    yticks = [(t, axis_quantity(t / 100)) for t in ticks]
    _axes(parts, x, y, _xticks(periods, x), yticks, labels["period"], labels["amount"])
    parts.append(_path([(x(i), y(v)) for i, v in enumerate(cumulative)], "s0"))
    parts.append("</svg>")
    return Markup("".join(parts))
