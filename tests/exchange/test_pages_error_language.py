"""Error paths of the pages in Chinese: bad form input, stale forms (expired CSRF), bad
allocation files (too large, not UTF-8, bad header, bad rows, a quote left open), an
upload imported twice, a bad checkpoint file; background-job messages and the
verification report worded in the page's language. The API keeps its English."""

from __future__ import annotations

import io
import re
from types import SimpleNamespace
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from flask_babel import force_locale

from exchange.extensions import db
from exchange.jobs.notice import _sentences
from exchange.models import BackgroundJob, JobStatus
from exchange.web import console, tasks
from exchange.web.errors import _status_message
from exchange.web.job_messages import job_message
from tests.exchange import test_pages_flows
from tests.exchange.page_helpers import PageChecker, csrf_token, login
from tests.exchange.test_pages_flows import market_id
from tests.exchange.test_pages_language import BROWSER, LEFT_ENGLISH, _english_only, texts

pytestmark = pytest.mark.slow  # each test seeds the demo ledger

world = test_pages_flows.world  # the fixture of those tests


def shown(page: str) -> str:
    """What a person reads (text marked ``lang="en"`` aside), as one string."""
    return " ".join(texts(page))


def assert_chinese(page: str) -> str:
    """The page is in Chinese: no catalog string left in English, no service English; and
    it passes the accessibility smoke check of the other page tests."""
    assert PageChecker().check(page) == []
    text = shown(page)
    assert '<html lang="zh-CN">' in page
    assert set(texts(page)) & _english_only() == set(), sorted(set(texts(page)) & _english_only())
    assert not LEFT_ENGLISH.findall(text), LEFT_ENGLISH.findall(text)
    return text


@pytest.fixture
def rita(world: Flask) -> FlaskClient:
    client = world.test_client()
    login(client, "rita")
    client.get("/?lang=zh")
    return client


def upload(client: FlaskClient, body: bytes, name: str = "alloc.csv") -> Any:
    return client.post(
        "/regulator/allocations/upload",
        data={
            "upload-csrf_token": csrf_token(client, "/regulator"),
            "upload-file": (io.BytesIO(body), name),
        },
        content_type="multipart/form-data",
        headers=BROWSER,
    )


