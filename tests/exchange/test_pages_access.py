"""Every page: anonymous visitors are sent to log in, other roles get 403, and each
page passes the accessibility smoke check (labels, alt texts, charts, headings)."""

from __future__ import annotations

import pytest
from flask import Flask
from flask.testing import FlaskClient

from exchange.uow import new_unit_of_work
from tests.conftest import AuthHeaders
from tests.exchange.authz_rules import OK, RULES
from tests.exchange.page_helpers import PageChecker
from tests.exchange.trading_helpers import clear

PAGE_ROUTES = sorted(
    key
    for key in RULES
    if key[0] == "GET" and key[1].startswith(("/desk", "/regulator", "/runs", "/audit"))
)
ACTORS = {
    "league_own": ("league", "ordos"),
    "league_other": ("league", "baotou"),
    "regulator": ("regulator", None),
    "auditor": ("auditor", None),
    "admin": ("admin", None),
}


def test_every_page_of_a_role_sends_anonymous_visitors_to_log_in(
    demo_registry: Flask, client: FlaskClient
) -> None:
    assert len(PAGE_ROUTES) >= 10
    for _method, rule in PAGE_ROUTES:
        path = rule.replace("<int:job_id>", "1").replace("<int:run_id>", "1")
        path = path.replace("<int:order_id>", "1").replace("<int:market_id>", "1")
        path = path.replace("<int:period_id>", "1")  # compliance
        response = client.get(path)
        assert response.status_code == 302, path
        assert response.headers["Location"].startswith("/login?next=/"), path


def test_other_roles_get_an_html_403(
    demo_registry: Flask, client: FlaskClient, auth: AuthHeaders
) -> None:
    response = client.get("/regulator", headers=auth("league", "ordos"))
    assert response.status_code == 403
    assert response.mimetype == "text/html"
    assert "<h1>" in response.get_data(as_text=True)


@pytest.fixture
def cleared(demo_registry: Flask) -> int:
    """A demo market (COD-2027) cleared once, with seeded balances."""
    from exchange.extensions import db
    from exchange.services.demo_ledger import seed_demo_ledger
    from exchange.services.registry import get_market_by_code

    with demo_registry.app_context(), new_unit_of_work(db.session_factory) as session:
        seed_demo_ledger(session)
        market_id = get_market_by_code(session, "COD-2027").id
    return clear(demo_registry, market_id).run_id


@pytest.fixture
def period(cleared: int, demo_registry: Flask) -> int:
    """A compliance period over COD-2027 with ordos's verified figure (compliance pages)."""
    from tests.exchange.compliance_helpers import matrix_period

    return matrix_period(demo_registry, "COD-2027", "ordos")


def test_every_page_passes_the_accessibility_smoke_check(
    cleared: int, period: int, client: FlaskClient, auth: AuthHeaders
) -> None:
    checked = 0
    pages = [("anonymous", "/"), ("anonymous", "/markets/COD-2027"), ("anonymous", "/login")]
    pages += [("anonymous", "/markets/YR-WATER-2027"), ("anonymous", "/?lang=zh")]
    pages += [("anonymous", f"/markets/COD-2027/runs/{cleared}"), ("anonymous", "/api/docs")]
    for _method, rule in PAGE_ROUTES:
        expect = RULES[("GET", rule)].expect
        for actor in ACTORS:
            if expect[actor] == OK and "<int:job_id>" not in rule and "order_id" not in rule:
                path = rule.replace("<int:run_id>", str(cleared)).replace("<int:market_id>", "1")
                path = path.replace("<int:period_id>", str(period))
                pages.append((actor, path))
                pages.append((actor, path + ("&" if "?" in path else "?") + "lang=zh"))
                break
    for actor, path in pages:
        headers = {} if actor == "anonymous" else auth(*ACTORS[actor])
        response = client.get(path, headers=headers)
        body = response.get_data(as_text=True)
        assert response.status_code == 200, (actor, path, response.status_code, body[-600:])
        if response.mimetype != "text/html":
            continue
        problems = PageChecker().check(body)
        assert problems == [], f"{path} as {actor}: {problems}"
        checked += 1
    assert checked >= 14
