"""Conveyance losses in the zonal call auction: what is lost on a link is sold, not bought."""

from __future__ import annotations

from collections.abc import Callable

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import update

import ledger
from exchange.extensions import db
from exchange.models import TransferLimit
from exchange.uow import new_unit_of_work
from tests.exchange.trading_helpers import clear, fund, market_id, verify_ok

Auth = Callable[..., dict[str, str]]
LOSS = 50  # per mille on every link of the Yellow River market


def test_water_lost_on_the_way_is_booked_and_the_run_balances(
    demo_registry: Flask, client: FlaskClient, auth: Auth
) -> None:
    app = demo_registry
    yellow = market_id(app, "YR-WATER-2027")
    with app.app_context(), new_unit_of_work(db.session_factory) as s:
        links = update(TransferLimit).where(TransferLimit.market_id == yellow)
        s.execute(links.values(loss_permille=LOSS))
    fund(app, rights={("alxa", yellow): 50_000_000}, cash={"hohhot": 10_000_000_000})
    orders = (
        ("alxa", "sell", 60, "l-s"),
        ("hohhot", "buy", 150, "l-b"),
    )
    for league, side, price, key in orders:
        response = client.post(
            "/api/v1/orders",
            headers=auth("league", league),
            json={
                "market_id": yellow,
                "side": side,
                "quantity": 20_000_000,
                "limit_price": price,
                "client_order_id": key,
            },
        )
        assert response.status_code == 201, response.get_json()
    outcome = clear(app, yellow)
    run = client.get(f"/api/v1/clearing-runs/{outcome.run_id}").get_json()
    assert run["status"] == "completed", run
    sold = client.get("/api/v1/orders?league=alxa", headers=auth("regulator")).get_json()
    bought = client.get("/api/v1/orders?league=hohhot", headers=auth("regulator")).get_json()
    sent = sold["items"][0]["filled_quantity"]
    arrived = bought["items"][0]["filled_quantity"]
    assert 0 < arrived < sent, (sent, arrived)
    asset = ledger.market_asset(yellow)
    with app.app_context(), new_unit_of_work(db.session_factory) as s:
        lost = ledger.balance_of(s, ledger.conveyance_loss_account(asset))
        clearing = ledger.balance_of(s, ledger.clearing_account(asset))
        received = ledger.balance_of(s, ledger.league_account("hohhot", asset))
    assert lost == sent - arrived
    assert clearing == 0
    assert received == arrived
    verify_ok(app)
    replay = client.post(f"/api/v1/clearing-runs/{outcome.run_id}/replay", headers=auth("auditor"))
    assert replay.get_json()["ok"] is True, replay.get_json()
