"""Every route of the app, called by every kind of actor: the expectations in ``authz_rules``."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select, table
from sqlalchemy.orm import Session

from exchange.extensions import db
from exchange.identity import service
from exchange.models import Market
from tests.conftest import AuthHeaders, table_names
from tests.exchange.authz_rules import (
    ACTORS,
    BAD,
    DENY,
    OK,
    OTHER_LEAGUE,
    OWN_LEAGUE,
    RULES,
    UNAUTH,
    Rule,
)

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
    values: dict[str, str]


@pytest.fixture
def world(demo_registry: Flask, auth: AuthHeaders) -> World:
    headers = {
        "anonymous": {},
        "league_own": auth("league", OWN_LEAGUE),
        "league_other": auth("league", OTHER_LEAGUE),
        "regulator": auth("regulator"),
        "auditor": auth("auditor"),
        "admin": auth("admin"),
    }
    with demo_registry.app_context():
        session = db.session_factory()
        try:
            own = service.find_user(session, f"test-league-{OWN_LEAGUE}")
            assert own is not None
            spare = service.create_token(session, own.id, name="spare")
            market_id = session.scalar(select(Market.id).order_by(Market.id))
        finally:
            session.close()
    values = {
        "league": OWN_LEAGUE,
        "market_id": str(market_id),
        "user_id": str(own.id),
        "token_id": str(spare.token.id),
    }
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
    url = rule.path.format(**world.values)
    for actor in ACTORS:
        expected = rule.expect[actor]
        before = row_counts(app) if expected != OK and method != "GET" else None
        response = client.open(
            url,
            method=method,
            headers=world.headers[actor],
            json=rule.json,
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
