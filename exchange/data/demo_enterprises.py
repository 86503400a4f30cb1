"""Synthetic enterprises of the demo (issue 20): every name, code and figure is invented.

Each is marked ``synthetic`` in the registry. Their unified social credit codes are well
formed (check character per GB 32100-2015) but belong to nobody. ``holdings``: what the
league passes down to the enterprise from its own demo allocation (market code: units),
``cash``: fen deposited. Representatives: an initiator and an approver each (four eyes),
and a compliance officer with ``surrender_only`` for the key emitters.
"""

from __future__ import annotations

from typing import Any

ENTERPRISES: list[dict[str, Any]] = [
    {
        "code": "ordos-coal-power",
        "league": "ordos",
        "name_zh": "鄂尔多斯示例燃煤电厂（虚构）",
        "name_en": "Ordos example coal power plant (synthetic)",
        "sector": "power",
        "credit_code": "91150600MA0NE00019",
        # a key emitter (26,000 tCO2e a year and more, FACTS.md): carbon allowances
        "holdings": {"CEA-2026": 50_000, "SO2-2027": 200, "NOX-2027": 200},
        "cash": 500_000_000,
        "surrender_officer": True,
    },
    {
        "code": "ordos-coal-chemical",
        "league": "ordos",
        "name_zh": "鄂尔多斯示例煤化工厂（虚构）",
        "name_en": "Ordos example coal-chemical plant (synthetic)",
        "sector": "coal_chemical",
        "credit_code": "91150600MA0NE0002C",
        "holdings": {"CEA-2026": 30_000, "COD-2027": 50},
        "cash": 500_000_000,
        "surrender_officer": True,
    },
    {
        "code": "bayannur-hetao-irrigation",
        "league": "bayannur",
        "name_zh": "巴彦淖尔示例灌区管理局（虚构）",
        "name_en": "Bayannur example irrigation district (synthetic)",
        "sector": "irrigation",
        "credit_code": "12150800MB0NE0001T",
        # water saved by lining canals, to sell to industry (the Yellow River quota)
        "holdings": {"YR-WATER-2027": 10_000_000},
        "cash": 100_000_000,
        "surrender_officer": False,
    },
    {
        "code": "baotou-nonferrous-smelter",
        "league": "baotou",
        "name_zh": "包头示例有色金属冶炼厂（虚构）",
        "name_en": "Baotou example nonferrous smelter (synthetic)",
        "sector": "nonferrous",
        "credit_code": "91150200MA0NE0001L",
        "holdings": {"SO2-2027": 300, "NOX-2027": 100},
        "cash": 500_000_000,
        "surrender_officer": True,
    },
    {
        "code": "ulanqab-data-centre",
        "league": "ulanqab",
        "name_zh": "乌兰察布示例数据中心（虚构）",
        "name_en": "Ulanqab example data centre (synthetic)",
        "sector": "data_centre",
        # a new project buying energy-use rights: cash only
        "credit_code": "91150900MA0NE0001Q",
        "holdings": {},
        "cash": 800_000_000,
        "surrender_officer": False,
    },
]


def representatives(enterprise: dict[str, Any]) -> list[tuple[str, str]]:
    """(username, rights) of an enterprise's demo representatives."""
    code = enterprise["code"]
    reps = [(f"{code}-initiator", "initiate"), (f"{code}-approver", "approve")]
    if enterprise["surrender_officer"]:
        reps.append((f"{code}-compliance", "surrender_only"))
    return reps
