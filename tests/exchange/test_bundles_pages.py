"""Bundle orders on the pages: the desk shows a bundle as one order; the run page says which
bundles were accepted and why the others were not; the desk cancels a bundle."""

from __future__ import annotations

import re

from flask import Flask
from flask.testing import FlaskClient

import ledger
from exchange.models import Role
from tests.exchange.bundle_helpers import JOINT_WINDOW, Auth, leg, markets, post_bundle, post_order
from tests.exchange.page_helpers import PageChecker, csrf_token, login, make_user
from tests.exchange.trading_helpers import balance, clear


def test_desk_and_run_pages_show_bundles(
    demo_registry: Flask, client: FlaskClient, auth: Auth
) -> None:
    app = demo_registry
    carbon, energy = markets(app)
    for mid, q, p, ref in ((carbon, 500, 9_000, "s-c"), (energy, 50, 20_000, "s-e")):
        assert (
            post_order(
                client,
                auth,
                "ordos",
                market_id=mid,
                side="sell",
                quantity=q,
                limit_price=p,
                client_order_id=ref,
            ).status_code
            == 201
        )
    ok = post_bundle(
        client,
        auth,
        "baotou",
        legs=[leg(carbon, "buy", 200), leg(energy, "buy", 20)],
        max_total=2_500_000,
        client_order_id="good",
    ).get_json()["id"]
    short = post_bundle(
        client,
        auth,
        "baotou",
        legs=[leg(carbon, "buy", 100), leg(energy, "buy", 10)],
        max_total=100_000,
        client_order_id="cheap",
    ).get_json()["id"]
    make_user(app, "desk-baotou", Role.LEAGUE, "baotou")
    login(client, "desk-baotou")
    page = client.get("/desk", headers={"Accept-Language": "en"}).get_data(as_text=True)
    row = re.search(rf'<tr data-bundle="{ok}">.*?</tr>', page, re.S)
    assert row is not None, page
    assert "Open" in row.group(0) and row.group(0).count("<li>") == 2  # one order, two legs
    outcome = clear(app, carbon, JOINT_WINDOW)

    make_user(app, "runs-auditor", Role.AUDITOR)
    client.post("/logout", data={"csrf_token": csrf_token(client, "/")})
    login(client, "runs-auditor")
    resp = client.get(f"/runs/{outcome.run_id}", headers={"Accept-Language": "en"})
    assert resp.status_code == 200
    html = resp.get_data(as_text=True)
    accepted = re.search(rf'<tr data-bundle="{ok}">.*?</tr>', html, re.S)
    rejected = re.search(rf'<tr data-bundle="{short}">.*?</tr>', html, re.S)
    assert accepted is not None and "Accepted" in accepted.group(0)
    assert rejected is not None
    assert "limit was not met at the clearing prices" in rejected.group(0)
    checker = PageChecker()
    checker.feed(html)
    assert not checker.problems
    zh = client.get(f"/runs/{outcome.run_id}", headers={"Accept-Language": "zh"})
    assert "本次联合出清的组合单" in zh.get_data(as_text=True)


def test_the_desk_cancels_a_bundle(demo_registry: Flask, client: FlaskClient, auth: Auth) -> None:
    app = demo_registry
    carbon, energy = markets(app)
    bid = post_bundle(
        client,
        auth,
        "baotou",
        legs=[leg(carbon, "buy", 100), leg(energy, "buy", 10)],
        max_total=1_000_000,
        client_order_id="gone",
    ).get_json()["id"]
    assert balance(app, "baotou", ledger.CASH)["held"] == 1_000_000
    make_user(app, "desk-baotou", Role.LEAGUE, "baotou")
    login(client, "desk-baotou")
    token = csrf_token(client, "/desk")
    resp = client.post(f"/desk/bundles/{bid}/cancel", data={"csrf_token": token})
    assert resp.status_code == 302
    assert balance(app, "baotou", ledger.CASH)["held"] == 0
    # another league's user cannot cancel it (nor see that it exists)
    make_user(app, "desk-ordos", Role.LEAGUE, "ordos")
    client.post("/logout", data={"csrf_token": token})
    login(client, "desk-ordos")
    again = client.post(
        f"/desk/bundles/{bid}/cancel", data={"csrf_token": csrf_token(client, "/desk")}
    )
    assert again.status_code == 404
