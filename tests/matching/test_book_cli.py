"""``python -m matching book`` through a subprocess."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from test_matching_cli import run

pytestmark = pytest.mark.slow  # a Python process per case


def book_doc(doc: Any, *flags: str) -> Any:
    return run(["book", *flags, "-"], json.dumps(doc))


def sub(oid: str, who: str, side: str, qty: int, price: int, **kw: Any) -> dict[str, Any]:
    return {"op": "submit", "id": oid, "participant": who, "side": side, "quantity": qty,
            "price": price, **kw}  # fmt: skip


EXAMPLE = {
    "rules": {"lot": 1, "tick": 1, "band": {"low": 9000, "high": 11000}},
    "commands": [
        sub("s1", "A", "sell", 10, 10100),
        sub("s2", "B", "sell", 5, 10050),
        sub("b1", "C", "buy", 12, 10200),
        sub("b2", "A", "buy", 5, 10200),  # would meet A's own s1: cancelled
        sub("b3", "D", "buy", 5, 9990),
        {"op": "cancel", "id": "b3"},
        sub("b4", "D", "buy", 4, 9980),
    ],
}


def test_file_and_stdin(tmp_path: Path) -> None:
    path = tmp_path / "commands.json"
    path.write_text(json.dumps(EXAMPLE), encoding="utf-8")
    a = run(["book", str(path)])
    b = book_doc(EXAMPLE)
    assert a.returncode == 0 and b.returncode == 0, a.stderr + b.stderr
    assert a.stdout == b.stdout
    out = json.loads(a.stdout)
    assert list(out) == ["trades", "cancelled", "depth", "state_hash"]
    assert [(t["buy_id"], t["sell_id"], t["price"], t["quantity"], t["aggressor"], t["seq"])
            for t in out["trades"]] == [("b1", "s2", 10050, 5, "buy", 2),
                                        ("b1", "s1", 10100, 7, "buy", 2)]  # fmt: skip
    assert [(c["id"], c["quantity"], c["reason"], c["against"]) for c in out["cancelled"]] == [
        ("b2", 5, "self_trade", "s1"), ("b3", 5, "requested", None)]  # fmt: skip
    assert out["depth"] == {
        "best_bid": 9980, "best_ask": 10100,
        "bids": [{"price": 9980, "quantity": 4, "orders": 1}],
        "asks": [{"price": 10100, "quantity": 3, "orders": 1}],
    }  # fmt: skip
    assert len(out["state_hash"]) == 64


def test_same_input_same_output_and_band_from_reference() -> None:
    doc = {**EXAMPLE, "rules": {"band": {"reference": 10000, "percent": 10}}}
    a, b = book_doc(doc), book_doc(EXAMPLE)
    assert a.returncode == 0, a.stderr
    assert a.stdout == b.stdout  # the same band, [9000, 11000], and bit-identical output


@pytest.mark.slow
def test_depth_option() -> None:
    doc = {"commands": [sub(f"b{i}", "p", "buy", 1, 100 + i) for i in range(8)]}
    out = json.loads(book_doc(doc, "--depth", "2").stdout)
    assert [lv["price"] for lv in out["depth"]["bids"]] == [107, 106]
    assert len(json.loads(book_doc(doc).stdout)["depth"]["bids"]) == 5
    out = json.loads(book_doc(doc, "--depth", "0").stdout)
    assert out["depth"] == {"best_bid": 107, "best_ask": None, "bids": [], "asks": []}


def test_refused_command_exits_2_or_is_listed_with_keep_going() -> None:
    doc = {"rules": {"band": {"reference": 10000, "percent": 10}},
           "commands": [sub("a", "p", "buy", 1, 9500), sub("x", "p", "buy", 1, 11001),
                        {"op": "cancel", "id": "ghost"}]}  # fmt: skip
    p = book_doc(doc)
    assert p.returncode == 2 and p.stdout == ""
    assert "commands[1]" in p.stderr and "[9000, 11000]" in p.stderr
    k = book_doc(doc, "--keep-going")
    assert k.returncode == 0, k.stderr
    out = json.loads(k.stdout)
    assert [(r["index"], r["id"], r["code"]) for r in out["rejected"]] == [
        (1, "x", "band"), (2, "ghost", "unknown_order")]  # fmt: skip
    assert out["depth"]["bids"] == [{"price": 9500, "quantity": 1, "orders": 1}]


@pytest.mark.parametrize(
    ("doc", "needle"),
    [
        ({"commands": [sub("x", "p", "buy", -5, 100)]}, "quantity must be between"),
        ({"commands": [sub("x", "p", "buy", 2.5, 100)]}, "quantity must be an integer"),
        ({"commands": [sub("x", "p", "buy", "5", 100)]}, "quantity must be an integer"),
        ({"commands": [sub("x", "p", "buy", 5, 101)], "rules": {"tick": 5}}, "tick grid"),
        ({"commands": [sub("x", "p", "buy", 15, 100)], "rules": {"lot": 10}}, "of the lot"),
        ({"commands": [sub("x", "p", "bid", 5, 100)]}, "side must be 'buy' or 'sell'"),
        ({"commands": [sub("x", "p", "buy", 1, 100), sub("x", "p", "buy", 1, 90)]}, "already used"),
        ({"commands": [sub("x", "p", "buy", 1, 100, seq=5), sub("y", "p", "buy", 1, 90, seq=5)]},
         "seq 5 must be greater"),
        ({"commands": [{"op": "cancel", "id": "nope"}]}, "not resting"),
        ({"commands": [{"op": "modify", "id": "x"}]}, "op must be 'submit' or 'cancel'"),
        ({"commands": [{"op": "submit", "id": "x", "side": "buy"}]}, "missing field 'participant'"),
        ({"commands": [{"op": "cancel"}]}, "missing field 'id'"),
        ({"commands": [{"op": "cancel", "id": 7}]}, "id must be a non-empty string"),
        ({"commands": "nope"}, "'commands' must be a list"),
        ({"commands": [3]}, "commands[0] must be an object"),
        ([1, 2], "must be a JSON object"),
        ({"commands": [], "rules": {"lot": 0}}, "lot must be >= 1"),
        ({"commands": [], "rules": []}, "'rules' must be an object"),
        ({"commands": [], "rules": {"band": {"low": 10}}}, "missing 'high'"),
        ({"commands": [], "rules": {"band": {"low": 10, "high": 5}}}, "above high"),
        ({"commands": [], "rules": {"band": {"reference": 0, "percent": 10}}}, "reference must"),
        ({"commands": [], "rules": {"band": {"reference": 100, "percent": 200}}}, "percent must"),
        ({"commands": [], "rules": {"band": 7}}, "band must be an object"),
    ],
)  # fmt: skip
def test_invalid_input_exit_2(doc: Any, needle: str) -> None:
    p = book_doc(doc)
    assert p.returncode == 2, p.stdout
    assert needle in p.stderr
    assert p.stderr.startswith("matching: error: ")
    assert p.stdout == ""


def test_malformed_json_missing_file_bad_depth(tmp_path: Path) -> None:
    p = run(["book", "-"], "{not json")
    assert p.returncode == 2 and "invalid JSON" in p.stderr
    p = run(["book", str(tmp_path / "missing.json")])
    assert p.returncode == 2 and "cannot read" in p.stderr
    p = run(["book", "--depth", "-1", "-"], "{}")
    assert p.returncode == 2 and "--depth" in p.stderr
    deep = "[" * 100_000 + "]" * 100_000
    p = run(["book", "-"], deep)
    assert p.returncode == 2 and p.stdout == ""
