"""``python -m matching clear-joint`` through a subprocess."""

from __future__ import annotations

import copy
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from matching import Order, Rules, clear, result_to_json

pytestmark = pytest.mark.slow  # a Python process per case

ROOT = Path(__file__).resolve().parents[2]


def run(args: list[str], stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "matching", *args], input=stdin, capture_output=True, text=True,
        cwd=ROOT, timeout=60, check=False,
    )  # fmt: skip


def joint(doc: Any) -> subprocess.CompletedProcess[str]:
    return run(["clear-joint", "-"], json.dumps(doc))


BOOKS = {
    "markets": {
        "water": {"rules": {"lot": 1, "tick": 1},
                  "orders": [{"id": "w1", "side": "sell", "quantity": 10, "price": 100},
                             {"id": "w2", "side": "buy", "quantity": 5, "price": 90}]},
        "carbon": {"orders": [{"id": "c1", "side": "sell", "quantity": 10, "price": 50},
                              {"id": "c2", "side": "buy", "quantity": 5, "price": 60}]},
    },
    "bundles": [{"id": "B1", "side": "buy", "limit": 1600, "seq": 3,
                 "legs": [{"market": "water", "quantity": 10},
                          {"market": "carbon", "quantity": 10}]}],
}  # fmt: skip


@pytest.mark.slow
def test_file_and_stdin_and_format(tmp_path: Path) -> None:
    path = tmp_path / "books.json"
    path.write_text(json.dumps(BOOKS), encoding="utf-8")
    a = run(["clear-joint", str(path)])
    b = joint(BOOKS)
    assert a.returncode == 0 and b.returncode == 0, a.stderr + b.stderr
    assert a.stdout == b.stdout
    out = json.loads(a.stdout)
    assert list(out) == ["markets", "bundles"]
    assert out["bundles"] == [{"id": "B1", "accepted": True}]
    assert out["markets"]["water"] == {
        "price": 100, "volume": 10,
        "fills": [{"id": "B1", "quantity": 10, "price": 100},
                  {"id": "w1", "quantity": 10, "price": 100}],
    }  # fmt: skip
    assert out["markets"]["carbon"]["price"] == 60


def test_without_bundles_each_market_as_clear() -> None:
    doc = copy.deepcopy(BOOKS)
    doc["bundles"] = []
    out = json.loads(joint(doc).stdout)
    for code, book in doc["markets"].items():
        orders = [Order(o["id"], o["side"], o["quantity"], o["price"], i)
                  for i, o in enumerate(book["orders"])]  # fmt: skip
        want = result_to_json(clear(orders, Rules(**book.get("rules", {}))))
        assert out["markets"][code] == {k: want[k] for k in ("price", "volume", "fills")}


def test_partial_bundle_reports_steps() -> None:
    doc = copy.deepcopy(BOOKS)
    doc["bundles"][0].update(limit=1600, min_ratio=500)
    doc["markets"]["water"]["orders"][0]["quantity"] = 6  # only 6 water units for sale
    doc["markets"]["carbon"]["orders"][1]["price"] = 40  # c2 no longer competes
    out = json.loads(joint(doc).stdout)
    assert out["bundles"] == [{"id": "B1", "accepted": True, "steps": 6, "of": 10}]
    fills = {f["id"]: f["quantity"] for f in out["markets"]["carbon"]["fills"]}
    assert fills["B1"] == 6


def leg(**kw: Any) -> dict[str, Any]:
    return {"market": "water", "quantity": 10, **kw}


def bundle(**kw: Any) -> dict[str, Any]:
    return {"id": "B", "side": "buy", "legs": [leg()], "limit": 100, "seq": 1, **kw}


def with_bundle(**kw: Any) -> dict[str, Any]:
    doc = copy.deepcopy(BOOKS)
    doc["bundles"] = [bundle(**kw)]
    return doc


def with_rules(rules: Any) -> dict[str, Any]:
    doc = copy.deepcopy(BOOKS)
    doc["markets"]["water"]["rules"] = rules
    return doc


@pytest.mark.parametrize(
    ("doc", "needle"),
    [
        (with_bundle(legs=[leg(market="gas")]), "unknown market 'gas'"),
        (with_bundle(legs=[leg(quantity=-1)]), "quantity must be positive"),
        (with_bundle(legs=[leg(quantity=2.5)]), "quantity must be an integer"),
        (with_bundle(legs=[leg(quantity="10")]), "quantity must be an integer"),
        (with_bundle(legs=[{"quantity": 1}]), "missing field 'market'"),
        (with_bundle(legs=[]), "legs must not be empty"),
        (with_bundle(legs="water"), "legs must be a list"),
        (with_bundle(limit=99.5), "limit must be an integer"),
        (with_bundle(limit=None), "limit must be an integer"),
        (with_bundle(side="bid"), "side must be 'buy' or 'sell'"),
        (with_bundle(seq=1.5), "seq must be an integer"),
        (with_bundle(min_ratio=0), "min_ratio"),
        (with_bundle(id="w1"), "also an order id"),
        ({**with_bundle(), "bundles": [bundle(), bundle()]}, "duplicate bundle id 'B'"),
        ({"markets": BOOKS["markets"], "bundles": [{"id": "B", "side": "buy", "legs": []}]},
         "missing field 'limit'"),
        (with_rules({"links": [{"from": "A", "to": "B"}]}), "single-zone"),
        (with_rules({"links": []}), "single-zone"),
        (with_rules({"zones": ["A"]}), "single-zone"),
        (with_rules({"lot": 3}), "multiple of the lot"),
        ({"markets": {"water": {"orders": [{"id": "x", "side": "buy", "quantity": -2,
                                            "price": 1}]}}}, "market 'water'"),
        ({"markets": []}, "'markets' must be an object"),
        ({"markets": {}, "bundles": {}}, "'bundles' must be a list"),
        ([], "must be a JSON object"),
    ],
)  # fmt: skip
def test_invalid_input_exit_2(doc: Any, needle: str) -> None:
    p = joint(doc)
    assert p.returncode == 2, p.stdout
    assert needle in p.stderr
    assert p.stdout == ""


@pytest.mark.slow
def test_malformed_json_and_missing_file(tmp_path: Path) -> None:
    p = run(["clear-joint", "-"], "{not json")
    assert p.returncode == 2 and "invalid JSON" in p.stderr
    p = run(["clear-joint", str(tmp_path / "missing.json")])
    assert p.returncode == 2 and "cannot read" in p.stderr
