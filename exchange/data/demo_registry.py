"""Demo registry data: the 12 leagues of Inner Mongolia, basins and markets.

Sources (see docs/data-sources.md for the full list):

- Leagues and the three regional groups (东部盟市 / 呼包鄂乌 / 沿黄西部盟市): the
  regional-coordination policy that seeds this project.
- The Yellow River flows through 7 leagues of Inner Mongolia; Inner Mongolia's
  allocation under the 1987 State Council scheme is 5.86 billion m3 per year
  (Inner Mongolia Daily, 2023-09-18, "内蒙古水权转让为沿黄地区发展注入水动力").
- Water-rights transfer price in the Hetao (Shenwu) pilot: 1.03 yuan per m3 per
  year (人民黄河, 2024-06); first cross-province Yellow River trade about 0.40
  yuan per m3 per year (People's Daily, 2023-11).
- Pollutant paid-use fees in Inner Mongolia from 2012-03-01, yuan per t per year:
  COD 1,000, NH3-N 3,000, SO2 500, NOx 500; auctions start from the fee (Xinhua).
- National carbon market: 2024 year-end close 97.49 yuan/tCO2e, tick 0.01 yuan
  (MEE annual report).
- Energy-use rights: Shizuishan (Ningxia, 2025) base price 150 yuan/tce.

Synthetic (no public source found, marked as such): which basins each league
lies in beyond the Yellow River list is indicative; caps of the pollutant,
carbon and energy markets; the transfer limits between Yellow River leagues;
lots and price ceilings.
"""

from __future__ import annotations

from typing import Any

BASINS: list[dict[str, str]] = [
    {"code": "yellow", "name_zh": "黄河", "name_en": "Yellow River"},
    {"code": "nen", "name_zh": "嫩江", "name_en": "Nen River"},
    {"code": "luan", "name_zh": "滦河", "name_en": "Luan River"},
    {"code": "yongding", "name_zh": "永定河", "name_en": "Yongding River"},
    {"code": "west_liao", "name_zh": "西辽河", "name_en": "West Liao River"},
]

# The seven Yellow River leagues follow the Inner Mongolia Daily article above;
# the other basin memberships are indicative.
LEAGUES: list[dict[str, Any]] = [
    {
        "code": "hulunbuir",
        "name_zh": "呼伦贝尔市",
        "name_en": "Hulunbuir",
        "region": "east",
        "basins": ["nen"],
    },
    {
        "code": "hinggan",
        "name_zh": "兴安盟",
        "name_en": "Hinggan League",
        "region": "east",
        "basins": ["nen"],
    },
    {
        "code": "tongliao",
        "name_zh": "通辽市",
        "name_en": "Tongliao",
        "region": "east",
        "basins": ["west_liao"],
    },
    {
        "code": "chifeng",
        "name_zh": "赤峰市",
        "name_en": "Chifeng",
        "region": "east",
        "basins": ["west_liao", "luan"],
    },
    {
        "code": "xilingol",
        "name_zh": "锡林郭勒盟",
        "name_en": "Xilingol League",
        "region": "east",
        "basins": ["luan"],
    },
    {
        "code": "hohhot",
        "name_zh": "呼和浩特市",
        "name_en": "Hohhot",
        "region": "central",
        "basins": ["yellow"],
    },
    {
        "code": "baotou",
        "name_zh": "包头市",
        "name_en": "Baotou",
        "region": "central",
        "basins": ["yellow"],
    },
    {
        "code": "ordos",
        "name_zh": "鄂尔多斯市",
        "name_en": "Ordos",
        "region": "central",
        "basins": ["yellow"],
    },
    {
        "code": "ulanqab",
        "name_zh": "乌兰察布市",
        "name_en": "Ulanqab",
        "region": "central",
        "basins": ["yellow", "yongding"],
    },
    {
        "code": "bayannur",
        "name_zh": "巴彦淖尔市",
        "name_en": "Bayannur",
        "region": "west",
        "basins": ["yellow"],
    },
    {
        "code": "wuhai",
        "name_zh": "乌海市",
        "name_en": "Wuhai",
        "region": "west",
        "basins": ["yellow"],
    },
    {
        "code": "alxa",
        "name_zh": "阿拉善盟",
        "name_en": "Alxa League",
        "region": "west",
        "basins": ["yellow"],
    },
]

