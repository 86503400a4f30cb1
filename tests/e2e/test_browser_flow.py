"""The story of the issue, in Chromium: order entry with an error, a second league, a
clearing run, the fill, the audit, the public chart; then every page's smoke check.

Screenshots of each step go to ``artifacts/screenshots/``; with
``EXCHANGE_REFRESH_GUIDE_IMAGES=1`` a handful also to ``docs/guide/img/`` for the user
guide (a run of the tests never changes tracked files unless asked to).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.conftest import GUIDE_IMAGES, REFRESH_GUIDE, VIEWPORT, LiveServer

pytestmark = pytest.mark.slow  # a real browser against a live server

MARKET = "COD-2027"  # tick 1.00 yuan, lot 1 t, every league eligible
A11Y_SCRIPT = (Path(__file__).parent / "a11y.js").read_text(encoding="utf-8")


class Session:
    """One user's browser context, with the console errors its pages logged."""

    def __init__(self, browser: Any, server: LiveServer, shots: Path, user: str | None) -> None:
        self.server = server
        self.shots = shots
        self.context = browser.new_context(viewport=VIEWPORT, locale="en-GB")
        self.page = self.context.new_page()
        self.errors: list[str] = []
        self.page.on("console", lambda m: self.errors.append(m.text) if m.type == "error" else None)
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))
        if user is not None:
            self.goto("/login")
            self.page.fill("#username", user)
            self.page.fill("#password", f"demo-{user}")
            self.page.click("main button[type=submit]")
            self.page.wait_for_load_state()
            assert "/login" not in self.page.url, f"{user} could not log in"

    def goto(self, path: str) -> Any:
        response = self.page.goto(self.server.url + path)
        assert response is not None
        return response

    def shot(self, name: str, guide: bool = False) -> None:
        self.page.screenshot(path=str(self.shots / f"{name}.png"), full_page=True)
        if guide and REFRESH_GUIDE:  # the guide's pictures only when asked to refresh them
            self.page.screenshot(path=str(GUIDE_IMAGES / f"{name}.png"))

    def close(self) -> None:
        self.context.close()
        assert not self.errors, f"console errors: {self.errors}"


@pytest.fixture
def open_session(browser: Any, live_server: LiveServer, shots: Path) -> Iterator[Any]:
    sessions: list[Session] = []

    def start(user: str | None) -> Session:
        session = Session(browser, live_server, shots, user)
        sessions.append(session)
        return session

    yield start
    for session in sessions:
        session.close()


def choose_market(page: Any, code: str) -> None:
    """Select the market ``code`` in the order form."""
    value = page.locator("#market_id option", has_text=code).first.get_attribute("value")
    page.select_option("#market_id", value=value)


def holding(page: Any, asset: str) -> int:
    """The posted quantity of ``asset`` in the desk's holdings table."""
    text = page.inner_text(f'#holdings tr[data-asset="{asset}"] td:nth-of-type(2)')
    return int(text.replace(",", ""))


def withdraw_crossing_orders(live_server: LiveServer, league: str, side: str, price: int) -> None:
    """Cancel ``league``'s live ``side`` orders in MARKET that a new opposite order at
    ``price`` fen would cross: the demo's history leaves some, and the exchange refuses a
    league's order that crosses its own (self-trade)."""
    app = live_server.app
    document = json.loads(Path(app.config["DEMO_CREDENTIALS_PATH"]).read_text())
    headers = {"Authorization": f"Bearer {document['users'][league]['token']}"}
    client = app.test_client()
    market = next(m for m in client.get("/api/v1/markets").get_json() if m["code"] == MARKET)
    query = {"market_id": market["id"], "per_page": 200}
    for order in client.get("/api/v1/orders", query_string=query, headers=headers).json["items"]:
        live = order["status"] in ("open", "partially_filled") and order["side"] == side
        crosses = order["limit_price"] <= price if side == "sell" else order["limit_price"] >= price
        if live and crosses:
            cancel = client.delete(f"/api/v1/orders/{order['id']}", headers=headers)
            assert cancel.status_code == 200, cancel.get_json()


