"""Joint clearing of a window's markets with bundle orders: settlement, refunds, replay."""

from __future__ import annotations

from datetime import timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

import ledger
from exchange.extensions import db
from exchange.models.bundles import JointClearingRun
from exchange.models.trading import ClearingRun, Trade
from exchange.uow import new_unit_of_work
from tests.exchange.bundle_helpers import (
    JOINT_WINDOW,
    Auth,
    leg,
    markets,
    post_bundle,
    post_order,
)
from tests.exchange.trading_helpers import balance, clear, verify_ok


@pytest.fixture
def book(demo_registry: Flask, client: FlaskClient, auth: Auth) -> tuple[int, int]:
    """Ordos offers 500 t of carbon at 90 yuan and 50 tce of energy-use rights at 200 yuan."""
    carbon, energy = markets(demo_registry)
    for mid, q, p, ref in ((carbon, 500, 9_000, "s-c"), (energy, 50, 20_000, "s-e")):
        resp = post_order(
            client,
            auth,
            "ordos",
            market_id=mid,
            side="sell",
            quantity=q,
            limit_price=p,
            client_order_id=ref,
        )
        assert resp.status_code == 201, resp.get_json()
    return carbon, energy


def _bundle(client: FlaskClient, auth: Auth, carbon: int, energy: int, **kw: object) -> int:
    body: dict[str, object] = {
        "legs": [leg(carbon, "buy", 200), leg(energy, "buy", 20)],
        "max_total": 2_500_000,
        "client_order_id": "bundle-1",
    }
    body.update(kw)
    resp = post_bundle(client, auth, "baotou", **body)
    assert resp.status_code == 201, resp.get_json()
    return int(resp.get_json()["id"])


def _runs(app: Flask) -> dict[int, int]:
    with app.app_context(), new_unit_of_work(db.session_factory) as s:
        rows = s.execute(select(ClearingRun.market_id, ClearingRun.id)).all()
    return {mid: rid for mid, rid in rows}


def test_an_accepted_bundle_settles_every_leg_and_refunds_the_rest(
    demo_registry: Flask, client: FlaskClient, auth: Auth, book: tuple[int, int]
) -> None:
    app = demo_registry
    carbon, energy = book
    cash_before = balance(app, "baotou", ledger.CASH)
    bid = _bundle(client, auth, carbon, energy)
    # the energy market's job fires first: it clears both markets of the window
    first = clear(app, energy, JOINT_WINDOW)
    assert first.created
    second = clear(app, carbon, JOINT_WINDOW)
    assert not second.created
    runs = _runs(app)
    assert set(runs) == {carbon, energy} and runs[carbon] == second.run_id

    got = client.get(f"/api/v1/bundles/{bid}", headers=auth("league", "baotou")).get_json()
    assert got["status"] == "accepted", got
    cost = 200 * 9_000 + 20 * 20_000
    assert got["amount"] == cost
    assert {x["market_id"]: (x["filled_quantity"], x["price"]) for x in got["legs"]} == {
        carbon: (200, 9_000),
        energy: (20, 20_000),
    }
    assert all(h["remaining"] == 0 for h in got["holds"])
    after = balance(app, "baotou", ledger.CASH)
    assert after["posted"] == cash_before["posted"] - cost and after["held"] == 0
    assert balance(app, "baotou", ledger.market_asset(carbon))["posted"] == 200
    assert balance(app, "baotou", ledger.market_asset(energy))["posted"] == 20
    assert balance(app, "ordos", ledger.market_asset(carbon))["posted"] == 10_000 - 200
    with app.app_context(), new_unit_of_work(db.session_factory) as s:
        trades = s.execute(
            select(Trade.market_id, Trade.buyer, Trade.quantity, Trade.source).where(
                Trade.order_id.is_(None)
            )
        ).all()
        linked = s.scalars(select(JointClearingRun.run_id)).all()
    assert sorted(trades) == sorted(
        [(carbon, "baotou", 200, f"bundle:{bid}"), (energy, "baotou", 20, f"bundle:{bid}")]
    )
    assert sorted(linked) == sorted(runs.values())
    verify_ok(app)
    for rid in runs.values():
        replay = client.post(f"/api/v1/clearing-runs/{rid}/replay", headers=auth("auditor"))
        assert replay.status_code == 200, replay.get_json()
        assert replay.get_json()["ok"] is True
    # once accepted, the bundle is no longer sealed from auditors
    assert client.get(f"/api/v1/bundles/{bid}", headers=auth("auditor")).status_code == 200


