"""Stability rules of the call auction at their thresholds (matching._stability)."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

import matching
from matching import Order, Rules, Stability, clear_stable

RULES = Rules(lot=100, tick=1)


def _book(bid_qty: int, bid_price: int = 100, offer_qty: int = 1000, offer_price: int = 50):
    return [
        Order("1", "sell", offer_qty, offer_price, 1),
        Order("2", "buy", bid_qty, bid_price, 2),
    ]


def test_cover_exactly_at_the_share_passes_one_lot_less_cancels() -> None:
    st = Stability(min_cover_percent=100)
    ok = clear_stable(_book(1000), RULES, st)
    assert not ok.cancelled and ok.result is not None and ok.result.volume == 1000
    out = clear_stable(_book(900), RULES, st)
    assert out.cancelled and out.result is None
    c = out.cancellation
    assert c is not None
    assert (c.reason, c.bid_volume, c.offered_volume, c.cover_percent) == (
        matching.INSUFFICIENT_COVER,
        900,
        1000,
        90,
    )


def test_cover_share_below_100_percent() -> None:
    st = Stability(min_cover_percent=50)
    assert not clear_stable(_book(500), RULES, st).cancelled
    assert clear_stable(_book(400), RULES, st).cancelled


def test_price_at_the_share_passes_one_tick_below_cancels() -> None:
    st = Stability(min_price_percent=60, reference_price=10_000)
    # buyer's limit sets the price: sell 1000 @ 5000, buy 1000 @ p -> price p (buy surplus 0)
    ok = clear_stable(
        [Order("1", "sell", 1000, 6000, 1), Order("2", "buy", 1000, 6000, 2)], RULES, st
    )
    assert not ok.cancelled and ok.result is not None and ok.result.price == 6000
    out = clear_stable(
        [Order("1", "sell", 1000, 5999, 1), Order("2", "buy", 1000, 5999, 2)], RULES, st
    )
    assert out.cancellation is not None
    assert out.cancellation.reason == matching.PRICE_BELOW_REFERENCE
    assert (out.cancellation.price, out.cancellation.reference_price) == (5999, 10_000)


def test_no_reference_no_price_rule() -> None:
    st = Stability(min_price_percent=60)
    assert not clear_stable(_book(1000, 1, 1000, 1), RULES, st).cancelled


def _ccr_book(price: int) -> list[Order]:
    # supply 500 @ 100, demand 1000 @ price: the price is the buyers' limit (excess demand)
    return [Order("1", "sell", 500, 100, 1), Order("2", "buy", 1000, price, 2)]


def test_ccr_not_released_at_the_trigger() -> None:
    st = Stability(ccr_trigger_price=200, ccr_quantity=300)
    out = clear_stable(_ccr_book(200), RULES, st)
    assert out.result is not None and out.result.price == 200
    assert out.ccr_released == 0 and all(o.id != matching.CCR_ID for o in out.orders)


def test_ccr_released_one_tick_above_at_most_its_quantity() -> None:
    st = Stability(ccr_trigger_price=200, ccr_quantity=300)
    before = matching.clear(_ccr_book(201), RULES)
    assert before.price == 201 and before.volume == 500
    out = clear_stable(_ccr_book(201), RULES, st)
    assert out.result is not None
    assert out.ccr_released == 300  # demand 1000 > 500 + 300: the whole reserve, no more
    assert out.result.volume == 800
    ccr = next(f for f in out.result.fills if f.id == matching.CCR_ID)
    assert ccr.quantity == 300 and ccr.price == out.result.price


def test_ccr_releases_only_what_is_wanted() -> None:
    st = Stability(ccr_trigger_price=200, ccr_quantity=3000)
    out = clear_stable(_ccr_book(300), RULES, st)
    assert out.result is not None and out.result.price == 200
    assert out.ccr_released == 500  # demand 1000 - league supply 500
    assert out.ccr_released <= 3000


def _ecr_book(price: int) -> list[Order]:
    # supply 1000 @ price, demand 500 @ 1000: the price is the sellers' limit
    return [Order("1", "sell", 1000, price, 1), Order("2", "buy", 500, 1000, 2)]


def test_ecr_only_below_the_trigger() -> None:
    st = Stability(ecr_trigger_price=300, ecr_quantity=200)
    at = clear_stable(_ecr_book(300), RULES, st)
    assert at.result is not None and at.result.price == 300 and at.ecr_withheld == 0
    below = clear_stable(_ecr_book(299), RULES, st)
    assert below.result is not None
    # withholding 200 leaves a sell surplus: the price stays at the sellers' limit
    assert below.ecr_withheld == 200 and below.result.price == 299
    assert below.result.volume == 700
    seller = next(f for f in below.result.fills if f.id == "1")
    assert seller.quantity == 700


def test_ecr_and_price_rule_price_checked_after_the_reserve() -> None:
    # the ECR holds the price at its trigger, which passes the price rule
    st = Stability(
        ecr_trigger_price=300, ecr_quantity=2000, min_price_percent=50, reference_price=600
    )
    out = clear_stable(_ecr_book(100), RULES, st)
    assert not out.cancelled and out.result is not None and out.result.price == 300


def test_settings_validated() -> None:
    with pytest.raises(matching.InvalidBook) as e:
        Stability(min_cover_percent=0)
    assert e.value.field == "stability.min_cover_percent"
    with pytest.raises(matching.InvalidBook) as e:
        Stability(ccr_trigger_price=100)
    assert e.value.field == "stability.ccr_quantity"
    with pytest.raises(matching.InvalidBook) as e:
        Stability(ccr_trigger_price=100, ccr_quantity=0, ecr_trigger_price=100, ecr_quantity=0)
    assert e.value.field == "stability.ecr_trigger_price"
    with pytest.raises(matching.InvalidBook) as e:
        clear_stable(_book(100), RULES, Stability(ccr_trigger_price=100, ccr_quantity=150))
    assert e.value.field == "stability.ccr_quantity"
    with pytest.raises(matching.InvalidBook):
        clear_stable([Order(matching.CCR_ID, "buy", 100, 1)], RULES, Stability())


def test_deterministic_and_hashes() -> None:
    st = Stability(ccr_trigger_price=200, ccr_quantity=300, min_cover_percent=100)
    a = clear_stable(_ccr_book(250), RULES, st)
    b = clear_stable(list(reversed(_ccr_book(250))), RULES, st)
    assert matching.stable_result_hash(a) == matching.stable_result_hash(b)
    assert matching.stable_book_hash(_ccr_book(250), RULES, None) == matching.book_hash(
        _ccr_book(250), RULES
    )
    assert matching.stable_book_hash(_ccr_book(250), RULES, st) != matching.book_hash(
        _ccr_book(250), RULES
    )
    plain = matching.clear(_book(1000), RULES)
    assert clear_stable(_book(1000), RULES, Stability()).result == plain


@pytest.mark.slow  # a Python process per case
def test_cli_accepts_stability(tmp_path) -> None:
    st = Stability(min_cover_percent=100)
    doc = matching.stable_book_to_json(_book(900), RULES, st)
    path = tmp_path / "book.json"
    path.write_text(json.dumps(doc))
    out = subprocess.run(
        [sys.executable, "-m", "matching", "clear", str(path)],
        capture_output=True,
        text=True,
        check=True,
    )
    res = json.loads(out.stdout)
    assert res["cancelled"]["reason"] == "insufficient_cover"
    assert res["cancelled"]["cover_percent"] == 90
    doc["stability"] = {"ccr_trigger_price": 200, "ccr_quantity": 300}
    path.write_text(
        json.dumps(
            matching.stable_book_to_json(
                _ccr_book(201), RULES, Stability(ccr_trigger_price=200, ccr_quantity=300)
            )
        )
    )
    res = json.loads(
        subprocess.run(
            [sys.executable, "-m", "matching", "clear", str(path)],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    )
    assert res["ccr_released"] == 300 and res["volume"] == 800
    path.write_text(json.dumps({"orders": [], "stability": {"min_cover_percent": 0}}))
    bad = subprocess.run(
        [sys.executable, "-m", "matching", "clear", str(path)], capture_output=True, text=True
    )
    assert bad.returncode == 2 and "min_cover_percent" in bad.stderr
