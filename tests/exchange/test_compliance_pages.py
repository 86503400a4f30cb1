"""Compliance pages: the public report, the league's desk (surrender), the console (figures)."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
from flask import Flask

from exchange.models import Role
from tests.exchange.compliance_helpers import matrix_period
from tests.exchange.page_helpers import PageChecker, csrf_token, login, make_user
from tests.exchange.test_pages_language import _english_only, texts
from tests.exchange.trading_helpers import fund, market_id


@pytest.fixture
def site(demo_registry: Flask) -> tuple[Flask, int]:
    fund(demo_registry, rights={("ordos", market_id(demo_registry, "CEA-2026")): 10_000})
    make_user(demo_registry, "ordos-desk", Role.LEAGUE, "ordos")
    make_user(demo_registry, "rita", Role.REGULATOR)
    period = matrix_period(demo_registry, "CEA-2026", "ordos")  # ordos: verified 1,000,000
    return demo_registry, period


def _clean(page: str) -> None:
    assert PageChecker().check(page) == []


def test_public_pages_in_chinese_show_no_english(site: tuple[Flask, int]) -> None:
    app, period = site
    client = app.test_client()
    english = _english_only()
    for path in ("/compliance", f"/compliance/{period}"):
        page = client.get(path + "?lang=zh").get_data(as_text=True)
        _clean(page)
        leaked = [t for t in texts(page) if t in english]
        assert not leaked, (path, leaked)
    report = client.get(f"/compliance/{period}?lang=zh").get_data(as_text=True)
    assert "鄂尔多斯市" in report and "B：清缴不足" in report and "C：缺少核查数据" not in report
    assert f"/api/v1/compliance/periods/{period}/report.csv" in report


def test_league_surrenders_from_its_desk(site: tuple[Flask, int]) -> None:
    app, period = site
    client = app.test_client()
    login(client, "ordos-desk")
    page = client.get("/desk/compliance?lang=zh").get_data(as_text=True)
    _clean(page)
    english = _english_only()
    assert not [t for t in texts(page) if t in english]
    assert 'class="chart"' in page and "清缴截止日期" in page
    match = re.search(r'name="p\d+-csrf_token" type="hidden" value="([^"]+)"', page)
    assert match, page[:500]
    token = match.group(1)
    response = client.post(
        f"/desk/compliance/{period}/surrender",
        data={f"p{period}-csrf_token": token, f"p{period}-quantity": "2,000"},
        follow_redirects=True,
    )
    body = response.get_data(as_text=True)
    assert response.status_code == 200 and "已永久清缴 2,000 单位" in body, body[:3000]
    report = app.test_client().get(f"/api/v1/compliance/periods/{period}/status").get_json()
    ordos = next(r for r in report["leagues"] if r["league"] == "ordos")
    assert ordos["surrendered"] == 2_000
    too_much = client.post(
        f"/desk/compliance/{period}/surrender",
        data={f"p{period}-csrf_token": token, f"p{period}-quantity": "9000"},
        follow_redirects=True,
    )
    assert "您可用的数量不足。" in too_much.get_data(as_text=True)


def test_regulator_console_enters_a_figure(site: tuple[Flask, int]) -> None:
    app, period = site
    client = app.test_client()
    login(client, "rita")
    page = client.get(f"/regulator/compliance/{period}?lang=zh").get_data(as_text=True)
    _clean(page)
    assert 'class="chart"' in page and "鄂尔多斯市" in page  # the risk chart
    english = _english_only()
    assert not [t for t in texts(page) if t in english]
    token = csrf_token(client, f"/regulator/compliance/{period}")
    response = client.post(
        f"/regulator/compliance/{period}/figures",
        data={"csrf_token": token, "league": "baotou", "verified": "1200", "evidence": "r.pdf"},
    )
    assert response.status_code == 302
    status = app.test_client().get(f"/api/v1/compliance/periods/{period}/status").get_json()
    baotou = next(r for r in status["leagues"] if r["league"] == "baotou")
    assert baotou["verified"] == 1_200 and baotou["status"] == "B"
    assert re.search(r"\d{4}-\d{2}-\d{2}", status["as_of"])
    assert status["as_of"] == datetime.now(UTC).date().isoformat()


def test_regulator_checks_a_csv_then_saves_all_rows(site: tuple[Flask, int]) -> None:
    app, period = site
    client = app.test_client()
    login(client, "rita")
    client.get("/?lang=zh")
    token = csrf_token(client, f"/regulator/compliance/{period}")
    url = f"/regulator/compliance/{period}/figures.csv"
    bad = client.post(url, data={"csrf_token": token, "csv": "league,verified\nbaotou,x\n"})
    page = bad.get_data(as_text=True)
    assert bad.status_code == 200 and "Not a whole number" not in page
    assert 'id="csv-preview"' in page and 'name="confirm"' not in page
    good = "league,verified\nbaotou,1200\nwuhai,900\n"
    checked = client.post(url, data={"csrf_token": token, "csv": good}).get_data(as_text=True)
    assert 'name="confirm"' in checked
    _clean(checked)
    saved = client.post(url, data={"csrf_token": token, "csv": good, "confirm": "1"})
    assert saved.status_code == 302
    status = app.test_client().get(f"/api/v1/compliance/periods/{period}/status").get_json()
    verified = {r["league"]: r["verified"] for r in status["leagues"]}
    assert (verified["baotou"], verified["wuhai"]) == (1_200, 900)


def test_calculator_fills_the_allocation_preview(site: tuple[Flask, int]) -> None:
    app, _period = site
    client = app.test_client()
    login(client, "rita")
    page = client.get(
        "/regulator/calculators?kind=energy&new_use=10000&b_permille=300"
        "&intensity_milli=500&average_milli=400&lang=zh"
    ).get_data(as_text=True)
    _clean(page)
    assert 'name="alloc-quantity"' in page and 'value="3750"' in page
    english = _english_only()
    assert not [t for t in texts(page) if t in english]
    bad = client.get("/regulator/calculators?kind=energy&new_use=1&b_permille=200"
                     "&intensity_milli=1&average_milli=1").get_data(as_text=True)  # fmt: skip
    assert 'name="alloc-quantity"' not in bad


def test_league_reports_a_month_and_objects_once_from_its_desk(site: tuple[Flask, int]) -> None:
    app, period = site
    client = app.test_client()
    login(client, "ordos-desk")
    page = client.get("/desk/compliance?lang=zh").get_data(as_text=True)
    _clean(page)

    def token(prefix: str) -> str:
        html = client.get("/desk/compliance").get_data(as_text=True)
        match = re.search(rf'name="{prefix}-csrf_token" type="hidden" value="([^"]+)"', html)
        assert match, html[:300]
        return match.group(1)

    m, o = f"m{period}", f"o{period}"
    saved = client.post(
        f"/desk/compliance/{period}/monthly",
        data={f"{m}-csrf_token": token(m), f"{m}-month": "3", f"{m}-quantity": "80,000"},
        follow_redirects=True,
    )
    assert "月度数据已保存。" in saved.get_data(as_text=True)
    with app.app_context():
        from exchange.compliance.figures import monthly_figures
        from exchange.extensions import db

        s = db.session_factory()
        try:
            months = {r.month: r.quantity for r in monthly_figures(s, period, "ordos")}
        finally:
            s.close()
    assert months == {3: 80_000}
    filed = client.post(
        f"/desk/compliance/{period}/objections",
        data={f"{o}-csrf_token": token(o), f"{o}-reason": "meter fault", f"{o}-proposed": "900000"},
        follow_redirects=True,
    )
    body = filed.get_data(as_text=True)
    assert "异议已提交" in body and "目前不能提出异议" not in body  # the objection is listed
    assert f'name="{o}-reason"' not in body  # once only


def test_league_pays_its_paid_use_bill_from_the_desk(site: tuple[Flask, int]) -> None:
    from tests.exchange.compliance_helpers import matrix_bill

    app, _period = site
    fund(app, cash={"ordos": 10**8})
    bill = matrix_bill(app, "ordos")  # 1 t COD for five years: 5,000 yuan
    client = app.test_client()
    login(client, "ordos-desk")
    page = client.get("/desk/compliance?lang=zh").get_data(as_text=True)
    _clean(page)
    assert "有偿使用费账单" in page and "5,000.00" in page
    match = re.search(rf'name="b{bill}-csrf_token" type="hidden" value="([^"]+)"', page)
    assert match
    field = f"b{bill}-amount"
    part = client.post(
        f"/desk/paid-use/bills/{bill}/pay",
        data={f"b{bill}-csrf_token": match.group(1), field: "100"},
        follow_redirects=True,
    ).get_data(as_text=True)
    assert "1000万元以下的账单须一次付清" in part
    paid = client.post(
        f"/desk/paid-use/bills/{bill}/pay",
        data={f"b{bill}-csrf_token": match.group(1), field: "5,000"},
        follow_redirects=True,
    ).get_data(as_text=True)
    assert "已支付 5,000.00 元。" in paid and f'name="{field}"' not in paid


def test_a_surrender_form_sent_twice_surrenders_once(site: tuple[Flask, int]) -> None:
    app, period = site
    client = app.test_client()
    login(client, "ordos-desk")
    page = client.get("/desk/compliance").get_data(as_text=True)
    token = re.search(r'name="p\d+-csrf_token" type="hidden" value="([^"]+)"', page)
    ref = re.search(rf'name="p{period}-client_ref" type="hidden" value="(desk-[0-9a-f]+)"', page)
    assert token and ref, page[:500]
    form = {f"p{period}-csrf_token": token.group(1), f"p{period}-quantity": "1,000",
            f"p{period}-client_ref": ref.group(1)}  # fmt: skip
    for _ in range(2):  # a double click
        assert client.post(f"/desk/compliance/{period}/surrender", data=form).status_code == 302
    report = app.test_client().get(f"/api/v1/compliance/periods/{period}/status").get_json()
    assert next(r for r in report["leagues"] if r["league"] == "ordos")["surrendered"] == 1_000
    again = client.get("/desk/compliance").get_data(as_text=True)
    assert ref.group(1) not in again  # the next form draws a new reference
