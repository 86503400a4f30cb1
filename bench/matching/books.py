"""Deterministic benchmark books (fixed seed): single-zone and 12-zone zonal."""

from __future__ import annotations

import json
from itertools import pairwise
from pathlib import Path
from typing import Any

import numpy as np

from matching import Book, Link, Rules

LEAGUES = ("Hulunbuir", "Hinggan", "Tongliao", "Chifeng", "Xilingol", "Hohhot", "Baotou",
           "Ordos", "Ulanqab", "Bayannur", "Wuhai", "Alxa")  # fmt: skip
# synthetic transfer network: a chain along the leagues plus a few cross links
CHAIN = list(pairwise(LEAGUES))
EXTRA = [("Baotou", "Bayannur"), ("Ordos", "Wuhai"), ("Hohhot", "Ulanqab"),
         ("Tongliao", "Xilingol")]  # fmt: skip


def single_zone(n: int, seed: int = 42) -> tuple[Book, Rules]:
    rng = np.random.default_rng(seed)
    is_buy = rng.random(n) < 0.5
    # prices in fen around 100.00 yuan, tick 1 fen; buyers a little above sellers
    centre = np.where(is_buy, 10_050, 9_950)
    price = np.clip(np.rint(rng.normal(centre, 300)), 1, None).astype(np.int64)
    qty = rng.integers(1, 1_000, n).astype(np.int64) * 10  # lot 10
    seq = rng.permutation(n).astype(np.int64)
    ids = [f"o{i}" for i in range(n)]
    return Book(is_buy, qty, price, seq, ids=ids), Rules(lot=10, tick=1, reference_price=10_000)


def zonal(n: int, seed: int = 43) -> tuple[Book, Rules]:
    rng = np.random.default_rng(seed)
    nz = len(LEAGUES)
    zone = rng.integers(0, nz, n).astype(np.int64)
    is_buy = rng.random(n) < 0.5
    # each league has its own price level, so that links congest
    level = 9_000 + 200 * rng.permutation(nz)
    centre = level[zone] + np.where(is_buy, 50, -50)
    price = np.clip(np.rint(rng.normal(centre, 300)), 1, None).astype(np.int64)
    qty = rng.integers(1, 1_000, n).astype(np.int64) * 10
    seq = rng.permutation(n).astype(np.int64)
    ids = [f"o{i}" for i in range(n)]
    cap = max(10, n * 500 // 40) // 10 * 10  # of the order of a few percent of the volume
    links = []
    for a, b in CHAIN + EXTRA:
        c = int(cap * rng.uniform(0.2, 1.5)) // 10 * 10
        links += [Link(a, b, c), Link(b, a, c)]
    rules = Rules(lot=10, tick=1, reference_price=10_000, links=tuple(links), zones=LEAGUES)
    names = tuple(sorted(LEAGUES))
    remap = np.array([names.index(z) for z in LEAGUES], dtype=np.int64)
    return Book(is_buy, qty, price, seq, remap[zone], names, ids), rules


def to_json(book: Book, rules: Rules) -> dict[str, Any]:
    """The CLI input format (docs/matching.md), used to hand the same book to the peers."""
    zonal_ = rules.zonal
    rd: dict[str, Any] = {"lot": rules.lot, "tick": rules.tick, "price_floor": rules.price_floor,
                          "price_ceiling": rules.price_ceiling,
                          "reference_price": rules.reference_price}  # fmt: skip
    if zonal_:
        rd["links"] = [{"from": lk.from_zone, "to": lk.to_zone, "capacity": lk.capacity}
                       for lk in rules.links]  # fmt: skip
    orders = []
    ids = book.ids or [str(i) for i in range(book.size)]
    for i in range(book.size):
        od: dict[str, Any] = {"id": ids[i], "side": "buy" if book.is_buy[i] else "sell",
                              "quantity": int(book.quantity[i]), "price": int(book.price[i]),
                              "seq": int(book.seq[i])}  # fmt: skip
        if zonal_ and book.zone is not None:
            od["zone"] = book.zone_names[int(book.zone[i])]
        orders.append(od)
    return {"rules": rd, "orders": orders}


def write_json(book: Book, rules: Rules, path: Path) -> None:
    path.write_text(json.dumps(to_json(book, rules)), encoding="utf-8")
