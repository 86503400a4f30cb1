"""Demo order flow parameters: plausible prices (fen per unit) and order sizes per market.

Anchors (see docs/data-sources.md): Yellow River transfers about 1.03 yuan/m3/yr
(Hetao pilot); pollutant auctions start from the paid-use fees (COD 1,000, NH3-N
3,000, SO2/NOx 500 yuan/t) and cleared around 1,000 yuan/t for SO2 and NOx in
2015 (95.2 million yuan for about 94,600 t); carbon closed 2024 at 97.49 yuan;
energy-use rights' base price 150 yuan/tce. Sizes are synthetic.
"""

from __future__ import annotations

# market code -> (reference price in fen, relative spread of limits, (min, max) lots)
ORDER_FLOW: dict[str, tuple[int, float, tuple[int, int]]] = {
    "YR-WATER-2027": (103, 0.25, (100, 2_000)),  # lots of 1,000 m3
    "WLR-WATER-2027": (95, 0.25, (100, 1_500)),
    "COD-2027": (150_000, 0.15, (5, 60)),  # lots of 1 t
    "NH3N-2027": (400_000, 0.15, (1, 10)),
    "SO2-2027": (100_000, 0.15, (10, 200)),
    "NOX-2027": (105_000, 0.15, (10, 200)),
    "CEA-2026": (9_749, 0.08, (10, 500)),  # lots of 100 tCO2e
    "ENERGY-2027": (15_000, 0.15, (10, 400)),  # lots of 10 tce
}

HISTORY_DAYS = 21
ORDERS_PER_RUN = (6, 14)