YELLOW_RIVER_ALLOCATION_M3 = 5_860_000_000  # 58.6 亿 m3/yr, 1987 State Council scheme

# Transfer limits between Yellow River leagues, m3 per clearing run (synthetic):
# water moves downstream along the main stem (Alxa/Wuhai -> Bayannur -> Baotou
# and Ordos -> Hohhot -> Ulanqab), and in smaller amounts upstream by exchange of
# quotas, the way a basin authority limits transfers between reaches.
YELLOW_RIVER_LINKS: list[dict[str, Any]] = [
    {"from": "alxa", "to": "wuhai", "capacity": 2_000_000},
    {"from": "wuhai", "to": "alxa", "capacity": 2_000_000},
    {"from": "wuhai", "to": "bayannur", "capacity": 5_000_000},
    {"from": "bayannur", "to": "wuhai", "capacity": 1_000_000},
    {"from": "bayannur", "to": "ordos", "capacity": 10_000_000},
    {"from": "ordos", "to": "bayannur", "capacity": 1_000_000},
    {"from": "bayannur", "to": "baotou", "capacity": 8_000_000},
    {"from": "baotou", "to": "bayannur", "capacity": 1_000_000},
    {"from": "ordos", "to": "baotou", "capacity": 3_000_000},
    {"from": "baotou", "to": "ordos", "capacity": 3_000_000},
    {"from": "baotou", "to": "hohhot", "capacity": 4_000_000},
    {"from": "hohhot", "to": "baotou", "capacity": 1_000_000},
    {"from": "hohhot", "to": "ulanqab", "capacity": 2_000_000},
    {"from": "ulanqab", "to": "hohhot", "capacity": 1_000_000},
]