def test_an_unreadable_file_comes_back_beside_the_upload_field_in_chinese(
    world: Flask, rita: FlaskClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    not_utf8 = upload(rita, "盟市,市场\n".encode("gb18030") + b"\xff\xfe")
    assert not_utf8.status_code == 422
    page = not_utf8.get_data(as_text=True)
    assert "文件不是 UTF-8 文本" in assert_chinese(page) and 'id="upload-file-error"' in page
    for module in (console, tasks):  # (a small limit: the body stays in memory)
        monkeypatch.setattr(module, "MAX_UPLOAD_BYTES", 100 * 1024)
    too_large = upload(rita, b"x" * (100 * 1024 + 1))
    assert too_large.status_code == 413
    page = too_large.get_data(as_text=True)
    assert "文件超过 0.1 MB" in assert_chinese(page) and 'id="upload-file-error"' in page
    with world.test_request_context("/?lang=zh"):  # a body over the app's limit
        assert _status_message(413) == "上传内容过大：每次最多 1 MB。"


def test_bad_rows_and_headers_are_explained_in_chinese(rita: FlaskClient) -> None:
    body = (
        b"league,market,quantity\n"
        b"ordos,COD-2027,abc\nnope,COD-2027,1\nordos,NOPE,1\nordos,COD-2027,0\n"
        b'ordos,COD-2027,"' + b"9" * 140_000 + b'"\n'
    )
    response = upload(rita, body)
    assert response.status_code == 302
    page = rita.get(response.headers["Location"], headers=BROWSER).get_data(as_text=True)
    text = assert_chinese(page)
    for reason in ("数量不是正整数", "未知盟市 nope", "未知市场 NOPE", "此行无法按 CSV 读取"):
        assert reason in text, reason
    for body in (b"who,what\nx,y\n", b"", b"league,market,quantity\n"):
        response = upload(rita, body)
        page = rita.get(response.headers["Location"], headers=BROWSER).get_data(as_text=True)
        assert_chinese(page)


def test_a_second_import_and_an_empty_import_are_refused_in_chinese(rita: FlaskClient) -> None:
    response = upload(rita, b"league,market,quantity\nordos,COD-2027,1\n")
    location = response.headers["Location"]
    token = csrf_token(rita, location)
    first = rita.post(f"{location}/confirm", data={"csrf_token": token})
    assert first.status_code == 302
    import_id = first.headers["Location"].rsplit("/", 1)[1]
    second = rita.post(f"{location}/confirm", data={"csrf_token": token}, headers=BROWSER)
    assert second.status_code == 409
    text = assert_chinese(second.get_data(as_text=True))
    assert f"已经导入（导入任务 {import_id}）" in text
    empty = upload(rita, b"league,market,quantity\nnope,COD-2027,1\n").headers["Location"]
    refused = rita.post(
        f"{empty}/confirm", data={"csrf_token": csrf_token(rita, empty)}, headers=BROWSER
    )
    assert refused.status_code == 422
    assert "此上传没有可分配的行" in assert_chinese(refused.get_data(as_text=True))


def test_a_failed_import_job_says_why_in_chinese(world: Flask, rita: FlaskClient) -> None:
    """Two imports of one checked upload: the second job fails, coded, worded in Chinese."""
    from exchange.web import jobs

    preview = upload(rita, b"league,market,quantity\nordos,COD-2027,1\n").headers["Location"]
    preview_id = int(preview.rsplit("/", 1)[1])
    with world.test_request_context():
        first = jobs.start(db.session, "allocation_import", actor="rita",
                           params={"preview_job": preview_id})  # fmt: skip
        second = jobs.start(db.session, "allocation_import", actor="rita",
                            params={"preview_job": preview_id})  # fmt: skip
        message = db.session.get(BackgroundJob, second).message
    assert message.startswith("[already_imported] this checked upload was already imported")
    page = rita.get(f"/regulator/imports/{second}", headers=BROWSER).get_data(as_text=True)
    text = assert_chinese(page)
    assert f"此已检查的上传已经导入（导入任务 {first}）" in text
    english = rita.get(f"/regulator/imports/{second}?lang=en").get_data(as_text=True)
    assert "This checked upload was already imported" in english
    assert first != second


def test_stale_forms_and_bad_input_read_in_chinese(world: Flask, rita: FlaskClient) -> None:
    stale = rita.post(
        "/regulator/allocations",
        data={"alloc-csrf_token": "expired", "alloc-league": "ordos", "alloc-market": "COD-2027",
              "alloc-quantity": "12"},
        headers=BROWSER,
    )  # fmt: skip
    assert stale.status_code == 400
    page = stale.get_data(as_text=True)
    assert "请检查下方已保留的输入" in assert_chinese(page) and 'value="12"' in page
    token = csrf_token(rita, "/regulator")
    for data in (
        {"alloc-quantity": "12x"},
        {"alloc-quantity": "99999999999999999"},
        {"alloc-quantity": "0"},
    ):
        bad = rita.post(
            "/regulator/allocations",
            data={"alloc-csrf_token": token, "alloc-league": "ordos", "alloc-market": "COD-2027",
                  **data},
            headers=BROWSER,
        )  # fmt: skip
        assert bad.status_code == 200 and 'id="alloc-quantity-error"' in bad.get_data(as_text=True)
        assert_chinese(bad.get_data(as_text=True))
    desk = world.test_client()
    login(desk, "ordos-desk")
    desk.get("/?lang=zh")
    token = csrf_token(desk, "/desk")
    for quantity, price, key in (("abc", "1.234", "a b"), ("900000000", "99999", "k-huge")):
        bad = desk.post(
            "/desk/orders",
            data={"csrf_token": token, "market_id": str(market_id(world)), "side": "buy",
                  "quantity": quantity, "limit_price": price, "validity": "gtc",
                  "client_order_id": key},
            headers=BROWSER,
        )  # fmt: skip
        assert bad.status_code == 200
        assert_chinese(bad.get_data(as_text=True))
    login_page = world.test_client()
    login_page.get("/?lang=zh")
    stale_login = login_page.post(
        "/login",
        data={"csrf_token": "x", "username": "ordos-desk", "password": "x"},
        headers=BROWSER,
    )
    assert "表单已过期" in assert_chinese(stale_login.get_data(as_text=True))


def test_the_api_keeps_its_english_codes(world: Flask) -> None:
    client = world.test_client()
    client.get("/?lang=zh")
    response = client.get("/api/v1/no-such-thing")
    assert response.status_code == 404 and response.is_json
    assert response.get_json()["error"] == "not_found"


def test_a_bad_checkpoint_file_is_explained_in_chinese(world: Flask) -> None:
    abe = world.test_client()
    login(abe, "abe")
    abe.get("/?lang=zh")
    response = abe.post(
        "/audit/verify",
        data={"csrf_token": csrf_token(abe, "/audit/verify"),
              "checkpoint": (io.BytesIO(b'{"seq": 1}'), "cp.json")},
        content_type="multipart/form-data",
        headers=BROWSER,
    )  # fmt: skip
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "这不是 GET /api/v1/ledger/checkpoints/latest 所返回格式的检查点" in assert_chinese(page)
    assert 'lang="en"' in page  # the parser's own words, for a technician, marked English


def _verification_job(app: Flask) -> int:
    """A finished verification whose report has a broken hash, a checkpoint head that
    does not match and a replay that differs (as a tampered ledger would give)."""
    violation = {"check": "journal_hash", "message": "journal 7: stored hash differs",
                 "journal_id": 7, "expected": "ab12", "found": "cd34"}  # fmt: skip
    head = {"check": "checkpoint_head", "message": "league:ordos #3: no match", "chain": "c1"}
    result = {
        "ok": False, "ledger_ok": False, "journals": 12, "postings": 40, "accounts": 5,
        "holds": 0, "chains": {"c1": {"seq": 3, "head": "ff"}}, "truncated": False,
        "seconds": 0.25,
        "checks": [{"check": "journal_hash", "ok": False, "count": 1, "violations": [violation]},
                   {"check": "balance", "ok": True, "count": 0, "violations": []}],
        "replays": [{"run_id": 1, "market": "COD-2027", "ok": False,
                     "differences": ["fill 3: quantity 5 != 4"]}],
        "checkpoint": {"source": "latest", "seq": 2, "hash": "aa", "key_id": "k",
                       "created_at": "2027-03-01T02:05:00+00:00", "ok": False, "count": 1,
                       "violations": [head]},
    }  # fmt: skip
    with app.app_context():
        session = db.session_factory()
        try:
            job = BackgroundJob(kind="verify", status=JobStatus.SUCCEEDED, created_by="abe",
                                progress=52, total=52, params={}, result=result)  # fmt: skip
            session.add(job)
            session.commit()
            return int(job.id)
        finally:
            session.close()


def test_the_verification_report_reads_in_chinese(world: Flask) -> None:
    job_id = _verification_job(world)
    abe = world.test_client()
    login(abe, "abe")
    abe.get("/?lang=zh")
    page = abe.get(f"/audit/verify/{job_id}", headers=BROWSER).get_data(as_text=True)
    text = assert_chinese(page)
    assert "凭证 7" in text and "0.25 秒" in text
    assert '预期 <code class="hash">ab12</code>，实际 <code class="hash">cd34</code>' in page
    assert "各链到达检查点所载链头" in text  # the checkpoint check has a name
    assert "2027-03-01 10:05:00" in text  # the checkpoint's time in Beijing time
    assert "expected" not in text and "found" not in text and ">seq<" not in page
    for english in ("journal 7: stored hash differs", "fill 3: quantity 5 != 4"):
        assert re.search(r'<code lang="en" translate="no">' + re.escape(english), page)


@pytest.mark.parametrize(
    ("message", "status", "chinese"),
    [
        ("[already_imported] this checked upload was already imported; ... (import 4)",
         JobStatus.FAILED, "已经导入（导入任务 4）"),
        ("[upload_gone] the checked upload is gone", JobStatus.FAILED, "已检查的上传已不存在"),
        ("[cap_exceeded] cap 10 exceeded", JobStatus.FAILED, "请重新上传文件以重新检查"),
        ("done by an earlier runner, which stopped before recording it", JobStatus.SUCCEEDED,
         "已由先前的执行进程完成"),
        ("its runner's process 12 on web-1 is gone; queued again", JobStatus.QUEUED,
         "任务已重新排队"),
        ("its runner h:1:t has not reported for 75 s; this kind of job is not run twice",
         JobStatus.FAILED, "此类任务不会自动重跑"),
        ("its runner (none) has not reported for 0:02:00; not run again after 3 tries",
         JobStatus.FAILED, "已尝试 3 次"),
        ("abandoned: no progress for too long (its process ended?)", JobStatus.FAILED,
         "已放弃"),
        ("RuntimeError: disk full", JobStatus.FAILED, "任务失败。"),
    ],
)  # fmt: skip
def test_job_messages_are_worded_in_chinese(
    world: Flask, message: str, status: JobStatus, chinese: str
) -> None:
    job = SimpleNamespace(message=message, status=status)
    with world.test_request_context("/?lang=zh"):
        said = job_message(job)
    assert chinese in said
    visible = re.sub(r'<small class="detail" lang="en"[^>]*>.*?</small>', "", str(said))
    assert not re.search(r"[A-Za-z]{4,}", visible), said
    with world.test_request_context("/?lang=en"):
        assert not re.search(r"[\u4e00-\u9fff]", str(job_message(job)))


def test_the_runner_notice_comes_from_the_catalogs(world: Flask) -> None:
    with world.test_request_context("/"):
        with force_locale("zh"):
            assert _sentences(alive=True) == "排队中，等待任务执行进程。"
            assert "请运维人员启动 `exchange jobs run`" in _sentences(alive=False)
        with force_locale("en"):
            assert "the operator must start `exchange jobs run`" in _sentences(alive=False)


def test_stale_forms_without_input_come_back_on_their_page(world: Flask, rita: FlaskClient) -> None:
    """Clear now, upload, import, verification, cancel: an expired form shows its page again
    with the message (in Chinese), not a bare error page; nothing is done."""
    mid = market_id(world)
    preview = upload(rita, b"league,market,quantity\nordos,COD-2027,1\n").headers["Location"]
    desk = world.test_client()
    login(desk, "ordos-desk")
    desk.get("/?lang=zh")
    placed = desk.post(
        "/desk/orders",
        data={"csrf_token": csrf_token(desk, "/desk"), "market_id": str(mid), "side": "buy",
              "quantity": "1", "limit_price": "1000", "validity": "gtc",
              "client_order_id": "stale-1"},
    )  # fmt: skip
    assert placed.status_code == 302
    page = desk.get("/desk").get_data(as_text=True)
    order_id = re.search(r"/desk/orders/(\d+)/cancel", page).group(1)  # type: ignore[union-attr]
    cases = [
        (rita, f"/regulator/markets/{mid}/clear", "csrf_token", "请确认"),
        (rita, "/regulator/allocations/upload", "upload-csrf_token", 'id="upload-file"'),
        (rita, f"{preview}/confirm", "csrf_token", "批量分配"),
        (rita, "/audit/verify", "csrf_token", 'action="/audit/verify"'),
        (desk, f"/desk/orders/{order_id}/cancel", "csrf_token", "请确认"),
    ]
    for client, path, field, mark in cases:
        response = client.post(path, data={field: "expired"}, headers=BROWSER)
        page = response.get_data(as_text=True)
        assert response.status_code == 400, path
        assert "请在本页重新提交" in assert_chinese(page) and mark in page, path
    assert "已撤销" not in desk.get(f"/desk/orders/{order_id}/cancel").get_data(as_text=True)


def test_a_failed_run_says_so_in_chinese_with_the_reason_marked_english(
    world: Flask, rita: FlaskClient
) -> None:
    from datetime import UTC, datetime

    from exchange.models import ClearingRun, RunStatus, RunTrigger

    mid = market_id(world)
    with world.app_context():
        session = db.session_factory()
        try:
            run = ClearingRun(market_id=mid, window=datetime(2027, 3, 1, 2, tzinfo=UTC),
                              trigger=RunTrigger.SCHEDULE, status=RunStatus.FAILED,
                              failure_reason="RuntimeError: quantity not conserved",
                              triggered_by="scheduler")  # fmt: skip
            session.add(run)
            session.commit()
            run_id = run.id
        finally:
            session.close()
    for client, path in ((rita, f"/runs/{run_id}"), (world.test_client(), None)):
        if path is None:
            client.get("/?lang=zh")
            path = f"/markets/COD-2027/runs/{run_id}"
        page = client.get(path, headers=BROWSER).get_data(as_text=True)
        text = assert_chinese(page)
        assert "出清失败，其结果均未结算" in text, path
        assert "quantity not conserved" not in text  # only as the technical detail
        assert re.search(r'lang="en"[^>]*>\(RuntimeError: quantity not conserved\)', page), path


def test_every_code_a_page_shows_has_a_word() -> None:
    """Journal kinds, checks, statuses, triggers, account kinds: a new one without a
    label would show its English code on a Chinese page."""
    import ledger
    from exchange.models import OrderStatus, RunStatus, RunTrigger
    from exchange.web.labels import LABELS
    from ledger.checkpoints import CHECKPOINT_CHECKS

    named = {
        "journal_kind": list(ledger.JOURNAL_KINDS),
        "check": [*ledger.VERIFY_CHECKS, *CHECKPOINT_CHECKS],
        "account_kind": [a.value for a in ledger.AccountKind],
        "run_status": [s.value for s in RunStatus],
        "trigger": [t.value for t in RunTrigger],
        "job_status": [s.value for s in JobStatus],
        "order_status": [s.value for s in OrderStatus],
    }  # fmt: skip
    missing = {kind: [c for c in codes if c not in LABELS[kind]] for kind, codes in named.items()}
    assert missing == {kind: [] for kind in named}


def test_a_bug_in_a_page_shows_the_sites_page_in_chinese(
    world: Flask, rita: FlaskClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("a bug")

    monkeypatch.setattr(console.registry, "list_leagues", broken)
    response = rita.get("/regulator", headers=BROWSER)
    assert response.status_code == 500
    text = assert_chinese(response.get_data(as_text=True))
    assert "交易所一方出了问题" in text and "a bug" not in response.get_data(as_text=True)
    api = world.test_client().get("/api/v1/markets")  # the API is untouched by the page's bug
    assert api.status_code == 200 and api.is_json


def test_the_database_away_is_a_page_in_chinese_with_retry_after(
    world: Flask, rita: FlaskClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    from sqlalchemy.exc import OperationalError

    def away(*args: Any, **kwargs: Any) -> Any:
        raise OperationalError("SELECT 1", {}, Exception("server closed the connection"))

    monkeypatch.setattr(console.registry, "list_leagues", away)
    response = rita.get("/regulator", headers=BROWSER)
    assert response.status_code == 503 and response.headers["Retry-After"] == "5"
    assert "数据库暂时不可用" in assert_chinese(response.get_data(as_text=True))


def test_a_stale_logout_shows_the_home_page_with_the_message(rita: FlaskClient) -> None:
    response = rita.post("/logout", data={"csrf_token": "expired"}, headers=BROWSER)
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "请在本页重新提交" in assert_chinese(page) and 'action="/logout"' in page
    assert rita.get("/regulator").status_code == 200  # still logged in: nothing was done
