"""``python -m matching clear`` through a subprocess."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.slow  # a Python process per case

ROOT = Path(__file__).resolve().parents[2]


def run(args: list[str], stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "matching", *args], input=stdin, capture_output=True, text=True,
        cwd=ROOT, timeout=60, check=False,
    )  # fmt: skip


def clear_doc(doc: Any) -> subprocess.CompletedProcess[str]:
    return run(["clear", "-"], json.dumps(doc))


ISSUE_EXAMPLE = {
    "rules": {"lot": 1, "tick": 1, "price_floor": 0, "price_ceiling": None,
              "reference_price": None, "links": [{"from": "A", "to": "B", "capacity": 100}]},
    "orders": [{"id": "o1", "side": "sell", "zone": "A", "quantity": 10, "price": 100, "seq": 1},
               {"id": "o2", "side": "buy", "zone": "B", "quantity": 10, "price": 120, "seq": 2}],
}  # fmt: skip


def test_file_and_stdin(tmp_path: Path) -> None:
    path = tmp_path / "book.json"
    path.write_text(json.dumps(ISSUE_EXAMPLE), encoding="utf-8")
    a = run(["clear", str(path)])
    b = clear_doc(ISSUE_EXAMPLE)
    assert a.returncode == 0 and b.returncode == 0, a.stderr + b.stderr
    assert a.stdout == b.stdout
    out = json.loads(a.stdout)
    assert list(out) == ["price", "zone_prices", "volume", "fills", "flows"]
    assert out == {
        "price": 110, "zone_prices": {"A": 110, "B": 110}, "volume": 10,
        "fills": [{"id": "o1", "quantity": 10, "price": 110},
                  {"id": "o2", "quantity": 10, "price": 110}],
        "flows": [{"from": "A", "to": "B", "quantity": 10}],
    }  # fmt: skip


def test_single_zone_without_links_or_zones() -> None:
    doc = {"orders": [{"id": "b", "side": "buy", "quantity": 5, "price": 12},
                      {"id": "s", "side": "sell", "quantity": 3, "price": 10}]}  # fmt: skip
    p = clear_doc(doc)
    assert p.returncode == 0, p.stderr
    out = json.loads(p.stdout)
    assert "zone_prices" not in out
    assert out == {"price": 12, "volume": 3, "fills": [{"id": "b", "quantity": 3, "price": 12},
                   {"id": "s", "quantity": 3, "price": 12}], "flows": []}  # fmt: skip


def test_empty_links_clears_each_zone_alone() -> None:
    doc = {
        "rules": {"links": []},
        "orders": [
            {"id": "b", "side": "buy", "quantity": 5, "price": 12, "zone": "A"},
            {"id": "s", "side": "sell", "quantity": 3, "price": 10, "zone": "B"},
        ],
    }
    out = json.loads(clear_doc(doc).stdout)
    assert out["zone_prices"] == {"A": None, "B": None} and out["volume"] == 0


def order(**kw: Any) -> dict[str, Any]:
    return {"id": "x", "side": "buy", "quantity": 10, "price": 100, "seq": 1, **kw}


@pytest.mark.parametrize(
    ("doc", "needle"),
    [
        ({"orders": [order(quantity=-5)]}, "quantity must be positive"),
        ({"orders": [order(quantity=2.5)]}, "quantity must be an integer"),
        ({"orders": [order(price=101)], "rules": {"tick": 5}}, "tick grid"),
        ({"orders": [order(side="bid")]}, "side must be 'buy' or 'sell'"),
        ({"orders": [order(), order()]}, "duplicate order id 'x'"),
        ({"orders": [order(zone="A")], "rules": {"links": [{"from": "A", "to": "Q",
                                                            "capacity": 1}]}},
         "unknown zone 'Q'"),
        ({"orders": [order()], "rules": {"links": [{"from": "A", "to": "B"}]}},
         "zone is required"),
        ({"orders": [order(quantity=15)], "rules": {"lot": 10}}, "multiple of the lot"),
        ({"orders": [{"id": "x", "side": "buy", "quantity": 1}]}, "missing field 'price'"),
        ({"orders": "nope"}, "'orders' must be a list"),
        ([1, 2], "must be a JSON object"),
        ({"orders": [], "rules": {"lot": 0}}, "lot must be >= 1"),
        ({"orders": [], "rules": {"links": [{"from": "A", "to": "B", "capacity": -1}]}},
         "capacity must be >= 0"),
    ],
)  # fmt: skip
def test_invalid_input_exit_2(doc: Any, needle: str) -> None:
    p = clear_doc(doc)
    assert p.returncode == 2
    assert needle in p.stderr
    assert p.stdout == ""


@pytest.mark.slow
def test_malformed_json_and_missing_file(tmp_path: Path) -> None:
    p = run(["clear", "-"], "{not json")
    assert p.returncode == 2 and "invalid JSON" in p.stderr
    p = run(["clear", str(tmp_path / "missing.json")])
    assert p.returncode == 2 and "cannot read" in p.stderr
    p = run(["frobnicate"])
    assert p.returncode == 2


def test_loss_on_links() -> None:
    doc = {
        "rules": {"links": [{"from": "A", "to": "B", "capacity": None, "loss": 100}]},
        "orders": [{"id": "s", "side": "sell", "zone": "A", "quantity": 10, "price": 50},
                   {"id": "b", "side": "buy", "zone": "B", "quantity": 20, "price": 100}],
    }  # fmt: skip
    p = clear_doc(doc)
    assert p.returncode == 0, p.stderr
    out = json.loads(p.stdout)
    assert out["flows"] == [{"from": "A", "to": "B", "quantity": 10, "received": 9}]
    assert {f["id"]: f["quantity"] for f in out["fills"]} == {"s": 10, "b": 9}
    assert out["volume"] == 9


@pytest.mark.parametrize("loss", [-1, 1000, 2.5, "5", True])
def test_invalid_loss_exit_2(loss: Any) -> None:
    doc = {"rules": {"links": [{"from": "A", "to": "B", "loss": loss}]},
           "orders": [order(zone="A")]}  # fmt: skip
    p = clear_doc(doc)
    assert p.returncode == 2 and "loss" in p.stderr and p.stdout == ""
