"""The pages' use cases through the Flask test client (browser sessions with CSRF)."""

from __future__ import annotations

import csv
import io
import json
import re

import pytest
from flask import Flask
from flask.testing import FlaskClient

from exchange.extensions import db
from exchange.models import Role
from exchange.services.demo_ledger import seed_demo_ledger
from exchange.services.registry import get_market_by_code
from exchange.uow import new_unit_of_work
from tests.exchange.page_helpers import csrf_token, login, make_user

pytestmark = pytest.mark.slow  # each test seeds the demo ledger and trades through the pages

MARKET = "COD-2027"  # tick 100 fen, lot 1 t


@pytest.fixture
def world(demo_registry: Flask) -> Flask:
    """Demo registry and ledger; users ordos, baotou (league), rita (regulator), abe (auditor)."""
    demo_registry.config["WEB_JOBS_INLINE"] = True
    with demo_registry.app_context(), new_unit_of_work(db.session_factory) as session:
        seed_demo_ledger(session)
    make_user(demo_registry, "ordos-desk", Role.LEAGUE, "ordos")
    make_user(demo_registry, "baotou-desk", Role.LEAGUE, "baotou")
    make_user(demo_registry, "rita", Role.REGULATOR)
    make_user(demo_registry, "abe", Role.AUDITOR)
    return demo_registry


def market_id(app: Flask, code: str = MARKET) -> int:
    with app.app_context(), new_unit_of_work(db.session_factory) as session:
        return get_market_by_code(session, code).id


def order(client: FlaskClient, app: Flask, side: str, quantity: str, price: str, key: str):  # type: ignore[no-untyped-def]
    return client.post(
        "/desk/orders",
        data={
            "csrf_token": csrf_token(client, "/desk"),
            "market_id": str(market_id(app)),
            "side": side,
            "quantity": quantity,
            "limit_price": price,
            "validity": "gtc",
            "client_order_id": key,
        },
    )


def test_order_errors_are_shown_next_to_the_field_with_the_typed_values(
    world: Flask, client: FlaskClient
) -> None:
    login(client, "ordos-desk")
    response = order(client, world, "buy", "7", "1234.5", "k-1")
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    error = re.search(r'<p class="field-error" id="limit_price-error">([^<]*)</p>', page)
    assert error and error.group(1) == "The price must be a multiple of 1.00 yuan."
    assert 'value="1234.5"' in page and 'value="7"' in page
    assert 'aria-invalid="true"' in page
    # not a number, a lot of zero, an idempotency key the API would refuse
    page = order(client, world, "buy", "abc", "12.345", "bad key!").get_data(as_text=True)
    assert 'id="quantity-error"' in page
    assert 'id="limit_price-error"' in page
    page = order(client, world, "buy", "3", "1500", "bad key!").get_data(as_text=True)
    assert 'id="client_order_id-error"' in page
    page = order(client, world, "buy", "0", "1500", "k-2").get_data(as_text=True)
    assert 'id="quantity-error"' in page


def holding(page: str, code: str) -> list[str]:
    """Posted, held and available of a market in the desk's holdings table."""
    row = re.search(rf'<tr data-asset="{code}">(.*?)</tr>', page, re.S)
    assert row, f"no holding row for {code}"
    return re.findall(r'<td class="num"[^>]*>([^<]*)</td>', row.group(1))