@pytest.mark.parametrize(
    ("kw", "reason"),
    [
        ({"max_total": 2_000_000}, "limit_not_met"),
        ({"legs": "too_big"}, "no_counterpart"),
    ],
)
def test_all_or_nothing_a_rejected_bundle_trades_no_leg(
    demo_registry: Flask,
    client: FlaskClient,
    auth: Auth,
    book: tuple[int, int],
    kw: dict[str, object],
    reason: str,
) -> None:
    app = demo_registry
    carbon, energy = book
    if kw.get("legs") == "too_big":  # carbon could fill, energy has only 50 for sale
        kw = {"legs": [leg(carbon, "buy", 200), leg(energy, "buy", 60)], "max_total": 10**7}
    cash_before = balance(app, "baotou", ledger.CASH)
    order = post_order(
        client,
        auth,
        "baotou",
        market_id=carbon,
        side="buy",
        quantity=100,
        limit_price=9_500,
        client_order_id="b-c",
    )
    assert order.status_code == 201
    bid = _bundle(client, auth, carbon, energy, **kw)
    clear(app, carbon, JOINT_WINDOW)
    got = client.get(f"/api/v1/bundles/{bid}", headers=auth("league", "baotou")).get_json()
    assert got["status"] == "rejected" and got["reason"] == reason, got
    assert got["amount"] == 0 and all(x["filled_quantity"] == 0 for x in got["legs"])
    assert all(h["remaining"] == 0 for h in got["holds"])
    # the plain order traded as it would have alone: 100 t at 90 yuan
    after = balance(app, "baotou", ledger.CASH)
    assert after["posted"] == cash_before["posted"] - 100 * 9_000 and after["held"] == 0
    assert balance(app, "baotou", ledger.market_asset(energy))["posted"] == 0
    runs = _runs(app)
    assert set(runs) == {carbon, energy}
    for rid in runs.values():
        replay = client.post(f"/api/v1/clearing-runs/{rid}/replay", headers=auth("regulator"))
        assert replay.get_json()["ok"] is True, replay.get_json()
    verify_ok(app)


def test_a_window_without_bundles_clears_alone(
    demo_registry: Flask, client: FlaskClient, auth: Auth, book: tuple[int, int]
) -> None:
    """A bundle of a later window changes nothing in this one."""
    app = demo_registry
    carbon, energy = book
    later = (JOINT_WINDOW + timedelta(minutes=5)).isoformat()
    bid = _bundle(client, auth, carbon, energy, window=later)
    outcome = clear(app, carbon, JOINT_WINDOW)
    assert outcome.created
    assert set(_runs(app)) == {carbon}
    with app.app_context(), new_unit_of_work(db.session_factory) as s:
        assert s.scalars(select(JointClearingRun)).all() == []
    got = client.get(f"/api/v1/bundles/{bid}", headers=auth("league", "baotou")).get_json()
    assert got["status"] == "open"


def test_competing_bundles_the_best_set_that_pays_its_way_wins(
    demo_registry: Flask, client: FlaskClient, auth: Auth, book: tuple[int, int]
) -> None:
    """Brute force over every subset of three bundles competing for 500 t and 50 tce."""
    from itertools import combinations

    app = demo_registry
    carbon, energy = book
    ids = {
        "x": _bundle(
            client,
            auth,
            carbon,
            energy,
            legs=[leg(carbon, "buy", 400), leg(energy, "buy", 10)],
            max_total=4_000_000,
            client_order_id="x",
        ),
        "y": _bundle(
            client,
            auth,
            carbon,
            energy,
            legs=[leg(carbon, "buy", 200), leg(energy, "buy", 40)],
            max_total=3_000_000,
            client_order_id="y",
        ),
        "z": _bundle(
            client,
            auth,
            carbon,
            energy,
            legs=[leg(carbon, "buy", 100), leg(energy, "buy", 30)],
            max_total=1_600_000,
            client_order_id="z",
        ),
    }
    wants = {"x": (400, 10, 4_000_000), "y": (200, 40, 3_000_000), "z": (100, 30, 1_600_000)}
    # Prices stay at the offers (90 yuan, 200 yuan) while supply lasts: a set is feasible if
    # it fits in 500 t and 50 tce and every bundle of it pays its way at those prices.
    best, best_surplus = (), -1
    for n in range(4):
        for subset in combinations(sorted(wants), n):
            c = sum(wants[k][0] for k in subset)
            e = sum(wants[k][1] for k in subset)
            cost = {k: wants[k][0] * 9_000 + wants[k][1] * 20_000 for k in subset}
            if c > 500 or e > 50 or any(cost[k] > wants[k][2] for k in subset):
                continue
            surplus = sum(wants[k][2] - cost[k] for k in subset)
            if surplus > best_surplus:
                best, best_surplus = subset, surplus
    clear(app, carbon, JOINT_WINDOW)
    accepted = set()
    for name, bid in ids.items():
        got = client.get(f"/api/v1/bundles/{bid}", headers=auth("regulator")).get_json()
        if got["status"] == "accepted":
            accepted.add(name)
    assert accepted == set(best)
    verify_ok(app)


