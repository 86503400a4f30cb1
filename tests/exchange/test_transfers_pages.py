"""Transfer pages: the desk's proposals, the console's four-eyes queue, the public list."""

from __future__ import annotations

import re

from flask import Flask

from exchange.extensions import db
from exchange.models import Role
from tests.exchange.page_helpers import csrf_token, login, make_user
from tests.exchange.test_pages_language import BROWSER, _english_only, texts
from tests.exchange.transfer_helpers import allocate_water, fund_cash, propose, year_market


def _seed(app: Flask) -> int:
    with app.app_context():
        session = db.session_factory()
        try:
            for year in (2024, 2025):
                year_market(session, year)
                allocate_water(session, "bayannur", year, 100_000)
            fund_cash(session, "ordos", 10**9)
            return propose(session, first=2024, last=2025)
        finally:
            session.close()


def _post(client, path: str, page: str, **data: str):  # type: ignore[no-untyped-def]
    return client.post(
        path, data={"csrf_token": csrf_token(client, page), **data}, follow_redirects=True
    )


def test_desk_and_console_carry_a_transfer_from_proposal_to_publication(
    demo_registry: Flask,
) -> None:
    tid = _seed(demo_registry)
    make_user(demo_registry, "bayannur-user", Role.LEAGUE, "bayannur")
    make_user(demo_registry, "reg-one", Role.REGULATOR)
    make_user(demo_registry, "reg-two", Role.REGULATOR)

    seller = demo_registry.test_client()
    login(seller, "bayannur-user")
    desk = seller.get("/desk/transfers?lang=zh").get_data(as_text=True)
    assert "向您提出的转让" in desk and f'data-transfer="{tid}"' in desk
    accepted = _post(seller, f"/desk/transfers/{tid}/accept", "/desk/transfers?lang=zh")
    assert "已接受" in accepted.get_data(as_text=True)

    first = demo_registry.test_client()
    login(first, "reg-one")
    queue = first.get("/regulator/transfers?lang=zh").get_data(as_text=True)
    assert f'data-transfer="{tid}"' in queue and "双人复核" in queue
    _post(first, f"/regulator/transfers/{tid}/review", "/regulator/transfers?lang=zh")
    refused = _post(first, f"/regulator/transfers/{tid}/approve", "/regulator/transfers?lang=zh")
    assert "须由另一名监管人员批准" in refused.get_data(as_text=True)

    second = demo_registry.test_client()
    login(second, "reg-two")
    done = _post(second, f"/regulator/transfers/{tid}/approve", "/regulator/transfers?lang=zh")
    assert "已完成" in done.get_data(as_text=True)  # 2024 and 2025 settled at approval

    public = demo_registry.test_client().get("/transfers?lang=zh").get_data(as_text=True)
    assert f'data-transfer="{tid}"' in public
    assert "巴彦淖尔" in public and "鄂尔多斯" in public and "黄河水权" in public
    closed = seller.get("/desk/transfers?lang=zh").get_data(as_text=True)
    assert re.search(rf'data-transfer="{tid}"><strong>转让 {tid}</strong> \(已完成\)', closed)
    english = _english_only()
    for client, path in ((seller, "/desk/transfers"), (first, "/regulator/transfers")):
        page = client.get(path, headers=BROWSER).get_data(as_text=True)
        assert set(texts(page)) & english == set(), path
    assert set(texts(public)) & english == set()


def test_a_proposal_is_not_on_the_public_list_and_other_leagues_cannot_act(
    demo_registry: Flask,
) -> None:
    tid = _seed(demo_registry)
    assert f'data-transfer="{tid}"' not in demo_registry.test_client().get("/transfers").get_data(
        as_text=True
    )
    make_user(demo_registry, "baotou-user", Role.LEAGUE, "baotou")
    other = demo_registry.test_client()
    login(other, "baotou-user")
    assert f'data-transfer="{tid}"' not in other.get("/desk/transfers").get_data(as_text=True)
    answer = _post(other, f"/desk/transfers/{tid}/accept", "/desk/transfers", lang="en")
    assert "No such transfer." in answer.get_data(as_text=True)


def test_the_console_notifies_the_regulator_of_a_default(demo_registry: Flask) -> None:
    from tests.exchange.transfer_helpers import REG_A, REG_B, act, league, roll

    with demo_registry.app_context():
        session = db.session_factory()
        try:
            for year in (2027, 2028):
                year_market(session, year)
            allocate_water(session, "wuhai", 2027, 100_000)
            fund_cash(session, "ordos", 10**9)
            tid = propose(session, seller="wuhai", first=2027, last=2028)
            act(session, "accept", tid, league("wuhai"))
            act(session, "review", tid, REG_A)
            act(session, "approve", tid, REG_B)
            roll(session, "2027-01-01")
            allocate_water(session, "wuhai", 2028, 1_000)  # too little for 2028: default
        finally:
            session.close()
    make_user(demo_registry, "reg-one", Role.REGULATOR)
    client = demo_registry.test_client()
    login(client, "reg-one")
    console = client.get("/regulator?lang=zh").get_data(as_text=True)
    assert 'id="transfer-defaults"' in console and "1 项水权转让违约" in console
    queue = client.get("/regulator/transfers?lang=zh").get_data(as_text=True)
    assert f'data-transfer="{tid}"' in queue and "违约的转让" in queue


def test_a_league_proposes_on_its_desk_and_errors_stay_in_its_language(
    demo_registry: Flask,
) -> None:
    make_user(demo_registry, "ordos-user", Role.LEAGUE, "ordos")
    client = demo_registry.test_client()
    login(client, "ordos-user")
    form = {
        "propose-family": "water:yellow",
        "propose-side": "buy",
        "propose-counterparty": "bayannur",
        "propose-quantity": "1,500",
        "propose-first_year": "2027",
        "propose-last_year": "2029",
        "propose-price": "1.03",
        "propose-payment": "yearly",
    }
    refused = _post(client, "/desk/transfers", "/desk/transfers?lang=zh", **form)
    page = refused.get_data(as_text=True)
    assert "请输入该市场交易单位的正整数倍" in page
    assert set(texts(page)) & _english_only() == set()
    done = _post(client, "/desk/transfers", "/desk/transfers?lang=zh", **{
        **form, "propose-quantity": "100,000"
    })  # fmt: skip
    assert "已提出转让" in done.get_data(as_text=True)
    with demo_registry.app_context():
        session = db.session_factory()
        try:
            from exchange.models import Transfer

            made = session.query(Transfer).one()
            assert (made.seller, made.buyer, made.proposer) == ("bayannur", "ordos", "ordos")
            assert (made.quantity_per_year, made.price, made.last_year) == (100_000, 103, 2029)
        finally:
            session.close()
