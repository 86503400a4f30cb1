"""Issue 17 in Chromium, in English and Chinese (chosen by the browser's language), on a
desktop and on a 390 px phone: each role lands on its page, refusals and confirmations in
the page's language, names and words instead of codes, nothing scrolls sideways."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.conftest import GUIDE_IMAGES, REFRESH_GUIDE, VIEWPORT, LiveServer

pytestmark = pytest.mark.slow  # a real browser against a live server

MARKET = "COD-2027"  # tick 1.00 yuan, lot 1 t, every league eligible
SIZES = {"desktop": VIEWPORT, "phone": {"width": 390, "height": 844}}
LEAGUE = {("en", "desktop"): "hohhot", ("en", "phone"): "chifeng",
          ("zh", "desktop"): "wuhai", ("zh", "phone"): "alxa"}  # fmt: skip
WORDS = {
    "en": {
        "locale": "en-GB", "schedule": "every 5 minutes", "not_found": "Page not found",
        "tick": "The price must be a multiple of 1.00 yuan.", "quantity": "Quantity (t)",
        "carbon_quantity": "Quantity (tCO₂e)",
        "placed": r"Buy order \d+ placed: 3 t at 1,100\.00 yuan",
        "undone": "This cannot be undone.",
        "cancelled": "cancelled", "token": "Your API token", "why": "Nothing traded",
        "deposited": "Deposited 12.34 yuan to",
        "unknown_league": "Unknown league nope.", "not_utf8": "The file is not UTF-8 text",
    },
    "zh": {
        "locale": "zh-CN", "schedule": "每 5 分钟", "not_found": "页面不存在",
        "tick": "价格须为 1.00 元的整数倍。", "quantity": "数量（吨）",
        "carbon_quantity": "数量（吨二氧化碳当量）",
        "placed": r"买入订单 \d+ 已提交：.* 3吨，限价 1,100\.00 元", "undone": "此操作不可撤销。",
        "cancelled": "已撤销", "token": "您的 API 令牌", "why": "未成交",
        "deposited": "存入 12.34 元",
        "unknown_league": "未知盟市 nope。", "not_utf8": "文件不是 UTF-8 文本",
    },
}  # fmt: skip


class Person:
    """A browser context in one language and one size; checks every page it opens."""

    def __init__(self, browser: Any, server: LiveServer, shots: Path, lang: str, size: str):
        self.server, self.shots, self.lang, self.size = server, shots, lang, size
        self.width = SIZES[size]["width"]
        self.context = browser.new_context(viewport=SIZES[size], locale=WORDS[lang]["locale"])
        self.page = self.context.new_page()
        self.errors: list[str] = []
        self.page.on("console", lambda m: self.errors.append(m.text) if m.type == "error" else None)

    def login(self, user: str) -> None:
        self.goto("/login")
        self.page.fill("#username", user)
        self.page.fill("#password", f"demo-{user}")
        self.page.click("main button[type=submit]")
        self.page.wait_for_load_state()
        self.fits()

    def goto(self, path: str) -> Any:
        response = self.page.goto(self.server.url + path)
        assert response is not None
        self.fits()
        return response

    def fits(self) -> None:
        """The page is in the browser's language and does not scroll sideways."""
        lang = self.page.get_attribute("html", "lang")
        assert lang == ("zh-CN" if self.lang == "zh" else "en"), (self.page.url, lang)
        width = self.page.evaluate("document.documentElement.scrollWidth")
        assert width <= self.width + 1, f"{self.page.url} scrolls sideways ({width}px)"

    def shot(self, name: str, guide: bool = False) -> None:
        label = f"ux-{self.lang}-{self.size}-{name}"
        self.page.screenshot(path=str(self.shots / f"{label}.png"), full_page=True)
        if guide and REFRESH_GUIDE:
            self.page.screenshot(path=str(GUIDE_IMAGES / f"{label}.png"))

    def in_view(self, selector: str) -> bool:
        box = self.page.locator(selector).first.bounding_box()
        height = SIZES[self.size]["height"]
        return box is not None and box["y"] < height and box["y"] + box["height"] > 0


