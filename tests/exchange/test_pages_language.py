"""Pages as a person reads them, in both languages: no untranslated string in Chinese,
names not codes, refusals in yuan, schedules in words, 万/亿, error pages, stale forms."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest
from babel.messages.pofile import read_po
from flask import Flask

from exchange.web.i18n import CATALOGS
from tests.exchange import test_pages_flows
from tests.exchange.page_helpers import csrf_token, login
from tests.exchange.test_pages_flows import MARKET, market_id, order

world = test_pages_flows.world  # the fixture of those tests

BROWSER = {"Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}


def _english_only() -> set[str]:
    """Catalog strings whose Chinese differs (so English on a Chinese page is a miss)."""
    with (CATALOGS / "zh" / "LC_MESSAGES" / "messages.po").open("rb") as handle:
        catalog = read_po(handle, locale="zh")
    return {
        m.id
        for m in catalog
        if m.id and m.string != m.id and "%(" not in m.id and re.search(r"[A-Za-z]{2}", m.id)
    }


VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source",
        "track", "wbr", "path", "line", "circle", "rect", "polyline"}  # fmt: skip


class Texts(HTMLParser):
    """Every text node and person-facing attribute of a page; scripts, styles and text
    marked ``lang="en"`` (the English name beside the Chinese) or ``translate="no"``
    (user names) aside."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.texts: list[str] = []
        self._stack: list[bool] = []
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        for name, value in attrs:
            if name in ("title", "aria-label", "placeholder", "data-label", "alt") and value:
                self.texts.append(value.strip())
        if tag in VOID:
            return
        marked = tag != "html" and (a.get("lang") == "en" or a.get("translate") == "no")
        skip = tag in ("script", "style") or marked
        self._stack.append(skip)
        self._skip += skip

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for name, value in attrs:
            if name in ("title", "aria-label", "placeholder", "data-label", "alt") and value:
                self.texts.append(value.strip())

    def handle_endtag(self, tag: str) -> None:
        if tag in VOID or not self._stack:
            return
        self._skip -= self._stack.pop()

    def handle_data(self, data: str) -> None:
        if not self._skip and data.strip():
            self.texts.append(data.strip())


def texts(page: str) -> list[str]:
    parser = Texts()
    parser.feed(page)
    return parser.texts


@pytest.fixture
def traded(world: Flask) -> Flask:
    """A trade in COD-2027 (cleared), an open order, and a run of SO2 where nothing traded."""
    buyer, seller, regulator = world.test_client(), world.test_client(), world.test_client()
    login(buyer, "ordos-desk")
    login(seller, "baotou-desk")
    login(regulator, "rita")
    assert order(buyer, world, "buy", "10", "1900", "b-1").status_code == 302
    assert order(seller, world, "sell", "10", "1000", "s-1").status_code == 302
    token = csrf_token(regulator, "/regulator")
    assert (
        regulator.post(
            f"/regulator/markets/{market_id(world)}/clear", data={"csrf_token": token}
        ).status_code
        == 302
    )
    assert order(buyer, world, "buy", "3", "1100", "b-open").status_code == 302
    so2 = market_id(world, "SO2-2027")
    for client, side, price, key in ((buyer, "buy", "600", "lo"), (seller, "sell", "900", "hi")):
        response = client.post(
            "/desk/orders",
            data={"csrf_token": csrf_token(client, "/desk"), "market_id": str(so2),
                  "side": side, "quantity": "1", "limit_price": price, "validity": "gtc",
                  "client_order_id": key},
        )  # fmt: skip
        assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    response = regulator.post(
        f"/regulator/markets/{so2}/clear",
        data={"csrf_token": csrf_token(regulator, "/regulator")},
    )
    assert response.status_code == 302
    return world


def _pages(app: Flask, user: str) -> list[str]:
    paths = {
        "ordos-desk": ["/desk", f"/desk/statement?asset={MARKET}", "/desk/statement?asset=cash"],
        "rita": ["/regulator", "/runs", "/runs/1", "/runs/2", "/audit", "/audit/verify"],
        "abe": ["/audit", "/runs", "/runs/1"],
        "": ["/", f"/markets/{MARKET}", "/markets/YR-WATER-2027", f"/markets/{MARKET}/runs/1",
             "/markets/SO2-2027/runs/2", "/login", "/api/docs", "/no-such-page"],
    }  # fmt: skip
    return paths[user]


@pytest.mark.parametrize("user", ["", "ordos-desk", "rita", "abe"])
def test_no_page_in_chinese_shows_an_untranslated_catalog_string(traded: Flask, user: str) -> None:
    english = _english_only()
    client = traded.test_client()
    if user:
        login(client, user)
    client.get("/?lang=zh")
    for path in _pages(traded, user):
        response = client.get(path, headers=BROWSER)
        assert response.status_code in (200, 404), (path, response.status_code)
        page = response.get_data(as_text=True)
        assert '<html lang="zh-CN">' in page, path
        shown = set(texts(page))
        assert shown & english == set(), (path, sorted(shown & english))
