"""The 12 league-level divisions of Inner Mongolia (DESIGN.md), stated once for the tests.

Written out here, not read from ``exchange.data``: the tests check the app against it.
"""

from __future__ import annotations

LEAGUE_CODES = (
    "hohhot",
    "baotou",
    "ordos",
    "ulanqab",
    "hulunbuir",
    "hinggan",
    "tongliao",
    "chifeng",
    "xilingol",
    "bayannur",
    "wuhai",
    "alxa",
)