@pytest.fixture
def person(browser: Any, live_server: LiveServer, shots: Path) -> Iterator[Any]:
    people: list[Person] = []

    def start(lang: str, size: str) -> Person:
        people.append(Person(browser, live_server, shots, lang, size))
        return people[-1]

    yield start
    for one in people:
        one.context.close()
        assert not one.errors, f"console errors: {one.errors}"


@pytest.mark.parametrize("size", list(SIZES))
@pytest.mark.parametrize("lang", ["en", "zh"])
def test_public_pages_read_naturally(person: Any, lang: str, size: str) -> None:
    words = WORDS[lang]
    visitor = person(lang, size)
    visitor.goto("/")
    visitor.shot("home")
    visitor.goto("/markets/YR-WATER-2027")
    assert words["schedule"] in visitor.page.inner_text("#schedule")
    if lang == "zh":
        cap = visitor.page.locator("#market-cap span")
        assert cap.inner_text() == "58.6亿立方米"
        assert cap.get_attribute("title") == "5,860,000,000 立方米"
    visitor.goto(f"/markets/{MARKET}")
    visitor.page.locator("#market-runs a").first.click()
    visitor.page.wait_for_selector("#run-headline")
    visitor.fits()
    visitor.shot("public-run")
    response = visitor.goto("/no/such/page")
    assert response.status == 404
    assert visitor.page.inner_text("h1") == words["not_found"]
    visitor.errors.remove(
        "Failed to load resource: the server responded with a status of 404 (NOT FOUND)"
    )
    visitor.goto("/api/docs")
    assert visitor.page.locator("header.top").count() == 1
    assert visitor.page.inner_text('label[for="api-token"]') == words["token"]
    visitor.page.wait_for_selector(".swagger-ui .info", timeout=30_000)
    visitor.fits()


@pytest.mark.parametrize("size", list(SIZES))
@pytest.mark.parametrize("lang", ["en", "zh"])
def test_a_league_trades_with_words_it_reads(person: Any, lang: str, size: str) -> None:
    words = WORDS[lang]
    trader = person(lang, size)
    league = LEAGUE[(lang, size)]
    trader.login(league)
    assert trader.page.url.endswith("/desk")  # a league lands on its desk
    trader.page.click(f'.subnav a[href="/markets/{MARKET}"]')
    trader.page.click("#trade-link")
    trader.fits()
    assert trader.page.inner_text('label[for="quantity"]') == words["quantity"]
    chosen = trader.page.input_value("#market_id")
    only_cea = re.compile(r"^CEA-2026 ")  # not CEA-2026-L, the continuous market
    carbon = trader.page.locator("#market_id option", has_text=only_cea).get_attribute("value")
    trader.page.select_option("#market_id", value=carbon)  # the labels follow the market
    assert trader.page.inner_text('label[for="quantity"]') == words["carbon_quantity"]
    trader.page.select_option("#market_id", value=chosen)
    assert trader.page.inner_text('label[for="quantity"]') == words["quantity"]
    assert re.fullmatch(rf"{league}-\d{{8}}-\d{{6}}", trader.page.input_value("#client_order_id"))
    trader.page.check("#side-0")
    trader.page.fill("#quantity", "3")
    trader.page.fill("#limit_price", "1100.50")
    trader.page.click("#h-order ~ form button[type=submit]")
    trader.page.wait_for_selector("#order-errors")
    trader.fits()
    assert trader.page.inner_text("#limit_price-error") == words["tick"]
    assert trader.in_view("#order-errors"), "the error is not on screen after sending"
    trader.shot("order-error", guide=(lang, size) == ("zh", "phone"))
    trader.page.fill("#limit_price", "1100")
    trader.page.click("#h-order ~ form button[type=submit]")
    flash = trader.page.inner_text(".flash.success")
    assert re.search(words["placed"], flash), flash
    order_row = trader.page.locator("#open-orders tr[data-order]").first
    order_row.locator("a.button").click()
    trader.fits()
    assert words["undone"] in trader.page.inner_text("#confirm-note")
    trader.shot("cancel-confirm", guide=size == "phone")
    trader.page.click("#confirm-button")
    assert words["cancelled"] in trader.page.inner_text(".flash.success")
    trader.fits()


