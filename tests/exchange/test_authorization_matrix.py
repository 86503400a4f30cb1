"""Every route of the app, called by every kind of actor: the expectations in ``authz_rules``."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select, table, update
from sqlalchemy.orm import Session

from exchange.extensions import db
from exchange.identity import service
from exchange.models.trading import Order, OrderStatus
from exchange.uow import new_unit_of_work
from tests.conftest import AuthHeaders, table_names
from tests.exchange import compensation_helpers
from tests.exchange.authz_rules import (
    ACTORS,
    BAD,
    DENY,
    OK,
    ORDER_VISIBILITY,
    OTHER_LEAGUE,
    OWN_LEAGUE,
    RULES,
    UNAUTH,
    Rule,
)
from tests.exchange.compliance_helpers import matrix_bill, matrix_period
from tests.exchange.enterprise_helpers import matrix_enterprises
from tests.exchange.trading_helpers import clear, fund
from tests.exchange.transfer_helpers import matrix_transfers

pytestmark = pytest.mark.slow  # every route x every actor, each on a fresh world

IGNORED_METHODS = {"HEAD", "OPTIONS"}


def routes_of(app: Flask) -> set[tuple[str, str]]:
    """(METHOD, rule) of every route of the app."""
    return {
        (method, rule.rule)
        for rule in app.url_map.iter_rules()
        for method in (rule.methods or set()) - IGNORED_METHODS
    }


def test_every_route_has_a_rule(app: Flask) -> None:
    routes = routes_of(app)
    missing = sorted(routes - set(RULES))
    stale = sorted(set(RULES) - routes)
    assert not missing, (
        "routes without an authorization rule: add an entry for each to RULES in "
        f"tests/exchange/authz_rules.py (who may call it, and how): {missing}"
    )
    assert not stale, f"RULES in tests/exchange/authz_rules.py name routes that are gone: {stale}"


@dataclass
class World:
    headers: dict[str, dict[str, str]]
    values: dict[str, Any]

    def fill(self, value: Any) -> Any:
        """``value`` with its placeholders replaced (see ``authz_rules``)."""
        if isinstance(value, dict):
            return {key: self.fill(item) for key, item in value.items()}
        if isinstance(value, list):
            return [self.fill(item) for item in value]
        if isinstance(value, str):
            if value.startswith("{") and value.endswith("}") and value[1:-1] in self.values:
                return self.values[value[1:-1]]
            return value.format(**self.values)
        return value


@pytest.fixture
def world(demo_registry: Flask, client: FlaskClient, auth: AuthHeaders) -> World:
    """Six actors, and something of the own league's to reach for: an order, a run, a token."""
    headers = {
        "anonymous": {},
        "league_own": auth("league", OWN_LEAGUE),
        "league_other": auth("league", OTHER_LEAGUE),
        "regulator": auth("regulator"),
        "auditor": auth("auditor"),
        "admin": auth("admin"),
    }
    rep, enterprise_values = matrix_enterprises(
        demo_registry, client, headers["regulator"], headers["league_own"]
    )
    headers["representative"] = rep
    market = next(
        m
        for m in client.get("/api/v1/markets").get_json()
        if OWN_LEAGUE in {e["league"] for e in m["eligible_leagues"]} and not m["zonal"]
    )
    fund(
        demo_registry,
        rights={(OWN_LEAGUE, market["id"]): 100 * market["lot"]},
        cash={OWN_LEAGUE: 10**9},
    )
    run = clear(demo_registry, market["id"])
    price = market["price_floor"] + market["tick"]
    order = client.post(
        "/api/v1/orders",
        headers=headers["league_own"],
        json={
            "market_id": market["id"],
            "side": "sell",
            "quantity": market["lot"],
            "limit_price": price,
            "client_order_id": "matrix-open",
        },
    )
    assert order.status_code == 201, order.get_json()
    with demo_registry.app_context(), new_unit_of_work(db.session_factory) as session:
        own = service.find_user(session, f"test-league-{OWN_LEAGUE}")
        assert own is not None
        spare = service.create_token(session, own.id, name="spare")
    agreement_id = compensation_helpers.register(
        demo_registry, indicators={"COD": 16_000, "NH3-N": 500}
    )
    compensation_helpers.reading(
        demo_registry, agreement_id, "2024", 3, {"COD": 16_000, "NH3-N": 500}
    )
    values = {
        "league": OWN_LEAGUE,
        "market_id": market["id"],
        "market_code": market["code"],
        "lot": market["lot"],
        "price": price,
        "order_id": order.get_json()["id"],
        "run_id": run.run_id,
        "user_id": own.id,
        "token_id": spare.token.id,
        "agreement_id": agreement_id,
        # compliance: an open period over this market, with ordos's verified figure
        "period_id": matrix_period(demo_registry, market["code"], OWN_LEAGUE),
        "bill_id": matrix_bill(demo_registry, OWN_LEAGUE),
        **enterprise_values,
    }
    with demo_registry.app_context():  # transfers of ordos in each state (issue 13)
        session = db.session_factory()
        try:
            values.update(matrix_transfers(session))
        finally:
            session.close()
    return World(headers=headers, values=values)