def test_a_bundle_with_a_minimum_ratio_executes_every_leg_by_the_same_fraction(
    demo_registry: Flask, client: FlaskClient, auth: Auth, book: tuple[int, int]
) -> None:
    """200 t + 80 tce wanted, 50 tce for sale: half of every leg (min_ratio 500) trades."""
    app = demo_registry
    carbon, energy = book
    cash_before = balance(app, "baotou", ledger.CASH)
    bid = _bundle(
        client,
        auth,
        carbon,
        energy,
        legs=[leg(carbon, "buy", 200), leg(energy, "buy", 80)],
        max_total=4_000_000,
        min_ratio=500,
    )
    clear(app, carbon, JOINT_WINDOW)
    got = client.get(f"/api/v1/bundles/{bid}", headers=auth("league", "baotou")).get_json()
    assert got["status"] == "accepted" and (got["steps"], got["of"]) == (1, 2), got
    assert {x["market_id"]: x["filled_quantity"] for x in got["legs"]} == {carbon: 100, energy: 40}
    cost = 100 * 9_000 + 40 * 20_000
    assert got["amount"] == cost
    after = balance(app, "baotou", ledger.CASH)
    assert after["posted"] == cash_before["posted"] - cost and after["held"] == 0
    for rid in _runs(app).values():
        replay = client.post(f"/api/v1/clearing-runs/{rid}/replay", headers=auth("auditor"))
        assert replay.get_json()["ok"] is True, replay.get_json()
    verify_ok(app)


def test_replay_finds_a_tampered_joint_book(
    demo_registry: Flask, client: FlaskClient, auth: Auth, book: tuple[int, int]
) -> None:
    from sqlalchemy import update

    from exchange.models.bundles import JointClearing

    app = demo_registry
    carbon, energy = book
    _bundle(client, auth, carbon, energy)
    run_id = clear(app, carbon, JOINT_WINDOW).run_id
    with app.app_context(), new_unit_of_work(db.session_factory) as s, s.begin():
        joint = s.scalars(select(JointClearing)).one()
        s.execute(update(JointClearing).values(book=joint.book.replace("2500000", "1000000")))
    replay = client.post(f"/api/v1/clearing-runs/{run_id}/replay", headers=auth("auditor"))
    assert replay.status_code == 409
    assert any("joint book hash" in d for d in replay.get_json()["differences"])


def test_a_bundle_whose_window_was_missed_is_rejected_at_the_next_run(
    demo_registry: Flask, client: FlaskClient, auth: Auth, book: tuple[int, int]
) -> None:
    """Its markets did not clear its window (here: nobody ran it); the next run releases it."""
    app = demo_registry
    carbon, energy = book
    bid = _bundle(client, auth, carbon, energy)
    clear(app, carbon, JOINT_WINDOW + timedelta(minutes=5))
    got = client.get(f"/api/v1/bundles/{bid}", headers=auth("league", "baotou")).get_json()
    assert got["status"] == "rejected" and got["reason"] == "window_missed", got
    assert balance(app, "baotou", ledger.CASH)["held"] == 0
    verify_ok(app)


