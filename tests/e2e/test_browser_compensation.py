"""Issue 15 in Chromium: the public report of the demo's compensation agreement (Bayannur
upstream, Baotou downstream, 24 settled months) on a desktop and a phone, in both languages:
both charts drawn, every month in the table, the CSV downloads, nothing scrolls sideways."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.e2e.conftest import VIEWPORT, LiveServer

pytestmark = pytest.mark.slow  # a real browser against a live server

SIZES = {"desktop": VIEWPORT, "phone": {"width": 390, "height": 844}}
WORDS = {
    "en": {"locale": "en-GB", "upstream": "Bayannur", "title": "Cumulative payments"},
    "zh": {"locale": "zh-CN", "upstream": "巴彦淖尔市", "title": "累计补偿金额"},
}


@pytest.mark.parametrize("size", list(SIZES))
@pytest.mark.parametrize("lang", ["en", "zh"])
def test_public_report_in_the_browser(
    browser: Any, live_server: LiveServer, shots: Path, lang: str, size: str
) -> None:
    words = WORDS[lang]
    context = browser.new_context(
        viewport=SIZES[size], locale=words["locale"], accept_downloads=True
    )
    errors: list[str] = []
    try:
        page = context.new_page()
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.goto(live_server.url + "/compensation")
        page.locator("#agreements a").first.click()
        page.wait_for_selector("#periods")
        assert words["upstream"] in page.inner_text("main")
        assert page.locator("#periods tbody tr").count() == 24
        charts = page.locator("svg.chart")
        assert charts.count() == 2
        for index in range(2):
            box = charts.nth(index).bounding_box()
            assert box is not None and box["width"] > 300 and box["height"] > 100
        assert charts.nth(1).get_attribute("aria-label") == words["title"]
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= SIZES[size]["width"] + 1, f"the report scrolls sideways ({width}px)"
        page.screenshot(path=str(shots / f"compensation-{lang}-{size}.png"), full_page=True)
        with page.expect_download() as download:
            page.locator('a[href$="/report.csv"]').click()
        text = Path(download.value.path()).read_text(encoding="utf-8")
        assert text.startswith("period,target_class,measured_class")
        assert len(text.strip().splitlines()) == 25
    finally:
        context.close()
    assert not errors, f"console errors: {errors}"