@pytest.mark.parametrize("size", list(SIZES))
@pytest.mark.parametrize("lang", ["en", "zh"])
def test_the_regulator_confirms_and_reads_the_run(person: Any, lang: str, size: str) -> None:
    words = WORDS[lang]
    regulator = person(lang, size)
    regulator.login("regulator")
    assert regulator.page.url.endswith("/regulator")
    regulator.page.click('#console-markets tr[data-market="SO2-2027"] a.button')
    regulator.fits()
    assert words["undone"] in regulator.page.inner_text("#confirm-note")
    regulator.page.click("#confirm-button")
    regulator.page.wait_for_selector("#run-headline")
    regulator.fits()
    assert regulator.page.locator("#run-details[open]").count() == 0  # timings folded away
    if regulator.page.locator("#why-no-trade").count():
        assert words["why"] in regulator.page.inner_text("#why-no-trade")
    regulator.shot("run", guide=size == "desktop")
    regulator.goto("/regulator")
    regulator.page.select_option("#deposit-league", "ordos")
    regulator.page.fill("#deposit-amount", "12.34")
    regulator.page.click("#h-deposit ~ form button[type=submit]")
    regulator.fits()
    assert words["undone"] in regulator.page.inner_text("#confirm-note")
    regulator.shot("deposit-confirm")
    regulator.page.click("#confirm-button")
    assert words["deposited"] in regulator.page.inner_text(".flash.success")
    regulator.goto("/runs")
    regulator.page.locator("#runs tr[data-run] a").first.click()
    regulator.page.wait_for_selector("#run-headline")
    regulator.fits()


@pytest.mark.parametrize("size", list(SIZES))
@pytest.mark.parametrize("lang", ["en", "zh"])
def test_the_auditor_lands_on_the_audit_with_date_pickers(
    person: Any, lang: str, size: str
) -> None:
    auditor = person(lang, size)
    auditor.login("auditor")
    assert re.search(r"/audit(\?|$)", auditor.page.url)
    assert auditor.page.get_attribute("#f-since", "type") == "date"
    auditor.page.fill("#f-since", "2020-01-01")
    auditor.page.click(".filters button[type=submit]")
    auditor.page.wait_for_load_state()
    auditor.fits()
    assert auditor.page.locator("tbody.journal").count() > 0
    auditor.shot("audit")


UPLOAD_FORM = 'form[action="/regulator/allocations/upload"]'


@pytest.mark.parametrize("size", list(SIZES))
@pytest.mark.parametrize("lang", ["en", "zh"])
def test_a_bad_allocation_file_is_explained_and_fits_a_phone(
    person: Any, lang: str, size: str
) -> None:
    """The rejected rows of an upload as cards on a phone, each reason in the page's
    language; a file that is not UTF-8 comes back beside the field."""
    words = WORDS[lang]
    regulator = person(lang, size)
    regulator.login("regulator")
    body = b"league,market,quantity\nnope,COD-2027,1\nordos,COD-2027,abc\nordos,COD-2027,2\n"
    regulator.page.set_input_files(
        "#upload-file", files=[{"name": "bad.csv", "mimeType": "text/csv", "buffer": body}]
    )
    regulator.page.click(f"{UPLOAD_FORM} button[type=submit]")
    regulator.page.locator("#rejected").wait_for(timeout=30_000)  # the check ran (refreshing)
    regulator.fits()
    assert words["unknown_league"] in regulator.page.inner_text("#rejected")
    regulator.shot("upload-rejected", guide=(lang, size) == ("zh", "phone"))
    regulator.goto("/regulator")
    regulator.page.set_input_files(
        "#upload-file",
        files=[{"name": "gbk.csv", "mimeType": "text/csv", "buffer": "盟市".encode("gbk")}],
    )
    regulator.page.click(f"{UPLOAD_FORM} button[type=submit]")
    regulator.page.wait_for_selector("#upload-file-error")
    regulator.fits()
    assert words["not_utf8"] in regulator.page.inner_text("#upload-file-error")
    regulator.errors[:] = [e for e in regulator.errors if "status of 422" not in e]
