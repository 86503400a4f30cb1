"""Demo compliance cycles (synthetic figures, rules after China's 2021 carbon measures).

A closed 2025 carbon period (four obligated leagues; Wuhai short by 50,000 tCO2e,
fined and to lose the shortfall from its next allocation) on its own vintage
market, and the open 2026 period of ``CEA-2026`` with monthly figures so far.
"""

from __future__ import annotations

from datetime import date

MARKET_2025 = {
    "code": "CEA-2025",
    "name_zh": "碳排放配额 2025年度",
    "name_en": "Carbon emission allowances, vintage 2025",
    "right_type": "carbon",
    "pollutant": None,
    "basin": None,
    "vintage": "2025",
    "unit": "tCO2e",
    "lot": 100,
    "tick": 1,
    "price_floor": 2_000,
    "price_ceiling": 30_000,
    "cap": 200_000_000,  # synthetic
    "clearing_schedule": "0 10 * * 1",
    "description": "Allowances of the closed 2025 compliance period (demo).",
    "description_zh": "已结束的2025年度履约期配额（演示）。",
    "eligible_leagues": [{"league": code} for code in ("baotou", "hohhot", "ordos", "wuhai")],
}

PERIOD_2025 = {
    "market_family": "carbon",
    "year": 2025,
    "reporting_deadline": date(2026, 3, 31),
    "verification_deadline": date(2026, 6, 30),
    "surrender_deadline": date(2026, 9, 30),
    "offset_percent": 5,
    "penalty_fixed": 3_000_000,  # 30,000 yuan
    "penalty_price_multiple": 1,
    "deduct_shortfall": True,
}
ALLOCATED_2025 = 40_000_000  # tCO2e to each obligated league
# league: (verified, surrendered)
FIGURES_2025 = {
    "ordos": (38_000_000, 38_000_000),
    "baotou": (40_000_000, 40_000_000),
    "hohhot": (30_000_000, 30_000_000),
    "wuhai": (40_000_000, 39_950_000),
}
ENTERED_2025 = date(2026, 5, 6)
SURRENDERED_2025 = date(2026, 9, 1)

PERIOD_2026 = {
    "market_family": "carbon",
    "year": 2026,
    "reporting_deadline": date(2027, 3, 31),
    "verification_deadline": date(2027, 6, 30),
    "surrender_deadline": date(2027, 9, 30),
    "offset_percent": 5,
    "penalty_fixed": 3_000_000,
    "penalty_price_multiple": 1,
    "deduct_shortfall": True,
}
MONTHS_2026 = 10  # January to October reported
# per league, per cent of its 2026 allocation that its monthly figures run at (synthetic)
PACE_2026 = {
    "alxa": 92, "baotou": 108, "bayannur": 85, "chifeng": 97, "hinggan": 80, "hohhot": 95,
    "hulunbuir": 90, "ordos": 112, "tongliao": 99, "ulanqab": 103, "wuhai": 118, "xilingol": 88,
}  # fmt: skip

# Paid use of discharge rights: (league, market, tonnes); issued on PAID_ISSUED
PAID_ISSUES = (
    ("ordos", "COD-2027", 500),  # 2.5 million yuan: paid at once
    ("baotou", "NH3N-2027", 2_500),  # 37.5 million yuan: instalments, 40 % first
)
PAID_ISSUED = date(2026, 3, 2)
