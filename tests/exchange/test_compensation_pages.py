"""Compensation pages: the public report (table, charts, CSV) and the regulator's forms."""

from __future__ import annotations

import csv
import io
import re

from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

import ledger
from exchange.compensation.commands import Settle
from exchange.compensation.settlement import run_settlement
from exchange.extensions import db
from exchange.models import CompensationReading, Role
from tests.exchange.compensation_helpers import (
    BASELINE,
    BETTER,
    DOWN,
    WORSE,
    YUAN,
    reading,
    register,
)
from tests.exchange.page_helpers import PageChecker, csrf_token, login, make_user
from tests.exchange.trading_helpers import fund, verify_ok


def settled_agreement(app: Flask) -> int:
    fund(app, cash={DOWN: 100_000_000 * YUAN})
    aid = register(app, section="=HYPERLINK(1) section")
    reading(app, aid, "2024", 4, WORSE)
    reading(app, aid, "2024", 2, BETTER)  # a correction
    reading(app, aid, "2025", 3, BASELINE)
    with app.app_context():
        for period in ("2024", "2025"):
            run_settlement(db.session_factory, Settle(aid, period, actor="test"))
    return aid


def test_public_report_shows_periods_charts_and_corrections(demo_registry: Flask) -> None:
    aid = settled_agreement(demo_registry)
    client = demo_registry.test_client()
    page = client.get(f"/compensation/{aid}?lang=en").get_data(as_text=True)
    assert 'data-period="2024"' in page and 'data-period="2025"' in page
    assert "71,000,000.00" in page  # 2024: 71 million yuan downstream -> upstream
    assert "(corrected)" in page
    assert page.count('<svg xmlns="http://www.w3.org/2000/svg" class="chart') == 2
    assert PageChecker().check(page) == []
    zh = client.get(f"/compensation/{aid}?lang=zh").get_data(as_text=True)
    assert "巴彦淖尔市" in zh and "鄂尔多斯市" in zh and "生态补偿" in zh
    listing = client.get("/compensation").get_data(as_text=True)
    assert f"/compensation/{aid}" in listing


def test_report_csv_is_safe_and_complete(demo_registry: Flask) -> None:
    aid = settled_agreement(demo_registry)
    response = demo_registry.test_client().get(f"/compensation/{aid}/report.csv")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    assert [r["period"] for r in rows] == ["2024", "2025"]
    assert rows[0]["total_fen"] == "7100000000" and rows[0]["payer"] == DOWN
    assert rows[0]["index_change_points"] == "-11"
    assert rows[0]["unpaid_fen"] == "0"
    assert rows[1]["total_fen"] == "0" and rows[1]["cumulative_fen"] == "7100000000"


def test_unknown_agreement_is_404(demo_registry: Flask) -> None:
    client = demo_registry.test_client()
    assert client.get("/compensation/999").status_code == 404
    assert client.get("/compensation/999/report.csv").status_code == 404


def test_regulator_registers_enters_and_settles(demo_registry: Flask) -> None:
    fund(demo_registry, cash={DOWN: 100_000_000 * YUAN})
    make_user(demo_registry, "rita", Role.REGULATOR)
    client = demo_registry.test_client()
    login(client, "rita")
    token = csrf_token(client, "/regulator/compensation")
    response = client.post(
        "/regulator/compensation/agreements",
        data={
            "csrf_token": token, "agr-upstream": "bayannur", "agr-downstream": "ordos",
            "agr-section": "Sanshenggong", "agr-target_class": "3",
            "agr-amount_per_class": "60,000,000", "agr-amount_per_point": "1000000",
            "agr-index_cap": "40000000", "agr-cod": "16", "agr-nh3n": "0.5", "agr-tp": "0.1",
            "agr-assessment": "annual", "agr-first_year": "2024", "agr-last_year": "2025",
            "agr-deposit": "",
        },
    )  # fmt: skip
    assert response.status_code == 302, response.get_data(as_text=True)[:3000]
    aid = int(response.headers["Location"].rsplit("/", 1)[1])
    bad = client.post(
        "/regulator/compensation/readings",
        data={"csrf_token": token, "rd-agreement": str(aid), "rd-period": "2024",
              "rd-measured_class": "2", "rd-cod": "14", "rd-nh3n": "0.45"},
    )  # fmt: skip
    assert bad.status_code == 422  # TP missing: refused, the field says so
    assert 'id="rd-tp-error"' in bad.get_data(as_text=True)
    ok = client.post(
        "/regulator/compensation/readings",
        data={"csrf_token": token, "rd-agreement": str(aid), "rd-period": "2024",
              "rd-measured_class": "2", "rd-cod": "14", "rd-nh3n": "0.45", "rd-tp": "0.09"},
    )  # fmt: skip
    assert ok.status_code == 302, ok.get_data(as_text=True)[:3000]
    texts = []
    for _ in range(2):
        done = client.post(
            "/regulator/compensation/settlements",
            data={"csrf_token": token, "st-agreement": str(aid), "st-period": "2024"},
            follow_redirects=True,
        )
        assert done.status_code == 200
        texts.append(done.get_data(as_text=True))
    assert "Ordos pays Bayannur 71,000,000.00 yuan" in texts[0]
    assert "was already settled" in texts[1]
    report = client.get(f"/compensation/{aid}?lang=en").get_data(as_text=True)
    assert "71,000,000.00" in report
    open_period = client.post(
        "/regulator/compensation/settlements",
        data={"csrf_token": token, "st-agreement": str(aid), "st-period": "2025"},
    )
    assert open_period.status_code == 422
    assert 'id="st-period-error"' in open_period.get_data(as_text=True)


