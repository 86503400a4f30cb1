"""Issue 17, page by page and in both languages (no browser): what a person reads and
where they land. The browser tests (tests/e2e) check the same at desktop and phone size."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient

from exchange.models import utcnow
from exchange.schedule import EXCHANGE_TZ
from tests.exchange import test_pages_flows, test_pages_language
from tests.exchange.page_helpers import csrf_token, login
from tests.exchange.test_pages_flows import MARKET, market_id, order
from tests.exchange.test_pages_language import BROWSER, texts

pytestmark = pytest.mark.slow  # each test seeds the demo ledger and trades through the pages

world = test_pages_flows.world  # fixtures shared with those tests
traded = test_pages_language.traded

LANGS = ["en", "zh"]


def client_in(app: Flask, lang: str, user: str = "") -> FlaskClient:
    client = app.test_client()
    if user:
        login(client, user)
    client.get(f"/?lang={lang}")
    return client


def page(client: FlaskClient, path: str, **kw: object) -> str:
    response = client.get(path, headers=BROWSER, **kw)  # type: ignore[arg-type]
    assert response.status_code == 200, (path, response.status_code)
    return response.get_data(as_text=True)


def one(pattern: str, text: str) -> str:
    match = re.search(pattern, text, re.S)
    assert match, pattern
    return match.group(1)


# ----------------------------------------------------------------- 2. the page's language


@pytest.mark.parametrize(
    ("lang", "message"),
    [("en", "The price must be a multiple of 1.00 yuan."), ("zh", "价格须为 1.00 元的整数倍。")],
)
def test_a_refusal_is_worded_in_yuan_in_the_page_language(
    world: Flask, lang: str, message: str
) -> None:
    client = client_in(world, lang, "ordos-desk")
    response = order(client, world, "buy", "7", "1234.5", "k-1")
    html = response.get_data(as_text=True)
    assert one(r'<p class="field-error" id="limit_price-error">([^<]*)</p>', html) == message
    assert 'id="order-errors"' in html and 'value="1234.5"' in html  # input kept
    assert "150050" not in html and "limit_price 1" not in html


def test_the_api_keeps_its_english_message_and_code(world: Flask, auth) -> None:  # type: ignore[no-untyped-def]
    client = world.test_client()
    body = {"market_id": market_id(world), "side": "buy", "quantity": 1, "limit_price": 123450,
            "client_order_id": "api-1"}  # fmt: skip
    headers = {**auth("league", "ordos"), "Accept-Language": "zh-CN"}
    response = client.post("/api/v1/orders", json=body, headers=headers)
    assert response.status_code == 422
    assert response.get_json()["error"] == "validation_error"
    assert "tick grid" in response.get_json()["message"]


@pytest.mark.parametrize(("lang", "title"), [("en", "Page not found"), ("zh", "页面不存在")])
def test_a_browser_gets_the_sites_404_page_and_api_clients_keep_json(
    world: Flask, lang: str, title: str
) -> None:
    client = client_in(world, lang)
    response = client.get("/no/such/page", headers=BROWSER)
    assert response.status_code == 404 and response.mimetype == "text/html"
    html = response.get_data(as_text=True)
    assert f"<h1>{title}</h1>" in html and 'class="top"' in html  # the site's header
    for path, headers in (
        ("/no/such/page", {"Accept": "*/*"}),
        ("/no/such/page", {"Accept": "application/json"}),
        ("/api/v1/no-such", BROWSER),
    ):
        answer = client.get(path, headers=headers)
        assert answer.status_code == 404 and answer.mimetype == "application/json", path
        assert answer.get_json()["error"] == "not_found"


@pytest.mark.parametrize(("lang", "words"), [("en", "Not allowed"), ("zh", "无权访问")])
def test_forbidden_page_in_the_page_language(world: Flask, lang: str, words: str) -> None:
    client = client_in(world, lang, "ordos-desk")
    response = client.get("/regulator", headers=BROWSER)
    assert response.status_code == 403
    assert f"<h1>{words}</h1>" in response.get_data(as_text=True)


@pytest.mark.parametrize(
    ("lang", "league", "status", "trigger"),
    [("en", "Ordos", "completed", "manual (clear now)"),
     ("zh", "鄂尔多斯市", "已完成", "手动（立即出清）")],
)  # fmt: skip
def test_names_statuses_and_triggers_not_codes(
    traded: Flask, lang: str, league: str, status: str, trigger: str
) -> None:
    desk = page(client_in(traded, lang, "ordos-desk"), "/desk")
    assert one(r"<h1>(.*?)</h1>", desk).endswith(league)
    runs = page(client_in(traded, lang, "rita"), "/runs")
    shown = texts(runs)
    assert status in shown and trigger in shown
    assert "completed" not in shown or lang == "en"
    assert "ordos" not in texts(page(client_in(traded, lang, "rita"), "/runs/1"))


@pytest.mark.parametrize(
    ("lang", "cap", "exact"),
    [("en", "5,860,000,000 m³", None), ("zh", "58.6亿立方米", "5,860,000,000 立方米")],
)
def test_large_quantities_in_wan_and_yi_with_the_exact_figure_on_hover(
    world: Flask, lang: str, cap: str, exact: str | None
) -> None:
    html = page(client_in(world, lang), "/markets/YR-WATER-2027")
    cell = one(r'<dd id="market-cap">(.*?)</dd>', html)
    assert f">{cap}</span>" in cell
    if exact:
        assert f'title="{exact}"' in cell
    index = page(client_in(world, lang), "/")
    assert "5,860,000,000" in index  # tables keep the exact figure


# ----------------------------------------------------------------- 3. schedules and times


@pytest.mark.parametrize(
    ("lang", "words"),
    [("en", "every 5 minutes, Beijing time"), ("zh", "每 5 分钟（北京时间）")],
)
def test_a_schedule_reads_as_words(world: Flask, lang: str, words: str) -> None:
    html = page(client_in(world, lang), "/markets/YR-WATER-2027")
    assert one(r'<dd id="schedule"[^>]*>(.*?)</dd>', html) == words


def test_audit_dates_are_beijing_days_with_date_pickers(traded: Flask) -> None:
    client = client_in(traded, "en", "abe")
    today = utcnow().astimezone(EXCHANGE_TZ).date()
    html = page(client, f"/audit?since={today}&until={today}")
    assert 'type="date"' in html and "data-journal=" in html
    before = page(client, f"/audit?until={today - timedelta(days=1)}")
    assert "data-journal=" not in before
    after = page(client, f"/audit?since={today + timedelta(days=1)}")
    assert "data-journal=" not in after


def test_statement_is_newest_first_on_screen(traded: Flask) -> None:
    html = page(client_in(traded, "en", "ordos-desk"), "/desk/statement?asset=cash")
    ids = [int(x) for x in re.findall(r'<td data-label="Journal">(\d+)</td>', html)]
    assert len(ids) >= 2 and ids == sorted(ids, reverse=True)


# ----------------------------------------------------------------- 4. confirmations


@pytest.mark.parametrize(("lang", "words"), [("en", "This form had expired"), ("zh", "表单已过期")])
def test_a_stale_form_comes_back_with_the_input_kept(world: Flask, lang: str, words: str) -> None:
    client = client_in(world, lang, "ordos-desk")
    response = client.post(
        "/desk/orders",
        data={"csrf_token": "expired", "market_id": str(market_id(world)), "side": "sell",
              "quantity": "17", "limit_price": "1234.00", "validity": "gtc",
              "client_order_id": "kept-ref"},
        headers=BROWSER,
    )  # fmt: skip
    html = response.get_data(as_text=True)
    assert response.status_code == 400 and response.mimetype == "text/html"
    assert words in html
    assert 'value="17"' in html and 'value="1234.00"' in html and 'value="kept-ref"' in html
    assert (
        'value="sell" checked' in html
        or 'checked value="sell"' in html
        or re.search(
            r'<input[^>]*checked[^>]*value="sell"|<input[^>]*value="sell"[^>]*checked', html
        )
    )
    assert "data-order=" not in html  # nothing was placed


@pytest.mark.parametrize(
    ("lang", "expected"),
    [("en", r"Sell order \d+ placed: 5 t at 1,500\.00 yuan, [^.]+\. Next clearing run: "
            r"\d{4}-\d\d-\d\d \d\d:\d\d \(Beijing time\)\."),
     ("zh", r"卖出订单 \d+ 已提交：化学需氧量排污权 2027年度 5吨，限价 1,500\.00 元。"
            r"下次出清：\d{4}-\d\d-\d\d \d\d:\d\d（北京时间）。")],
)  # fmt: skip
def test_success_messages_say_what_happened(world: Flask, lang: str, expected: str) -> None:
    client = client_in(world, lang, "ordos-desk")
    assert order(client, world, "sell", "5", "1500.00", "said").status_code == 302
    flash = one(r'<p class="flash success" role="status">(.*?)</p>', page(client, "/desk"))
    assert re.fullmatch(expected, flash), flash


@pytest.mark.parametrize(
    ("lang", "words"), [("en", "This cannot be undone."), ("zh", "此操作不可撤销。")]
)
def test_clear_now_and_cancel_show_a_summary_first(world: Flask, lang: str, words: str) -> None:
    regulator = client_in(world, lang, "rita")
    summary = page(regulator, f"/regulator/markets/{market_id(world)}/clear")
    assert words in summary and 'id="confirm-button"' in summary
    assert page(regulator, "/runs").count("data-run=") == 0  # nothing cleared by looking
    console = page(regulator, "/regulator")
    assert f'href="/regulator/markets/{market_id(world)}/clear"' in console
    desk = client_in(world, lang, "ordos-desk")
    assert order(desk, world, "buy", "2", "1100", "to-cancel").status_code == 302
    order_id = one(r'<tr data-order="(\d+)">', page(desk, "/desk"))
    confirm = page(desk, f"/desk/orders/{order_id}/cancel")
    assert words in confirm and "2,200.00" in confirm  # the cash released


# ----------------------------------------------------------------- 5. navigation


@pytest.mark.parametrize(
    ("user", "landing"), [("ordos-desk", "/desk"), ("rita", "/regulator"), ("abe", "/audit")]
)
def test_each_role_lands_on_its_own_page(world: Flask, user: str, landing: str) -> None:
    client = world.test_client()
    response = client.post(
        "/login",
        data={"username": user, "password": "correct horse battery",
              "csrf_token": csrf_token(client)},
    )  # fmt: skip
    assert response.status_code == 302 and response.headers["Location"] == landing


@pytest.mark.parametrize("lang", LANGS)
def test_desk_market_and_run_pages_link_to_each_other(traded: Flask, lang: str) -> None:
    league = client_in(traded, lang, "ordos-desk")
    desk = page(league, "/desk")
    assert f'href="/markets/{MARKET}"' in desk  # the desk links to its markets
    assert f'href="/markets/{MARKET}/runs/1"' in desk  # a fill links to its run
    market = page(league, f"/markets/{MARKET}")
    assert f'id="trade-link" href="/desk?market={MARKET}#h-order"' in market
    assert re.search(rf'<tr data-run="1"><td[^>]*><a href="/markets/{MARKET}/runs/1">', market)
    run = page(league, f"/markets/{MARKET}/runs/1")
    assert 'id="own-fills"' in run  # the league's fills in a run it traded in
    other = page(client_in(traded, lang, "baotou-desk"), "/markets/SO2-2027/runs/2")
    assert 'id="own-fills"' not in other
    chosen = page(league, f"/desk?market={MARKET}")
    mid = market_id(traded)
    assert re.search(rf'<option selected value="{mid}">|<option value="{mid}" selected>', chosen)
    runs = page(client_in(traded, lang, "rita"), "/runs")
    assert re.search(r'<tr data-run="\d+" class="linked"><td[^>]*><a href="/runs/\d+">', runs)


def test_recent_runs_page_on(world: Flask) -> None:
    regulator = client_in(world, "en", "rita")
    from exchange.extensions import db
    from exchange.models import ClearingRun, RunStatus, RunTrigger

    mid = market_id(world)
    with world.app_context():
        session = db.session_factory()
        now = utcnow()
        for i in range(12):
            run = ClearingRun(market_id=mid, window=now - timedelta(minutes=5 * i),
                              status=RunStatus.COMPLETED, trigger=RunTrigger.SCHEDULE, volume=0,
                              order_count=0, started_at=now, triggered_by="scheduler")  # fmt: skip
            session.add(run)
        session.commit()
        session.close()
    first = page(regulator, f"/markets/{MARKET}")
    assert first.count("<tr data-run=") == 10 and 'rel="next"' in first
    second = page(regulator, f"/markets/{MARKET}?page=2")
    assert second.count("<tr data-run=") == 2 and 'rel="prev"' in second


@pytest.mark.parametrize(("lang", "label"), [("en", "Your API token"), ("zh", "您的 API 令牌")])
def test_api_docs_have_the_site_header_and_a_token_field(
    world: Flask, lang: str, label: str
) -> None:
    html = page(client_in(world, lang), "/api/docs")
    assert 'class="top"' in html and f'<label for="api-token">{label}</label>' in html
    assert 'src="/static/api-docs.js"' in html and "swagger-ui-bundle.js" in html


# ----------------------------------------------------------------- 6. run detail


@pytest.mark.parametrize(
    ("lang", "public", "regulator"),
    [("en", "Nothing traded: every bid was below every offer.",
      "Nothing traded: the best bid (600.00 yuan) was below the best offer (900.00 yuan)."),
     ("zh", "未成交：所有买价均低于所有卖价。",
      "未成交：最高买价（600.00 元）低于最低卖价（900.00 元）。")],
)  # fmt: skip
def test_run_headline_says_why_nothing_traded(
    traded: Flask, lang: str, public: str, regulator: str
) -> None:
    """Everyone reads why; only who may see the curves reads the sealed prices."""
    for user, path, why in (("", "/markets/SO2-2027/runs/2", public),
                            ("baotou-desk", "/markets/SO2-2027/runs/2", public),
                            ("rita", "/runs/2", regulator)):  # fmt: skip
        html = page(client_in(traded, lang, user), path)
        assert one(r'<p class="why" id="why-no-trade" role="note">(.*?)</p>', html) == why
        assert ("600.00" in html) is (user == "rita"), user


def test_run_detail_shows_bids_and_bidders_and_a_price_sorted_book(
    traded: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    # "clear now" clears the window of this second: a minute later than the fixture's
    # run, so that this is a new run even when both fall in one second
    later = utcnow() + timedelta(minutes=1)
    monkeypatch.setattr("exchange.web.console.utcnow", lambda: later)
    client = client_in(traded, "en", "rita")
    buyer = client_in(traded, "en", "baotou-desk")
    for price, key in (("1200", "x1"), ("1300", "x2")):
        assert order(buyer, traded, "buy", "1", price, key).status_code == 302
    token = csrf_token(client, "/regulator")
    run = client.post(f"/regulator/markets/{market_id(traded)}/clear", data={"csrf_token": token})
    html = page(client, run.headers["Location"])
    head = one(r'<dl class="facts headline" id="run-headline">(.*?)</dl>', html)
    assert "3 bids from 2 leagues, 0 offers from 0 leagues" in head
    bids = one(r'<table class="cards" id="book-bids">(.*?)</table>', html)
    prices = re.findall(r'data-label="Limit \(yuan\)">([\d,.]+)<', bids)
    assert prices == sorted(prices, key=lambda p: -float(p.replace(",", ""))) and len(prices) == 3
    assert '<details class="run-details" id="run-details">' in html
    assert html.index('id="run-headline"') < html.index('id="run-details"')


# ----------------------------------------------------------------- 7. order form


@pytest.mark.parametrize(
    ("lang", "quantity", "hint"),
    [("en", "Quantity (t)", "Lot: 1 t; a multiple of it."),
     ("zh", "数量（吨）", "交易单位：1 吨；数量须为其整数倍。")],
)  # fmt: skip
def test_order_form_shows_unit_lot_and_tick(
    world: Flask, lang: str, quantity: str, hint: str
) -> None:
    html = page(client_in(world, lang, "ordos-desk"), f"/desk?market={MARKET}")
    assert f'<label for="quantity">{quantity}</label>' in html
    assert f'<small id="quantity-hint" class="hint">{hint}</small>' in html
    assert 'id="limit_price-hint"' in html and "1.00" in one(
        r'id="limit_price-hint"[^>]*>(.*?)<', html
    )
    reference = one(r'id="client_order_id"[^>]*value="([^"]+)"', html)
    assert re.fullmatch(r"ordos-\d{8}-\d{6}", reference)
    assert 'action="/desk/orders#h-order"' in html  # back at the form after an error


# ----------------------------------------------------------------- 8. phone


def test_every_table_collapses_to_cards_with_labelled_cells(traded: Flask) -> None:
    pages = {"": ["/", f"/markets/{MARKET}", f"/markets/{MARKET}/runs/1"],
             "ordos-desk": ["/desk", "/desk/statement?asset=cash"],
             "rita": ["/regulator", "/runs", "/runs/1", "/audit"]}  # fmt: skip
    for user, paths in pages.items():
        client = client_in(traded, "zh", user)
        for path in paths:
            html = page(client, path)
            for table in re.findall(r"<table[^>]*>.*?</table>", html, re.S):
                assert 'class="cards' in table[:120] or "journals cards" in table[:120], (
                    path, table[:120])  # fmt: skip
                for cell in re.findall(r"<td(?![^>]*colspan)([^>]*)>", table):
                    assert "data-label=" in cell or cell.strip() == "", (path, cell)


@pytest.mark.parametrize(
    ("lang", "text"),
    [("en", "Chemical oxygen demand; auctions start from the paid-use fee."),
     ("zh", "化学需氧量；竞价自有偿使用费起。")],
)  # fmt: skip
def test_a_market_description_in_the_page_language(world: Flask, lang: str, text: str) -> None:
    html = page(client_in(world, lang), f"/markets/{MARKET}")
    assert one(r'<p class="lead" id="market-description"[^>]*>(.*?)</p>', html) == text
    title = one(r"<h1>(.*?) <small>", html)
    assert title == ("化学需氧量排污权 2027年度" if lang == "zh" else "COD discharge rights, 2027")
