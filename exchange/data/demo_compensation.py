"""Demo data of ecological compensation (synthetic, shaped after public agreements).

One agreement between two Yellow River leagues, Bayannur (upstream) and Baotou
(downstream), at their boundary section, monthly assessment, 2024-2025. The terms
follow the Shandong-Henan Yellow River agreement (FACTS.md: class III target,
60 million yuan per class and year, 1 million per index point, capped at 40
million, monthly from its second round, TN added) scaled down tenfold to the
demo's league budgets; the deposit follows Gansu-Ningxia's joint fund idea, also
scaled. Baselines and readings are **synthetic**: no public monthly data of this
section is used.
"""

from __future__ import annotations

from typing import Any

YUAN = 100

AGREEMENT: dict[str, Any] = {
    "upstream": "bayannur",
    "downstream": "baotou",
    "section": "巴彦淖尔—包头交界断面（示例数据）",
    "target_class": 3,
    "amount_per_class": 6_000_000 * YUAN,
    "indicators": {"COD": 15_000, "NH3-N": 450, "TP": 120, "TN": 1_800},
    "amount_per_point": 100_000 * YUAN,
    "index_cap": 4_000_000 * YUAN,
    "assessment": "monthly",
    "first_year": 2024,
    "last_year": 2025,
    "deposit": 5_000_000 * YUAN,
}

# Measured class per month (synthetic): worse in the 2024 flood season, better in 2025.
CLASSES = {
    2024: (3, 3, 2, 2, 3, 4, 4, 3, 3, 2, 2, 3),
    2025: (2, 3, 2, 2, 2, 3, 3, 3, 2, 2, 2, 2),
}
# Seasonal swing of the concentrations, per mille of the baseline (synthetic).
SEASON = (20, 10, -10, -30, -20, 40, 80, 60, 10, -20, -30, 0)


def readings() -> list[dict[str, Any]]:
    """The 24 monthly readings: class, and each indicator's concentration in ug/L."""
    rows = []
    for year, classes in CLASSES.items():
        for month, cls in enumerate(classes, start=1):
            per_mille = 1000 + 90 * (cls - 3) + SEASON[month - 1] - 25 * (year - 2024)
            rows.append(
                {
                    "period": f"{year}-{month:02d}",
                    "class": cls,
                    "indicators": {
                        name: base * per_mille // 1000
                        for name, base in AGREEMENT["indicators"].items()
                    },
                }
            )
    return rows