def test_demo_agreement_is_seeded_settled_and_reported(demo_registry: Flask) -> None:
    from exchange.compensation.demo import seed_demo_compensation
    from exchange.services.demo_ledger import seed_demo_ledger
    from exchange.uow import unit_of_work

    with demo_registry.app_context():
        s = db.session_factory()
        try:
            seed_demo_ledger(s)
            with unit_of_work(s):
                done = seed_demo_compensation(s)
            assert done is not None and "24 monthly readings settled" in done
            with unit_of_work(s):
                assert seed_demo_compensation(s) is None  # once
            for side in ("bayannur", "baotou"):  # the term is over: deposits returned
                account = ledger.compensation_deposit_account(1, side)
                assert ledger.balance_of(s, account) == 0
        finally:
            s.close()
    verify_ok(demo_registry)
    client = demo_registry.test_client()
    api = client.get("/api/v1/compensation/agreements/1/settlements").get_json()
    assert [x["period"] for x in api] == [
        f"{y}-{m:02d}" for y in (2024, 2025) for m in range(1, 13)
    ]
    assert {x["payer"] for x in api} >= {"bayannur", "baotou"}  # both directions happen
    page = client.get("/compensation/1?lang=zh").get_data(as_text=True)
    assert "巴彦淖尔市" in page and "包头市" in page and 'data-period="2025-12"' in page


def _upload(client: FlaskClient, token: str, text: str) -> TestResponse:
    return client.post(
        "/regulator/compensation/readings/upload",
        data={"csrf_token": token, "upload-file": (io.BytesIO(text.encode()), "readings.csv")},
        content_type="multipart/form-data",
    )


def test_csv_upload_is_checked_then_imported_all_at_once(demo_registry: Flask) -> None:
    aid = register(demo_registry, assessment="monthly")
    make_user(demo_registry, "rita", Role.REGULATOR)
    client = demo_registry.test_client()
    login(client, "rita")
    token = csrf_token(client, "/regulator/compensation")
    bad = _upload(
        client,
        token,
        "agreement,period,class,COD,NH3-N,TP\n"
        f"{aid},2024-01,3,16,0.5,0.1\n"
        f"{aid},2024-02,7,16,0.5,0.1\n"  # class out of range
        f"{aid},2024-03,3,16,0.5,\n"  # TP missing
        f"{aid},2099-01,3,16,0.5,0.1\n",  # outside the term
    )
    page = bad.get_data(as_text=True)
    assert bad.status_code == 422
    assert page.count('class="invalid"') == 3 and "Record 4 readings" not in page
    good = _upload(
        client,
        token,
        f"agreement,period,class,COD,NH3-N,TP\n{aid},2024-01,3,16,0.5,0.1\n"
        f"{aid},2024-02,2,14,0.45,0.09\n{aid},2024-02,4,18,0.6,0.12\n",
    )
    page = good.get_data(as_text=True)
    assert good.status_code == 200 and "Record 3 readings" in page
    assert PageChecker().check(page) == []
    with demo_registry.app_context():
        s = db.session_factory()
        try:
            assert s.query(CompensationReading).count() == 0  # the preview kept nothing
        finally:
            s.close()
    encoded = re.search(r'name="csv" value="([^"]+)"', page)
    assert encoded
    done = client.post(
        "/regulator/compensation/readings/import",
        data={"csrf_token": token, "csv": encoded.group(1)},
    )
    assert done.status_code == 302
    readings = client.get(f"/api/v1/compensation/agreements/{aid}").get_json()["readings"]
    assert [(r["period"], r["class"]) for r in readings] == [
        ("2024-01", 3),
        ("2024-02", 2),
        ("2024-02", 4),
    ]
    assert readings[2]["supersedes"] == readings[1]["id"]


def test_chinese_pages_show_no_untranslated_string(demo_registry: Flask) -> None:
    from tests.exchange.test_pages_language import BROWSER, _english_only, texts

    aid = settled_agreement(demo_registry)
    make_user(demo_registry, "rita", Role.REGULATOR)
    client = demo_registry.test_client()
    login(client, "rita")
    client.get("/?lang=zh")
    english = _english_only()
    for path in ("/compensation", f"/compensation/{aid}", "/regulator/compensation"):
        page = client.get(path, headers=BROWSER).get_data(as_text=True)
        assert '<html lang="zh-CN">' in page
        assert PageChecker().check(page) == [], path
        assert set(texts(page)) & english == set(), path