def test_the_group_clears_once_when_every_markets_job_fires_together(
    demo_registry: Flask, client: FlaskClient, auth: Auth, book: tuple[int, int]
) -> None:
    import threading

    from exchange.mechanisms.call_auction.run import run_clearing
    from exchange.models.trading import RunTrigger

    app = demo_registry
    carbon, energy = book
    bid = _bundle(client, auth, carbon, energy)
    created: list[bool] = []

    def job(mid: int) -> None:
        with app.app_context():
            out = run_clearing(
                db.session_factory,
                mid,
                JOINT_WINDOW,
                trigger=RunTrigger.SCHEDULE,
                actor="scheduler",
            )
            created.append(out.created)

    threads = [threading.Thread(target=job, args=(m,)) for m in (carbon, energy, energy, carbon)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(created) == [False, False, False, True]
    assert set(_runs(app)) == {carbon, energy}
    got = client.get(f"/api/v1/bundles/{bid}", headers=auth("regulator")).get_json()
    assert got["status"] == "accepted" and got["amount"] == 200 * 9_000 + 20 * 20_000
    with app.app_context(), new_unit_of_work(db.session_factory) as s:
        failed = s.scalars(select(ClearingRun).where(ClearingRun.failure_reason.is_not(None)))
        assert list(failed) == []
    verify_ok(app)


def test_an_accepted_sell_bundle_delivers_every_leg_and_is_paid(
    demo_registry: Flask, client: FlaskClient, auth: Auth
) -> None:
    app = demo_registry
    carbon, energy = markets(app)
    for mid, q, p, ref in ((carbon, 300, 9_500, "b-c"), (energy, 30, 21_000, "b-e")):
        resp = post_order(
            client,
            auth,
            "baotou",
            market_id=mid,
            side="buy",
            quantity=q,
            limit_price=p,
            client_order_id=ref,
        )
        assert resp.status_code == 201, resp.get_json()
    cash_before = balance(app, "ordos", ledger.CASH)["posted"]
    resp = post_bundle(
        client,
        auth,
        "ordos",
        legs=[leg(carbon, "sell", 200), leg(energy, "sell", 20)],
        min_total=1_000_000,
        client_order_id="sell-1",
    )
    assert resp.status_code == 201, resp.get_json()
    bid = resp.get_json()["id"]
    clear(app, energy, JOINT_WINDOW)
    got = client.get(f"/api/v1/bundles/{bid}", headers=auth("league", "ordos")).get_json()
    assert got["status"] == "accepted", got
    prices = {x["market_id"]: x["price"] for x in got["legs"]}
    received = 200 * prices[carbon] + 20 * prices[energy]
    assert got["amount"] == received >= 1_000_000
    assert balance(app, "ordos", ledger.CASH)["posted"] == cash_before + received
    assert balance(app, "ordos", ledger.market_asset(carbon)) == {
        "posted": 10_000 - 200,
        "held": 0,
        "available": 10_000 - 200,
    }
    assert balance(app, "baotou", ledger.market_asset(energy))["posted"] == 20
    for rid in _runs(app).values():
        replay = client.post(f"/api/v1/clearing-runs/{rid}/replay", headers=auth("auditor"))
        assert replay.get_json()["ok"] is True, replay.get_json()
    verify_ok(app)


def test_a_bundle_that_would_move_a_price_against_itself_is_not_selected(
    demo_registry: Flask, client: FlaskClient, auth: Auth, book: tuple[int, int]
) -> None:
    """All 500 t for sale: accepted, its leg would set carbon's price above the offer (the
    single-market rule with a price-taking bid and no elastic demand), beyond its limit."""
    app = demo_registry
    carbon, energy = book
    limit = 500 * 9_000 + 20 * 20_000 + 1_000
    bid = _bundle(
        client,
        auth,
        carbon,
        energy,
        legs=[leg(carbon, "buy", 500), leg(energy, "buy", 20)],
        max_total=limit,
    )
    clear(app, carbon, JOINT_WINDOW)
    got = client.get(f"/api/v1/bundles/{bid}", headers=auth("league", "baotou")).get_json()
    assert got["status"] == "rejected" and got["reason"] == "not_selected", got
    assert balance(app, "baotou", ledger.CASH)["held"] == 0


def test_markets_under_stability_rules_take_no_bundle(
    demo_registry: Flask, client: FlaskClient, auth: Auth, book: tuple[int, int]
) -> None:
    """Joint clearing applies neither cancellation nor reserves: a market with stability rules
    refuses bundle legs, and a bundle entered before its rules came is rejected at the run,
    while that market clears alone under its rules."""
    app = demo_registry
    carbon, energy = book
    bid = _bundle(client, auth, carbon, energy)
    rules = {"min_cover_percent": 100}
    put = client.put(f"/api/v1/markets/{carbon}/stability", json=rules, headers=auth("regulator"))
    assert put.status_code == 200, put.get_json()
    legs = [leg(carbon, "buy", 100), leg(energy, "buy", 10)]
    refused = post_bundle(
        client, auth, "baotou", legs=legs, max_total=2_000_000, client_order_id="b-2"
    )
    assert refused.status_code == 422, refused.get_json()
    assert "legs.0.market_id" in str(refused.get_json()) and "stability" in str(refused.get_json())
    outcome = clear(app, energy, JOINT_WINDOW)
    got = client.get(f"/api/v1/bundles/{bid}", headers=auth("league", "baotou")).get_json()
    assert got["status"] == "rejected" and got["reason"] == "stability_rules", got
    assert balance(app, "baotou", ledger.CASH)["held"] == 0
    run = client.get(f"/api/v1/clearing-runs/{outcome.run_id}", headers=auth("regulator"))
    assert run.get_json()["market_id"] == energy
    assert clear(app, carbon, JOINT_WINDOW).created  # alone, by its rules
    verify_ok(app)