def test_order_to_fill_to_audit_to_chart(open_session: Any, live_server: LiveServer) -> None:
    withdraw_crossing_orders(live_server, "ordos", "sell", 190_000)
    withdraw_crossing_orders(live_server, "baotou", "buy", 100_000)
    anonymous = open_session(None)
    anonymous.goto("/login")
    anonymous.shot("01-login", guide=True)

    # A league user enters a buy order with a price off the tick grid, sees the error
    # next to the field with what was typed kept, corrects it and sees the order open.
    buyer = open_session("ordos")
    page = buyer.page
    buyer.goto("/desk")
    before = holding(page, MARKET)
    choose_market(page, MARKET)
    page.check("#side-0")  # buy
    page.fill("#quantity", "10")
    page.fill("#limit_price", "1900.50")
    page.fill("#client_order_id", "e2e-buy-1")
    page.click("text=Place order")
    error = page.locator("#limit_price-error")
    assert error.inner_text() == "The price must be a multiple of 1.00 yuan."
    assert page.input_value("#quantity") == "10"
    assert page.input_value("#limit_price") == "1900.50"
    assert page.get_attribute("#limit_price", "aria-invalid") == "true"
    page.locator("#h-order").scroll_into_view_if_needed()
    buyer.shot("02-desk-order-error", guide=True)
    page.fill("#limit_price", "1900.00")
    page.click("text=Place order")
    page.wait_for_selector(".flash.success")
    row = page.locator("#open-orders tr", has_text="e2e-buy-1")
    assert row.count() == 1
    assert "1,900.00" in row.inner_text() and "open" in row.inner_text()
    buyer_order = row.get_attribute("data-order")
    page.locator("#h-open").scroll_into_view_if_needed()
    buyer.shot("03-desk-order-open", guide=True)

    # A second league sells.
    seller = open_session("baotou")
    seller.goto("/desk")
    choose_market(seller.page, MARKET)
    seller.page.check("#side-1")  # sell
    seller.page.fill("#quantity", "10")
    seller.page.fill("#limit_price", "1000")
    seller.page.fill("#client_order_id", "e2e-sell-1")
    seller.page.click("text=Place order")
    seller.page.wait_for_selector(".flash.success")
    assert seller.page.locator("#open-orders tr", has_text="e2e-sell-1").count() == 1

    # The regulator clears the market now.
    regulator = open_session("regulator")
    regulator.goto("/regulator")
    regulator.shot("04-console", guide=True)
    regulator.page.click(f'#console-markets tr[data-market="{MARKET}"] a.button')
    assert "This cannot be undone." in regulator.page.inner_text("#confirm-note")
    regulator.page.click("#confirm-button")
    regulator.page.wait_for_selector("#run-price")
    price_text = regulator.page.inner_text("#run-price")
    assert re.fullmatch(r"[\d,]+\.\d\d", price_text), price_text
    assert regulator.page.locator("#run-fills tr", has_text=buyer_order or "?").count() == 1
    regulator.shot("05-clearing-run", guide=True)
    regulator.goto("/runs")
    regulator.shot("06-runs")

    # The buyer sees the fill and the new holding.
    buyer.goto("/desk")
    fill = page.locator(f'#fills tr[data-order="{buyer_order}"]')
    assert fill.count() == 1 and price_text in fill.inner_text()
    assert holding(page, MARKET) == before + 10
    assert page.locator("#open-orders tr", has_text="e2e-buy-1").count() == 0
    buyer.shot("07-desk-filled")
    buyer.goto(f"/desk/statement?asset={MARKET}")
    buyer.shot("08-statement", guide=True)

    # The auditor runs the verification (in the background) and sees it all green.
    auditor = open_session("auditor")
    auditor.goto("/audit/verify")
    auditor.page.click("text=Run verification")
    auditor.page.wait_for_selector("#verify-summary", timeout=60_000)
    summary = auditor.page.inner_text("#verify-summary")
    assert "All checks passed" in summary, summary
    assert auditor.page.locator("ul.checks li.bad").count() == 0
    assert auditor.page.locator("ul.checks li.ok").count() >= 15
    auditor.shot("09-verification", guide=True)
    auditor.goto("/audit?reference=run:")
    auditor.shot("10-ledger-explorer", guide=True)

    # The public market page shows the new price on the chart.
    anonymous.goto(f"/markets/{MARKET}")
    assert anonymous.page.inner_text("#last-price") == price_text
    history = anonymous.page.locator("svg.chart.history")
    assert price_text in (history.get_attribute("aria-label") or "")
    # no supply and demand curves in public (they reveal live orders): auction results
    assert anonymous.page.locator("svg.chart.curves").count() == 0
    assert anonymous.page.locator("#auction-results").count() == 1
    anonymous.shot("11-market", guide=True)
    anonymous.goto(f"/markets/{MARKET}?lang=zh")
    assert "最近出清价" in anonymous.page.inner_text("main")
    anonymous.shot("12-market-zh", guide=True)


PAGES: dict[str | None, list[str]] = {
    None: ["/", "/?lang=zh", f"/markets/{MARKET}", "/markets/YR-WATER-2027", "/login",
           "/compensation", "/compensation/1", "/compensation/1?lang=zh"],
    "ordos": ["/desk", "/desk?lang=zh", "/desk/statement", f"/desk/statement?asset={MARKET}"],
    "regulator": ["/regulator", "/regulator?lang=zh", "/runs", "/runs/1", "/audit",
                  "/regulator/compensation"],
    "auditor": ["/audit", "/audit?lang=zh", "/audit/verify", "/runs", "/runs/2"],
}


@pytest.mark.parametrize("user", list(PAGES), ids=lambda u: u or "anonymous")
def test_every_page_passes_the_smoke_check(open_session: Any, user: str | None) -> None:
    """Labels, alt texts, chart titles, heading order, one h1; no console error."""
    session = open_session(user)
    for path in PAGES[user]:
        response = session.goto(path)
        assert response.status == 200, path
        problems = session.page.evaluate(A11Y_SCRIPT)
        assert problems == [], f"{path}: {problems}"
        session.page.set_viewport_size({"width": 390, "height": 844})  # a phone
        session.page.screenshot(
            path=str(session.shots / ("phone" + path.replace("/", "_").replace("?", "_") + ".png"))
        )
        width = session.page.evaluate("document.documentElement.scrollWidth")
        assert width <= 390 + 1, f"{path} scrolls sideways on a phone ({width}px)"
        session.page.set_viewport_size(VIEWPORT)
