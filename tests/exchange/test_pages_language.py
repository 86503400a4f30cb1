"""Pages as a person reads them, in both languages: no untranslated string in Chinese,
names not codes, refusals in yuan, schedules in words, 万/亿, error pages, stale forms."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterator
from html.parser import HTMLParser
from urllib.parse import urljoin, urlsplit

import pytest
from babel.messages.pofile import read_po
from flask import Flask
from flask.testing import FlaskClient

from exchange.web.i18n import CATALOGS
from tests.exchange import test_pages_flows
from tests.exchange.page_helpers import csrf_token, login
from tests.exchange.test_pages_flows import MARKET, market_id, order

pytestmark = pytest.mark.slow  # crawls every page of every role

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


START = {
    "ordos-desk": ["/desk", f"/desk/statement?asset={MARKET}", "/desk/statement?asset=cash",
                   "/regulator", "/audit", "/runs/1", "/desk/statement?asset=NOPE"],
    "rita": ["/regulator", "/runs", "/runs/1", "/runs/2", "/audit", "/audit/verify",
             "/regulator/uploads/999", "/runs/999", "/desk",
             "/audit?since=not-a-date&league=nope", "/audit?market=NOPE&kind=allocation"],
    "abe": ["/audit", "/runs", "/runs/1", "/regulator", "/desk", "/audit/verify/999"],
    "": ["/", f"/markets/{MARKET}", "/markets/YR-WATER-2027", f"/markets/{MARKET}/runs/1",
         "/markets/SO2-2027/runs/2", "/login", "/api/docs", "/no-such-page", "/markets/NOPE",
         f"/markets/{MARKET}/runs/999", "/regulator/allocations"],
}  # fmt: skip
NOT_PAGES = ("/logout", "/api/v1", "/openapi.json", "/metrics", "/static/")
PER_KIND = 2  # pages of one address pattern (ids aside) looked at
MAX_PAGES = 60


class Links(HTMLParser):
    """The ``href`` of every link of a page."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.links: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        href = dict(attrs).get("href")
        if tag == "a" and href:
            self.links.append(href)


def _followed(href: str, here: str) -> str | None:
    """The path of a link to follow (this site's pages, not downloads nor English), or None."""
    url = urlsplit(urljoin("http://localhost" + here, href))
    if url.netloc != "localhost" or url.path.startswith(NOT_PAGES):
        return None
    if url.path.endswith((".csv", ".jsonl", ".json")) or "lang=en" in url.query:
        return None
    return url.path + ("?" + url.query if url.query else "")


def crawl(client: FlaskClient, start: list[str]) -> Iterator[tuple[str, int, str]]:
    """``(path, status, page)`` of the pages reachable by links from ``start``: at most
    ``PER_KIND`` of one address pattern (numbers aside), ``MAX_PAGES`` in all."""
    queue, seen, kinds = list(start), set(), Counter[str]()
    while queue and len(seen) < MAX_PAGES:
        path = queue.pop(0)
        kind = re.sub(r"\d+", "N", path)
        if path in seen or kinds[kind] >= PER_KIND:
            continue
        seen.add(path)
        kinds[kind] += 1
        response = client.get(path, headers=BROWSER)
        if response.status_code in (301, 302, 303):
            queue.append(urlsplit(response.headers["Location"]).path)
            continue
        page = response.get_data(as_text=True)
        yield path, response.status_code, page
        links = Links()
        links.feed(page)
        queue.extend(p for p in (_followed(h, path) for h in links.links) if p and p not in seen)


@pytest.mark.parametrize("user", ["", "ordos-desk", "rita", "abe"])
def test_no_page_in_chinese_shows_an_untranslated_catalog_string(traded: Flask, user: str) -> None:
    """Every page a role reaches by links from its start pages, error pages included
    (403 of another role's page, 404 of an unknown address or id, a bad filter)."""
    english = _english_only()
    client = traded.test_client()
    if user:
        login(client, user)
    client.get("/?lang=zh")
    statuses: Counter[int] = Counter()
    for path, status, page in crawl(client, [*START[user], "/no-such-page"]):
        statuses[status] += 1
        assert status in (200, 403, 404, 405, 422), (path, status)
        assert '<html lang="zh-CN">' in page, path
        shown = set(texts(page))
        assert shown & english == set(), (path, sorted(shown & english))
        left = LEFT_ENGLISH.findall(" ".join(shown))
        assert not left, (path, left)
        half_width = [t for t in shown if HALF_WIDTH_ASIDE.search(t)]  # 成交量 (立方米)
        assert not half_width, (path, half_width)
    assert statuses[200] >= 5 and statuses[404] >= 1, statuses  # the crawl went somewhere
    if user in ("ordos-desk", "abe"):
        assert statuses[403] >= 1, statuses


HALF_WIDTH_ASIDE = re.compile(r"[\u4e00-\u9fff] \(")  # Chinese asides take （）

# English sentences the services and the job runner write (the API keeps them), which a
# Chinese page must word itself: a sign that a refusal went through untranslated.
LEFT_ENGLISH = re.compile(
    r"Refused: |is not on the tick grid|not a positive|unknown (league|market) |no job with|"
    r"no run with|not UTF-8|larger than|already imported|waiting for a job runner|"
    r"The request was not understood|does not exist"
)