def test_retirement_from_the_desk(world: Flask, client: FlaskClient) -> None:
    login(client, "ordos-desk")
    before = holding(client.get("/desk").get_data(as_text=True), MARKET)
    posted = int(before[0].replace(",", ""))
    form = {
        "csrf_token": csrf_token(client, "/desk"),
        "retire-market": MARKET,
        "retire-quantity": "5",
        "retire-reference": "surrender 2027",
    }
    # first a summary to confirm (irreversible); nothing is retired yet
    summary = client.post("/desk/retirements", data=form).get_data(as_text=True)
    assert 'id="confirm-summary"' in summary and "This cannot be undone." in summary
    assert "5 t" in summary and 'name="retire-quantity" value="5"' in summary
    assert holding(client.get("/desk").get_data(as_text=True), MARKET) == before
    form = {**form, "csrf_token": csrf_token(client, "/desk"), "confirm": "1"}
    response = client.post("/desk/retirements", data=form, follow_redirects=True)
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Retired 5 t of COD discharge rights" in page or "Retired 5 t of" in page
    after = holding(page, MARKET)
    assert int(after[0].replace(",", "")) == posted - 5
    # more than available: the error stands next to the quantity, nothing changes
    form = {**form, "csrf_token": csrf_token(client, "/desk"), "retire-quantity": str(posted * 10)}
    page = client.post("/desk/retirements", data=form).get_data(as_text=True)
    assert 'id="retire-quantity-error"' in page
    assert holding(client.get("/desk").get_data(as_text=True), MARKET) == after


def test_order_placed_listed_and_cancelled(world: Flask, client: FlaskClient) -> None:
    login(client, "ordos-desk")
    placed = order(client, world, "sell", "5", "1500.00", "k-sell")
    assert placed.status_code == 302
    desk = client.get("/desk").get_data(as_text=True)
    assert "k-sell" in desk and "1,500.00" in desk
    order_id = re.search(r'<tr data-order="(\d+)"><td data-label="Order">\d+ <small>k-sell', desk)
    assert order_id
    # a repeat of the reference places nothing new
    order(client, world, "sell", "9", "1600.00", "k-sell")
    assert client.get("/desk").get_data(as_text=True).count("k-sell") == 1
    confirm = client.get(f"/desk/orders/{order_id.group(1)}/cancel").get_data(as_text=True)
    assert "Cancel order" in confirm and "5 t" in confirm and "This cannot be undone." in confirm
    no_token = client.post(f"/desk/orders/{order_id.group(1)}/cancel")
    assert no_token.status_code == 400
    cancelled = client.post(
        f"/desk/orders/{order_id.group(1)}/cancel",
        data={"csrf_token": csrf_token(client, "/desk")},
    )
    assert cancelled.status_code == 302
    desk = client.get("/desk").get_data(as_text=True)
    assert f"Order {order_id.group(1)} cancelled" in desk
    assert "k-sell" not in desk


def test_cancel_of_another_leagues_order_is_not_found(world: Flask, client: FlaskClient) -> None:
    login(client, "ordos-desk")
    order(client, world, "sell", "5", "1500.00", "mine")
    desk = client.get("/desk").get_data(as_text=True)
    order_id = re.search(r'<tr data-order="(\d+)">', desk)
    assert order_id
    client.post("/logout", data={"csrf_token": csrf_token(client, "/")})
    login(client, "baotou-desk")
    response = client.post(
        f"/desk/orders/{order_id.group(1)}/cancel", data={"csrf_token": csrf_token(client, "/desk")}
    )
    assert response.status_code == 404
    assert response.mimetype == "text/html"