def row_counts(app: Flask) -> dict[str, int]:
    """Rows per table, but the action log (which grows with every write, by design)."""
    with app.app_context():
        session: Session = db.session_factory()
        try:
            return {
                name: session.scalar(select(func.count()).select_from(table(name))) or 0
                for name in table_names()
                if name != "action_log"
            }
        finally:
            session.close()


def _matches(outcome: str, status: int, rule: Rule) -> bool:
    if outcome == OK:
        return status < 400 or status in rule.also_ok
    if outcome == DENY:
        return status in (403, 404)
    if outcome == UNAUTH:
        return status == 401
    if outcome == BAD:
        return status == 400
    raise AssertionError(f"unknown outcome {outcome!r}")


@pytest.mark.parametrize(("method", "rule_key"), sorted(RULES), ids=lambda v: str(v))
def test_route_answers_each_actor_as_its_rule_says(
    app: Flask, client: FlaskClient, world: World, method: str, rule_key: str
) -> None:
    rule = RULES[(method, rule_key)]
    assert set(rule.expect) == set(ACTORS), f"{method} {rule_key}: name every actor"
    url = world.fill(rule.path)
    for actor in ACTORS:
        expected = rule.expect[actor]
        before = row_counts(app) if expected != OK and method != "GET" else None
        response = client.open(
            url,
            method=method,
            headers=world.headers[actor],
            json=world.fill(rule.json),
            data=rule.form,
        )
        status = response.status_code
        response.close()
        assert status < 500, f"{method} {url} as {actor}: {status}"
        assert _matches(expected, status, rule), (
            f"{method} {url} as {actor}: expected {expected}, got {status} "
            f"{response.get_data(as_text=True)[:300]}"
        )
        if before is not None:
            assert row_counts(app) == before, f"{method} {url} as {actor} changed the database"


def test_sealed_bids_in_order_lists(client: FlaskClient, world: World) -> None:
    """Before its run, an order is listed to its league and the regulator, nobody else."""
    order_id = world.values["order_id"]

    def listed(actor: str) -> set[int]:
        response = client.get("/api/v1/orders", headers=world.headers[actor])
        assert response.status_code == 200
        return {o["id"] for o in response.get_json()["items"]}

    assert order_id in listed("league_own")
    assert order_id in listed("regulator")
    assert order_id not in listed("league_other")
    assert order_id not in listed("auditor")
    other = client.get(
        "/api/v1/orders", headers=world.headers["league_other"], query_string={"league": "ordos"}
    )
    assert order_id not in {o["id"] for o in other.get_json()["items"]}


@pytest.mark.parametrize("status", sorted(ORDER_VISIBILITY))
def test_live_orders_are_sealed_for_every_actor(
    demo_registry: Flask, client: FlaskClient, world: World, status: str
) -> None:
    """Each actor sees an order in each status as ``ORDER_VISIBILITY`` says, one and listed."""
    order_id = world.values["order_id"]
    with demo_registry.app_context(), new_unit_of_work(db.session_factory) as session:
        session.execute(
            update(Order).where(Order.id == order_id).values(status=OrderStatus(status))
        )
        session.commit()
    for actor, expected in ORDER_VISIBILITY[status].items():
        one = client.get(f"/api/v1/orders/{order_id}", headers=world.headers[actor])
        assert _matches(expected, one.status_code, Rule("", {})), (actor, status, one.status_code)
        if actor == "anonymous":
            continue
        listed = client.get("/api/v1/orders", headers=world.headers[actor])
        ids = {o["id"] for o in listed.get_json().get("items", [])} if listed.is_json else set()
        assert (order_id in ids) == (expected == OK), (actor, status, listed.status_code)
