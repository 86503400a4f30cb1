"""Paid allocation of discharge rights: the bill with the issuance, instalments, calculators."""

from __future__ import annotations

from datetime import date

import pytest
from flask import Flask
from flask.testing import FlaskClient

import ledger
from exchange.api import paid_use_api
from exchange.extensions import db
from exchange.services import allocation_calculators, paid_use
from exchange.services.commands import CreateMarket
from exchange.services.registry import create_market
from exchange.uow import new_unit_of_work
from tests.conftest import AuthHeaders
from tests.exchange.trading_helpers import balance, fund, verify_ok


@pytest.fixture
def paid(demo_registry: Flask, monkeypatch: pytest.MonkeyPatch) -> Flask:
    monkeypatch.setattr(paid_use_api, "today", lambda: date(2027, 1, 4))
    fund(demo_registry, cash={"ordos": 5 * 10**9, "baotou": 10**8})
    return demo_registry


def test_fee_arithmetic() -> None:
    assert paid_use.bill_amount(10, "t", 100_000) == 5_000_000  # 10 t COD: 50,000 yuan
    assert paid_use.bill_amount(1, "kg", 50_000) == 250  # a thousandth, in fen
    assert paid_use.bill_amount(1, "kg", 300_001) == 1_501  # rounded up
    assert paid_use.minimum_first(1_000_000_001) == 400_000_001


def test_issue_bills_and_small_bill_is_paid_at_once(
    client: FlaskClient, auth: AuthHeaders, paid: Flask
) -> None:
    reg, ordos = auth("regulator"), auth("league", "ordos")
    issued = client.post(
        "/api/v1/paid-use/issuances",
        json={"league": "ordos", "market": "NH3N-2027", "quantity": 10},
        headers=reg,
    )
    assert issued.status_code == 201, issued.get_json()
    bill = issued.get_json()["bill"]
    assert bill["amount"] == 10 * 300_000 * 5 and bill["instalments"] is False
    assert bill["expires_on"] == "2032-01-04" and bill["status"] == "unpaid"
    carbon = client.post(
        "/api/v1/paid-use/issuances",
        json={"league": "ordos", "market": "CEA-2026", "quantity": 100},
        headers=reg,
    )
    assert carbon.status_code == 422
    url = f"/api/v1/paid-use/bills/{bill['id']}/payments"
    part = client.post(url, json={"amount": 1_000, "client_ref": "p1"}, headers=ordos)
    assert part.status_code == 422 and "at once" in part.get_json()["message"]
    other = client.post(
        url, json={"amount": bill["amount"], "client_ref": "p1"}, headers=auth("league", "baotou")
    )
    assert other.status_code == 403
    full = client.post(url, json={"amount": bill["amount"], "client_ref": "p1"}, headers=ordos)
    assert full.status_code == 201 and full.get_json()["bill"]["status"] == "paid"
    again = client.post(url, json={"amount": bill["amount"], "client_ref": "p1"}, headers=ordos)
    assert again.status_code == 200 and again.get_json()["id"] == full.get_json()["id"]
    more = client.post(url, json={"amount": 1, "client_ref": "p2"}, headers=ordos)
    assert more.status_code == 409
    with paid.app_context():
        s = db.session_factory()
        try:
            assert ledger.balance_of(s, ledger.fee_account("ordos")) == 0
            assert ledger.balance_of(s, ledger.fee_income_account()) == bill["amount"]
        finally:
            s.close()
    listed = client.get("/api/v1/paid-use/bills", headers=auth("league", "baotou")).get_json()
    assert listed == []
    verify_ok(paid)


def test_a_large_bill_in_instalments_of_at_least_40_percent_first(paid: Flask) -> None:
    data = {
        "code": "COD-BIG", "name_zh": "化学需氧量排污权 大额", "name_en": "COD big",
        "right_type": "pollutant", "pollutant": "COD", "basin": None, "vintage": "2028",
        "unit": "t", "lot": 1, "tick": 100, "price_floor": 100_000, "cap": 10**6,
        "clearing_schedule": "0 10 * * 1",
    }  # fmt: skip
    with paid.app_context(), new_unit_of_work(db.session_factory) as session:
        create_market(session, CreateMarket.from_data(data))
        issued = paid_use.issue_paid(
            session, paid_use.IssuePaid("ordos", "COD-BIG", 2_500, "regulator", date(2027, 1, 4))
        )
    bill = issued["bill"]
    assert bill["amount"] == 2_500 * 100_000 * 5 == 1_250_000_000  # 12.5 million yuan
    assert bill["instalments"] is True and bill["minimum_first"] == 500_000_000

    def pay(amount: int, ref: str) -> dict:
        with paid.app_context(), new_unit_of_work(db.session_factory) as session:
            paid_use.pay(
                session,
                paid_use.PayBill(bill["id"], "ordos", amount, ref, "ordos", date(2027, 2, 1)),
            )
            return paid_use.bill_json(paid_use.get_bill(session, bill["id"]), date(2027, 2, 1))

    from exchange.errors import InvalidInput

    with pytest.raises(InvalidInput):
        pay(499_999_999, "too-little")
    assert pay(500_000_000, "first")["status"] == "partially_paid"
    assert pay(100_000_000, "second")["remaining"] == 650_000_000
    assert pay(650_000_000, "rest")["status"] == "paid"
    assert balance(paid, "ordos", ledger.CASH)["available"] == 5 * 10**9 - 1_250_000_000
    verify_ok(paid)


def test_calculators(client: FlaskClient, auth: AuthHeaders, paid: Flask) -> None:
    assert allocation_calculators.carbon_intensity(877, 1_000_000, 1_000) == 877_000
    assert allocation_calculators.carbon_intensity(877, 1_001, 999) == 876  # 876.99: rounded down
    assert allocation_calculators.energy_use(10_000, 300, 500, 400) == 3_750
    assert allocation_calculators.energy_use(1, 300, 1, 3) == 1  # rounded up
    reg = auth("regulator")
    energy = client.post(
        "/api/v1/allocation-calculators/energy",
        json={"new_use": 10_000, "b_permille": 200, "intensity_milli": 5, "average_milli": 4},
        headers=reg,
    )
    assert energy.status_code == 422
    carbon = client.post(
        "/api/v1/allocation-calculators/carbon",
        json={"benchmark_milli": 877, "output": 1_000_000, "factor_permille": 1_000},
        headers=reg,
    )
    assert carbon.get_json() == {"quantity": 877_000}