# Prices are fen per unit (1 yuan = 100 fen).
MARKETS: list[dict[str, Any]] = [
    {
        "code": "YR-WATER-2027",
        "name_zh": "黄河水权（用水权）2027年度",
        "name_en": "Yellow River water-use rights, 2027",
        "right_type": "water",
        "pollutant": None,
        "basin": "yellow",
        "vintage": "2027",
        "unit": "m3",
        "lot": 1_000,
        "tick": 1,
        # floor near the cross-province price (0.40 yuan), ceiling synthetic
        "price_floor": 40,
        "price_ceiling": 500,
        "cap": YELLOW_RIVER_ALLOCATION_M3,
        "clearing_schedule": "*/5 * * * *",
        "description": "Annual Yellow River water-use quota of the seven Yellow River leagues. "
        "Zonal clearing: one zone per league, transfers limited between reaches.",
        "description_zh": "沿黄七个盟市的黄河年度用水指标。"
        "分区出清：每个盟市一个分区，河段之间的转让量受限。",
        "transfer_limits": YELLOW_RIVER_LINKS,
    },
    {
        "code": "WLR-WATER-2027",
        "name_zh": "西辽河水权（用水权）2027年度",
        "name_en": "West Liao River water-use rights, 2027",
        "right_type": "water",
        "pollutant": None,
        "basin": "west_liao",
        "vintage": "2027",
        "unit": "m3",
        "lot": 1_000,
        "tick": 1,
        "price_floor": 40,
        "price_ceiling": 500,
        "cap": 1_200_000_000,  # synthetic
        "clearing_schedule": "1-59/5 * * * *",
        "description": "Water-use rights of the West Liao River leagues (synthetic cap).",
        "description_zh": "西辽河流域盟市的用水权（总量为模拟数据）。",
    },
    {
        "code": "COD-2027",
        "name_zh": "化学需氧量排污权 2027年度",
        "name_en": "COD discharge rights, 2027",
        "right_type": "pollutant",
        "pollutant": "COD",
        "basin": None,
        "vintage": "2027",
        "unit": "t",
        "lot": 1,
        "tick": 100,
        "price_floor": 100_000,  # paid-use fee 1,000 yuan/t (Xinhua)
        "price_ceiling": 2_000_000,
        "cap": 200_000,  # synthetic
        "clearing_schedule": "2-59/5 * * * *",
        "description": "Chemical oxygen demand; auctions start from the paid-use fee.",
        "description_zh": "化学需氧量；竞价自有偿使用费起。",
    },
    {
        "code": "NH3N-2027",
        "name_zh": "氨氮排污权 2027年度",
        "name_en": "NH3-N discharge rights, 2027",
        "right_type": "pollutant",
        "pollutant": "NH3-N",
        "basin": None,
        "vintage": "2027",
        "unit": "t",
        "lot": 1,
        "tick": 100,
        "price_floor": 300_000,  # paid-use fee 3,000 yuan/t (Xinhua)
        "price_ceiling": 4_000_000,
        "cap": 15_000,  # synthetic
        "clearing_schedule": "2-59/5 * * * *",
        "description": "Ammonia nitrogen; auctions start from the paid-use fee.",
        "description_zh": "氨氮；竞价自有偿使用费起。",
    },
    {
        "code": "SO2-2027",
        "name_zh": "二氧化硫排污权 2027年度",
        "name_en": "SO2 discharge rights, 2027",
        "right_type": "pollutant",
        "pollutant": "SO2",
        "basin": None,
        "vintage": "2027",
        "unit": "t",
        "lot": 1,
        "tick": 100,
        "price_floor": 50_000,  # paid-use fee 500 yuan/t (Xinhua)
        "price_ceiling": 1_500_000,
        "cap": 300_000,  # synthetic
        "clearing_schedule": "3-59/5 * * * *",
        "description": "Sulphur dioxide; auctions start from the paid-use fee.",
        "description_zh": "二氧化硫；竞价自有偿使用费起。",
    },
    {
        "code": "NOX-2027",
        "name_zh": "氮氧化物排污权 2027年度",
        "name_en": "NOx discharge rights, 2027",
        "right_type": "pollutant",
        "pollutant": "NOx",
        "basin": None,
        "vintage": "2027",
        "unit": "t",
        "lot": 1,
        "tick": 100,
        "price_floor": 50_000,  # paid-use fee 500 yuan/t (Xinhua)
        "price_ceiling": 2_500_000,
        "cap": 350_000,  # synthetic
        "clearing_schedule": "3-59/5 * * * *",
        "description": "Nitrogen oxides; auctions start from the paid-use fee.",
        "description_zh": "氮氧化物；竞价自有偿使用费起。",
    },
    {
        "code": "CEA-2026",
        "name_zh": "碳排放配额 2026年度",
        "name_en": "Carbon emission allowances, vintage 2026",
        "right_type": "carbon",
        "pollutant": None,
        "basin": None,
        "vintage": "2026",
        "unit": "tCO2e",
        "lot": 100,
        "tick": 1,  # tick 0.01 yuan as on the national market
        "price_floor": 2_000,
        "price_ceiling": 30_000,  # synthetic collar around 97.49 yuan
        "cap": 600_000_000,  # synthetic
        "clearing_schedule": "4-59/5 * * * *",
        "description": "Allowances of the league-level carbon market, one vintage.",
        "description_zh": "盟市级碳市场的配额，单一年度。",
    },
    {
        "code": "CEA-2026-L",
        "name_zh": "碳排放配额 2026年度（挂牌连续交易）",
        "name_en": "Carbon emission allowances, vintage 2026 (continuous, listed)",
        "right_type": "carbon",
        "pollutant": None,
        "basin": None,
        "vintage": "2026",
        "unit": "tCO2e",
        "lot": 100,
        "tick": 1,  # tick 0.01 yuan as on the national market
        "price_floor": 2_000,
        "price_ceiling": 30_000,
        "cap": 60_000_000,  # synthetic
        "mechanism": "continuous",
        "band_percent": 10,  # +-10 % of the previous close, as listed trades nationally
        "session_calendar": "always",  # the demo trades around the clock
        "reference_price": 9_749,  # 97.49 yuan
        "description": "Allowances traded continuously: orders match at entry within the band.",
        "description_zh": "配额挂牌连续交易：订单在涨跌幅限制内即时撮合。",
    },
    {
        "code": "ENERGY-2027",
        "name_zh": "用能权 2027年度",
        "name_en": "Energy-use rights, 2027",
        "right_type": "energy",
        "pollutant": None,
        "basin": None,
        "vintage": "2027",
        "unit": "tce",
        "lot": 10,
        "tick": 100,
        "price_floor": 3_000,
        "price_ceiling": 30_000,  # base price 150 yuan/tce (Shizuishan)
        "cap": 280_000_000,  # synthetic
        "clearing_schedule": "4-59/5 * * * *",
        "description": "Energy-use rights in tonnes of standard coal equivalent.",
        "description_zh": "用能权，以吨标准煤计。",
    },
]
