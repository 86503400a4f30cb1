"""Continuous trading in Chromium: the market page shows new depth and trades without a
reload while two leagues trade on their desks; the page passes the smoke check."""

from __future__ import annotations

from typing import Any

import pytest

from tests.e2e.test_browser_flow import A11Y_SCRIPT, choose_market, open_session  # noqa: F401

pytestmark = pytest.mark.slow  # a real browser against a live server

MARKET = "CEA-2026-L"  # continuous, open around the clock, lot 100 t, reference 97.49 yuan


def place(session: Any, side: int, quantity: str, price: str, cid: str) -> None:
    page = session.page
    session.goto("/desk")
    choose_market(page, MARKET)
    page.check(f"#side-{side}")
    page.fill("#quantity", quantity)
    page.fill("#limit_price", price)
    page.fill("#client_order_id", cid)
    page.click("text=Place order")
    page.wait_for_selector(".flash.success")


def test_market_page_updates_without_reload(open_session: Any) -> None:  # noqa: F811
    watcher = open_session(None)
    watcher.goto(f"/markets/{MARKET}")
    page = watcher.page
    assert page.evaluate(A11Y_SCRIPT) == []
    page.evaluate("window.__stayed = true")  # gone if the page reloads
    place(open_session("ordos"), 1, "300", "97.60", "e2e-cont-sell")
    page.wait_for_selector("#depth td.ask:has-text('97.60')", timeout=15_000)
    buyer = open_session("baotou")
    place(buyer, 0, "200", "97.60", "e2e-cont-buy")
    assert "200 tCO₂e traded at entry" in buyer.page.inner_text(".flash.success")
    page.wait_for_selector("#last-trades tr:has-text('97.60')", timeout=15_000)
    assert "100" in page.inner_text("#depth")  # 100 t left at 97.60
    assert page.evaluate("window.__stayed") is True
    watcher.shot("20-continuous-market")
    page.set_viewport_size({"width": 390, "height": 844})
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390 + 1, f"the continuous market page scrolls sideways ({width}px)"