def test_trade_clear_fill_statement_and_csv(world: Flask, client: FlaskClient) -> None:
    buyer, seller, regulator = world.test_client(), world.test_client(), client
    login(buyer, "ordos-desk")
    login(seller, "baotou-desk")
    login(regulator, "rita")
    assert order(buyer, world, "buy", "10", "1900", "b-1").status_code == 302
    assert order(seller, world, "sell", "10", "1000", "s-1").status_code == 302
    run = regulator.post(
        f"/regulator/markets/{market_id(world)}/clear",
        data={"csrf_token": csrf_token(regulator, "/regulator")},
    )
    assert run.status_code == 302
    detail = regulator.get(run.headers["Location"]).get_data(as_text=True)
    assert 'id="run-price"' in detail and "completed" in detail
    assert "run:" in detail  # settlement journals
    desk = buyer.get("/desk").get_data(as_text=True)
    assert "No fills yet" not in desk
    statement = buyer.get(f"/desk/statement?asset={MARKET}").get_data(as_text=True)
    assert "trade settlement" in statement
    download = buyer.get(f"/desk/statement.csv?asset={MARKET}")
    assert download.mimetype == "text/csv"
    rows = list(csv.DictReader(io.StringIO(download.get_data(as_text=True))))
    assert rows[-1]["kind"] == "trade_settlement"
    assert all(row["amount_t"].lstrip("-").isdigit() for row in rows)
    assert all(row["created_at_utc+8"].endswith("+08:00") for row in rows)
    balances = [int(row["balance_t"]) for row in rows]
    assert balances[-1] == sum(int(row["amount_t"]) for row in rows)
    # public page: the new price on the chart
    market = client.get(f"/markets/{MARKET}").get_data(as_text=True)
    price = re.search(r'<dd id="run-price">([\d,.]+)</dd>', detail)
    assert price and price.group(1) in market


def test_single_allocation_and_deposit(world: Flask, client: FlaskClient) -> None:
    login(client, "rita")
    token = csrf_token(client, "/regulator")
    bad = client.post(
        "/regulator/allocations",
        data={"alloc-csrf_token": token, "alloc-league": "ordos", "alloc-market": MARKET,
              "alloc-quantity": "10000000"},
    )  # fmt: skip
    page = bad.get_data(as_text=True)
    assert 'id="alloc-quantity-error"' in page and "cap" in page
    good = client.post(
        "/regulator/allocations",
        data={"alloc-csrf_token": token, "alloc-league": "ordos", "alloc-market": MARKET,
              "alloc-quantity": "12"},
    )  # fmt: skip
    assert good.status_code == 200 and "Allocation: please confirm" in good.get_data(as_text=True)
    good = client.post(
        "/regulator/allocations",
        data={"csrf_token": token, "alloc-league": "ordos", "alloc-market": MARKET,
              "alloc-quantity": "12", "confirm": "1"},
    )  # fmt: skip
    assert good.status_code == 302
    console = client.get("/regulator").get_data(as_text=True)
    assert re.search(r"Allocated 12 t of [^<]+ to Ordos \(journal \d+\)", console), console[:3000]
    deposit = client.post(
        "/regulator/deposits",
        data={"deposit-csrf_token": token, "deposit-league": "ordos", "deposit-amount": "12.34"},
    )
    assert "Cash deposit: please confirm" in deposit.get_data(as_text=True)
    deposit = client.post(
        "/regulator/deposits",
        data={"csrf_token": token, "deposit-league": "ordos", "deposit-amount": "12.34",
              "confirm": "1"},
    )  # fmt: skip
    assert deposit.status_code == 302
    assert "Deposited 12.34 yuan to Ordos" in client.get("/regulator").get_data(as_text=True)


def test_csv_upload_preview_reports_rejected_rows_then_imports_the_rest(
    world: Flask, client: FlaskClient
) -> None:
    login(client, "rita")
    rows = ["league,market,quantity,reference"]
    rows += [f"ordos,{MARKET},1,bulk-{i}" for i in range(1500)]
    rows += ["nowhere,COD-2027,1,", f"ordos,{MARKET},abc,", "ordos,NO-SUCH,1,",
             "ordos,YR-WATER-2027,1500,"]  # fmt: skip
    body = "\n".join(rows).encode()
    response = client.post(
        "/regulator/allocations/upload",
        data={
            "upload-csrf_token": csrf_token(client, "/regulator"),
            "upload-file": (io.BytesIO(body), "alloc.csv"),
        },
        content_type="multipart/form-data",
    )
    assert response.status_code == 302
    preview = client.get(response.headers["Location"]).get_data(as_text=True)
    assert '<strong id="accepted-count">1500</strong>' in preview
    assert '<strong id="rejected-count">4</strong>' in preview
    assert "Unknown league nowhere." in preview and "Unknown market NO-SUCH." in preview
    assert "not a positive whole number" in preview and "a multiple of the lot, 1,000 m³" in preview
    job = re.search(r"/regulator/uploads/(\d+)", response.headers["Location"])
    assert job
    done = client.post(
        f"/regulator/uploads/{job.group(1)}/confirm",
        data={"csrf_token": csrf_token(client, response.headers["Location"])},
    )
    assert done.status_code == 302
    result = client.get(done.headers["Location"]).get_data(as_text=True)
    assert "1500 allocations written" in result


