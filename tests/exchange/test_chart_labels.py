"""Chart labels against the data they label (issue 17: "k" once divided by 10,000)."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

from hypothesis import given
from hypothesis import strategies as st

from exchange.web import charts
from exchange.web.formatting import run_price

_SCALE = {"": 1, "k": 10**3, "M": 10**6, "G": 10**9}
HISTORY_LABELS = {
    "title": "T",
    "desc": "D",
    "price": "Price",
    "volume": "Volume",
    "time": "Time",
    "empty": "none",
    "last": "Last",
}


def _read(label: str) -> float:
    match = re.fullmatch(r"(-?[\d,]+(?:\.\d+)?)([kMG]?)", label)
    assert match, label
    return float(match.group(1).replace(",", "")) * _SCALE[match.group(2)]


@given(st.integers(min_value=-(10**13), max_value=10**13))
def test_a_compact_quantity_reads_back_as_its_value(value: int) -> None:
    label = charts._compact(value)
    assert abs(_read(label) - value) <= abs(value) * 0.005 + 0.5, label


def test_compact_labels_of_the_report() -> None:
    assert charts._compact(139_000) == "139k"
    assert charts._compact(80_000) == "80k"
    assert charts._compact(1_000_000) == "1M"
    assert charts._compact(999_999) == "1M"
    assert charts._compact(1_500) == "1.5k"
    assert charts._compact(950) == "950"


@given(st.lists(st.integers(min_value=0, max_value=10**9), min_size=2, max_size=8, unique=True))
def test_a_price_axis_has_one_format(fen_ticks: list[int]) -> None:
    ticks = sorted(fen_ticks)
    labels = charts.price_labels(ticks)
    decimals = {len(label.partition(".")[2]) for label in labels}
    assert len(decimals) == 1, labels
    for tick, label in zip(ticks, labels, strict=True):
        assert abs(float(label.replace(",", "")) * 100 - tick) < (100 if decimals == {0} else 1)


def test_quantity_axis_of_the_curves_matches_the_data() -> None:
    svg = charts.curves_chart(
        [100, 200],
        [139_000, 0],
        [0, 139_000],
        price=150,
        volume=80_000,
        unit="m3",
        labels={
            "title": "T", "desc": "D", "demand": "Demand", "supply": "Supply",
            "clearing_point": "Point", "quantity": "Quantity", "price": "Price", "empty": "none",
        },
    )  # fmt: skip
    ticks = re.findall(r'<text class="tick"[^>]*>([^<]+)</text>', str(svg))
    quantities = [_read(t) for t in ticks if t.endswith("k")]
    assert max(quantities) >= 139_000  # the axis reaches the biggest bar, in real units


def test_every_zone_is_in_the_legend_with_its_own_style() -> None:
    zones = [f"zone-{i:02d}" for i in range(12)]
    start = datetime(2027, 3, 1, 2, tzinfo=UTC)
    points = [
        charts.HistoryPoint(start + timedelta(days=d), {z: 100 + i for i, z in enumerate(zones)}, 5)
        for d in range(3)
    ]
    svg = str(charts.history_chart(points, series=zones, unit="m3", labels=HISTORY_LABELS))
    legend = svg[svg.index('<g class="legend"') :]
    legend = legend[: legend.index("</g>")]
    for zone in zones:
        assert f">{zone}</text>" in legend
    styles = re.findall(r'<path class="line (s\d+)"', svg)
    assert len(styles) == 12 and len(set(styles)) == 12
    height = float(re.search(r'viewBox="0 0 \d+ ([\d.]+)"', svg).group(1))  # type: ignore[union-attr]
    assert height > charts.HEIGHT  # the plot moved down to make room for the legend's rows


def test_a_zonal_run_shows_its_price_range() -> None:
    zonal = SimpleNamespace(price=None, zone_prices={"a": 120, "b": 145, "c": None})
    assert run_price(zonal) == "1.20–1.45"
    assert run_price(SimpleNamespace(price=None, zone_prices={"a": 90, "b": 90})) == "0.90"
    assert run_price(SimpleNamespace(price=None, zone_prices={"a": None})) is None
    assert run_price(SimpleNamespace(price=1234, zone_prices=None)) == "12.34"


YI = {"万": 10**4, "亿": 10**8, "万亿": 10**12}


@given(st.integers(min_value=10_000, max_value=10**12))
def test_chinese_axis_labels_in_wan_and_yi_read_back_as_the_value(value: int) -> None:
    label = charts.axis_quantity(value, "zh")
    match = re.fullmatch(r"([\d.]+)(万亿|万|亿)", label)
    assert match, label
    read = float(match.group(1)) * YI[match.group(2)]
    assert abs(read - value) <= 0.005 * value + YI[match.group(2)] * 0.005, (value, label)


def test_chinese_axis_labels_examples() -> None:
    assert charts.axis_quantity(80_000, "zh") == "8万"
    assert charts.axis_quantity(139_000, "zh") == "13.9万"
    assert charts.axis_quantity(5_860_000_000, "zh") == "58.6亿"
    assert charts.axis_quantity(9_500, "zh") == charts._compact(9_500)
    assert charts.axis_quantity(139_000, "en") == "139k"
