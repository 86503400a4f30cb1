"""The forecast chart of a league's compliance desk: server-side SVG, no script.

Bars: the unverified monthly figures reported so far; two lines across: the
projected obligation for the year (per month) and what the league covers (surrendered
+ held + on order, per month), so a gap between them reads as the projected shortfall.
"""

from __future__ import annotations

from typing import Any

from flask_babel import gettext as _
from markupsafe import Markup, escape

WIDTH, HEIGHT, PAD = 480, 200, 32


def forecast_chart(row: dict[str, Any]) -> Markup:
    months = {m["month"]: m["quantity"] for m in row["months"]}
    need = row["projected"] / 12
    cover = (row["surrendered"] + row["held"] + row["on_order"]) / 12
    top = max([*months.values(), need, cover, 1])
    inner_w, inner_h = WIDTH - 2 * PAD, HEIGHT - 2 * PAD
    step = inner_w / 12

    def y(value: float) -> float:
        return HEIGHT - PAD - inner_h * value / top

    title = escape(_("Monthly figures against the projected obligation"))
    parts = [
        f'<svg class="chart" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" aria-label="{title}">'
        f"<title>{title}</title>",
        f'<line x1="{PAD}" y1="{HEIGHT - PAD}" x2="{WIDTH - PAD}" y2="{HEIGHT - PAD}" '
        'stroke="currentColor"/>',
    ]
    for month in range(1, 13):
        x = PAD + (month - 1) * step
        if month in months:
            top_y = y(months[month])
            parts.append(
                f'<rect x="{x + 3:.1f}" y="{top_y:.1f}" width="{step - 6:.1f}" '
                f'height="{HEIGHT - PAD - top_y:.1f}" fill="#4a7bb7"/>'
            )
        parts.append(
            f'<text x="{x + step / 2:.1f}" y="{HEIGHT - PAD + 14}" font-size="10" '
            f'text-anchor="middle">{month}</text>'
        )
    for value, colour, name in (
        (need, "#c0392b", _("projected obligation per month")),
        (cover, "#27ae60", _("covered per month")),
    ):
        parts.append(
            f'<line x1="{PAD}" y1="{y(value):.1f}" x2="{WIDTH - PAD}" y2="{y(value):.1f}" '
            f'stroke="{colour}" stroke-dasharray="4 3"><title>{escape(name)}</title></line>'
        )
    parts.append("</svg>")
    return Markup("".join(parts))


def risk_chart(rows: list[dict[str, Any]], name_of: Any) -> Markup:
    """Horizontal bars: each league's projected shortfall as a share of its obligation."""
    title = escape(_("Projected shortfall as a share of the obligation, by league"))
    height = 24 * max(1, len(rows)) + 16
    label_w = 120
    parts = [
        f'<svg class="chart" viewBox="0 0 {WIDTH} {height}" role="img" aria-label="{title}">'
        f"<title>{title}</title>"
    ]
    for index, row in enumerate(rows):
        y = 8 + index * 24
        share = min(1.0, float(row["risk"]))
        width = (WIDTH - label_w - 60) * share
        parts.append(
            f'<text x="{label_w - 6}" y="{y + 14}" font-size="11" text-anchor="end">'
            f"{escape(name_of(row['league']))}</text>"
            f'<rect x="{label_w}" y="{y + 3}" width="{width:.1f}" height="14" fill="#c0392b"/>'
            f'<text x="{label_w + width + 4:.1f}" y="{y + 14}" font-size="11">'
            f"{share * 100:.0f} %</text>"
        )
    parts.append("</svg>")
    return Markup("".join(parts))