def test_bad_upload_header_is_reported(world: Flask, client: FlaskClient) -> None:
    login(client, "rita")
    response = client.post(
        "/regulator/allocations/upload",
        data={
            "upload-csrf_token": csrf_token(client, "/regulator"),
            "upload-file": (io.BytesIO(b"who,what\nx,y\n"), "bad.csv"),
        },
        content_type="multipart/form-data",
    )
    preview = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "The first line must name the columns league,market,quantity[,reference]." in preview
    assert "No row can be allocated" in preview


def test_verification_all_green_and_exports(world: Flask, client: FlaskClient) -> None:
    login(client, "abe")
    started = client.post("/audit/verify", data={"csrf_token": csrf_token(client, "/audit/verify")})
    assert started.status_code == 302
    report = client.get(started.headers["Location"]).get_data(as_text=True)
    assert "All checks passed" in report
    assert report.count('class="ok" data-check=') == 15
    assert 'class="bad"' not in report
    csv_export = client.get("/audit/export.csv")
    assert csv_export.mimetype == "text/csv"
    lines = csv_export.get_data(as_text=True).splitlines()
    assert lines[0].startswith("journal_id,chain,seq")
    jsonl = client.get("/audit/export.jsonl").get_data(as_text=True).splitlines()
    first = json.loads(jsonl[0])
    assert set(first) >= {"id", "hash", "prev_hash", "postings"}
    explorer = client.get("/audit?league=ordos&kind=issuance").get_data(as_text=True)
    assert "issuance" in explorer and "Ordos" in explorer
    bad_date = client.get("/audit?since=yesterday").get_data(as_text=True)
    assert "Dates: use the date picker, or YYYY-MM-DD." in bad_date


def test_verification_shows_a_violation_in_red(world: Flask, client: FlaskClient) -> None:
    from sqlalchemy import text

    with world.app_context():
        engine = db.engine
        with engine.begin() as conn:
            if engine.dialect.name == "sqlite":
                conn.execute(text("DROP TRIGGER IF EXISTS ledger_accounts_guard_update"))
                names = conn.execute(
                    text("SELECT name FROM sqlite_master WHERE type='trigger'")
                ).scalars()
                for name in list(names):
                    if "account" in name:
                        conn.execute(text(f"DROP TRIGGER {name}"))
                conn.execute(
                    text("UPDATE ledger_accounts SET balance = balance + 1 WHERE owner='ordos'")
                )
            else:
                conn.execute(text("SET LOCAL session_replication_role = replica"))
                conn.execute(
                    text("UPDATE ledger_accounts SET balance = balance + 1 WHERE owner='ordos'")
                )
    login(client, "abe")
    started = client.post("/audit/verify", data={"csrf_token": csrf_token(client, "/audit/verify")})
    report = client.get(started.headers["Location"]).get_data(as_text=True)
    assert "problem(s) found" in report
    assert 'class="bad" data-check="balance"' in report
    assert "expected" in report and "found" in report


def test_language_switch_is_remembered(demo_registry: Flask, client: FlaskClient) -> None:
    zh = client.get("/?lang=zh")
    assert "lang=zh" in zh.headers.get("Set-Cookie", "")
    page = client.get("/").get_data(as_text=True)
    assert '<html lang="zh-CN">' in page and "最近出清价" in page
    en = client.get("/?lang=en").get_data(as_text=True)
    assert '<html lang="en">' in en and "Last price" in en
