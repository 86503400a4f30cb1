"""Adversarial input over the JSON API and the HTML forms: never a 5xx, never a change of
state when the answer refuses the request, and probes (SQL, HTML) that stay inert.

Bounded and deterministic: a fixed list of hostile bodies per write route, and a
seeded random mix of hostile form fields per form.
"""

from __future__ import annotations

import json
import random
import re
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import inspect

from exchange.extensions import db
from exchange.identity import service
from exchange.models import Role
from exchange.uow import new_unit_of_work
from tests.conftest import AuthHeaders
from tests.exchange.trading_helpers import fund, market_id
from tests.hardening.helpers import row_counts

XSS = '<script>alert("x")</script><img src=x onerror=alert(1)>'
SQLI = "'; DROP TABLE orders; --"
STRINGS = [
    XSS,
    SQLI,
    "' OR '1'='1",
    "\u202etxt.exe",  # right-to-left override
    "ǅ\u0301\u0308" * 40,  # combining marks
    "１２３",  # full-width digits
    "😀" * 300,
    "\ud7ff\ue000\uffff",
    "a" * 5000,
    "",
    " ",
    "%00",
    "{{7*7}}",
    "../../etc/passwd",
]
NUMBERS: list[Any] = [2**63, -(2**63) - 1, 2**31, 10**30, -1, 0, 1.5, 5.0, True, "5", "٥", None]
HOSTILE_BODIES: list[tuple[str, bytes | str]] = [
    ("nan", '{"quantity": NaN, "limit_price": 1}'),
    ("infinity", '{"quantity": Infinity}'),
    ("-infinity", '{"quantity": -Infinity}'),
    ("overflow float", '{"quantity": 1e999}'),
    ("huge int literal", '{"quantity": ' + "9" * 5000 + "}"),
    ("duplicated keys", '{"side": "buy", "side": "sell"}'),
    ("deep array", "[" * 50_000 + "]" * 50_000),
    ("deep object", '{"a":' * 5_000 + "1" + "}" * 5_000),
    ("top-level array", "[1, 2, 3]"),
    ("top-level string", '"order"'),
    ("top-level null", "null"),
    ("truncated", '{"market_id": 1,'),
    ("invalid utf-8", b'{"client_order_id": "\xff\xfe"}'),
    ("lone surrogate", '{"client_order_id": "\\ud800"}'),
    ("nul in string", '{"client_order_id": "a\\u0000b"}'),
    ("empty object", "{}"),
]
WRONG_TYPES = [
    "text/plain",
    "application/x-www-form-urlencoded",
    "multipart/form-data; boundary=x",
    "application/xml",
    "application/octet-stream",
]


@pytest.fixture
def fuzz_world(demo_registry: Flask, auth: AuthHeaders) -> dict[str, Any]:
    app = demo_registry
    app.config["RATELIMIT_LOGIN"] = "100000 per minute"
    app.config["RATELIMIT_TOKENS"] = "100000 per minute"
    mid = market_id(app, "CEA-2026")
    fund(app, rights={("ordos", mid): 100_000}, cash={"ordos": 10**10})
    headers = {
        "regulator": auth("regulator"),
        "league": auth("league", "ordos"),
        "admin": auth("admin"),
    }
    with app.app_context(), new_unit_of_work(db.session_factory) as s:
        user = service.create_user(
            s, username="fuzz-reg", role=Role.REGULATOR, password="fuzz-password-1"
        )
        user_id = user.id
    return {"mid": mid, "headers": headers, "user_id": user_id}


def _valid_bodies(mid: int, user_id: int) -> dict[tuple[str, str, str], dict[str, Any]]:
    """(method, path, actor) -> a valid body, the base of the mutations."""
    return {
        ("POST", "/api/v1/orders", "league"): {
            "market_id": mid,
            "side": "sell",
            "quantity": 100,
            "limit_price": 9000,
            "client_order_id": "fuzz-base",
        },
        ("POST", "/api/v1/markets", "regulator"): {
            "code": "FUZZ-SO2-2029",
            "name_zh": "测试",
            "name_en": "Fuzz",
            "right_type": "pollutant",
            "pollutant": "SO2",
            "vintage": "2029",
            "unit": "t",
            "lot": 1,
            "tick": 100,
            "price_floor": 50_000,
            "cap": 300_000,
            "clearing_schedule": "0 10 * * 1",
        },
        ("POST", f"/api/v1/markets/{mid}/clearing-runs", "regulator"): {
            "window": "2027-03-01T10:00:00+08:00"
        },
        ("POST", "/api/v1/users", "admin"): {"username": "fuzz-user", "role": "auditor"},
        ("PATCH", f"/api/v1/users/{user_id}", "admin"): {"active": True},
        ("POST", f"/api/v1/users/{user_id}/tokens", "admin"): {"name": "fuzz", "days": 1},
        ("POST", "/api/v1/allocations", "regulator"): {
            "league": "ordos",
            "market": "CEA-2026",
            "quantity": 100,
        },
        ("POST", "/api/v1/deposits", "regulator"): {"league": "ordos", "amount": 100},
        ("POST", "/api/v1/retirements", "league"): {
            "league": "ordos",
            "market": "CEA-2026",
            "quantity": 100,
        },
    }


def _mutations(body: dict[str, Any], rng: random.Random) -> list[dict[str, Any]]:
    """Each field replaced by hostile values (strings everywhere, numbers everywhere)."""
    out = []
    for key in body:
        for value in [*rng.sample(STRINGS, 4), *rng.sample(NUMBERS, 5), [], {}, {"$gt": ""}]:
            out.append({**body, key: value})
    out.append({**body, "unexpected_field": XSS})
    return out


def _check(app: Flask, client: FlaskClient, method: str, path: str, **kwargs: Any) -> int:
    before = row_counts(app)
    response = client.open(path, method=method, **kwargs)
    status = response.status_code
    text = response.get_data(as_text=True)[:300]
    response.close()
    assert status < 500, f"{method} {path} {kwargs.get('data', kwargs.get('json'))!r:.200}: {text}"
    if status >= 400:
        assert row_counts(app) == before, f"{method} {path} refused ({status}) but changed state"
        if path.startswith("/api/"):
            assert text.startswith("{"), f"{method} {path}: an API error is JSON: {text}"
    return status


@pytest.mark.slow  # seeds the whole demo (or fuzzes many inputs)
def test_json_api_rejects_hostile_input_cleanly(
    fuzz_world: dict[str, Any], demo_registry: Flask, client: FlaskClient
) -> None:
    app, headers = demo_registry, fuzz_world["headers"]
    rng = random.Random(8)
    schema_before = sorted(inspect(app.extensions["exchange.db"]["engine"]).get_table_names())
    statuses: dict[str, set[int]] = {}
    for (method, path, actor), body in _valid_bodies(
        fuzz_world["mid"], fuzz_world["user_id"]
    ).items():
        h = headers[actor]
        for name, raw in HOSTILE_BODIES:
            status = _check(
                app, client, method, path, headers=h, data=raw, content_type="application/json"
            )
            statuses.setdefault(name, set()).add(status)
        for content_type in WRONG_TYPES:
            status = _check(
                app,
                client,
                method,
                path,
                headers=h,
                data=json.dumps(body),
                content_type=content_type,
            )
            assert status == 415, (path, content_type, status)
        status = _check(
            app,
            client,
            method,
            path,
            headers=h,
            data=b"{" + b" " * (2 * 1024 * 1024) + b"}",
            content_type="application/json",
        )
        assert status == 413
        for mutated in _mutations(body, rng):
            _check(app, client, method, path, headers=h, json=mutated)
    for name in ("nan", "infinity", "-infinity", "overflow float", "huge int literal"):
        assert statuses[name] == {400}, (name, statuses[name])
    for name in ("duplicated keys", "deep array", "deep object", "invalid utf-8", "nul in string"):
        assert statuses[name] == {400}, (name, statuses[name])
    engine = app.extensions["exchange.db"]["engine"]
    assert sorted(inspect(engine).get_table_names()) == schema_before


@pytest.mark.slow  # every route with many hostile query strings and paths
def test_query_strings_and_paths_are_inert(
    fuzz_world: dict[str, Any], demo_registry: Flask, client: FlaskClient
) -> None:
    app, headers = demo_registry, fuzz_world["headers"]
    urls = [
        "/api/v1/orders?league={s}",
        "/api/v1/orders?status={s}&side={s}&market_id={s}",
        "/api/v1/orders?page={s}&per_page={s}",
        "/api/v1/markets?right_type={s}&basin={s}&status={s}",
        "/api/v1/leagues/{s}",
        "/api/v1/action-log?username={s}&method={s}&path={s}&since={s}",
        "/api/v1/accounts/{s}/balances",
        "/api/v1/ledger/journals?reference={s}",
        "/login?next={s}",
        "/?lang={s}",
    ]
    values = [*STRINGS[:9], "%00", "\x00", str(2**63), "-1", "1e999", "NaN"]
    for url in urls:
        for value in values:
            from urllib.parse import quote

            path = url.format(s=quote(value, safe=""))
            status = _check(app, client, "GET", path, headers=headers["regulator"])
            assert status < 500
    listed = client.get(
        "/api/v1/orders?league=%27%20OR%20%271%27%3D%271", headers=headers["regulator"]
    )
    assert listed.status_code == 200 and listed.get_json()["total"] == 0


def _csrf(client: FlaskClient) -> str:
    page = client.get("/login").get_data(as_text=True)
    match = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page) or re.search(
        r'value="([^"]+)"[^>]*name="csrf_token"', page
    )
    assert match, "the login form carries a CSRF token"
    return match.group(1)


def _login(client: FlaskClient) -> str:
    """Log the regulator ``fuzz-reg`` in; the CSRF token of the session."""
    login = client.post(
        "/login",
        data={"username": "fuzz-reg", "password": "fuzz-password-1", "csrf_token": _csrf(client)},
    )
    assert login.status_code in (302, 303), login.get_data(as_text=True)[:300]
    return _csrf(client)


@pytest.mark.slow  # seeds the whole demo (or fuzzes many inputs)
def test_html_forms_survive_hostile_fields(
    fuzz_world: dict[str, Any], demo_registry: Flask, client: FlaskClient
) -> None:
    """Every form route of the app, without and with a valid CSRF token, logged in."""
    app = demo_registry
    rng = random.Random(11)
    forms = sorted(
        (rule.rule, method)
        for rule in app.url_map.iter_rules()
        for method in (rule.methods or set()) - {"GET", "HEAD", "OPTIONS"}
        if not rule.rule.startswith("/api/")
    )
    assert ("/login", "POST") in forms
    hostile = [*STRINGS, "\x00", "-1", str(2**63), "NaN", "Infinity", "1e999", "٣"]
    fields = ["username", "password", "league", "market", "market_id", "side", "quantity"]
    fields += ["limit_price", "price", "amount", "reference", "client_order_id", "window", "next"]

    def url(rule: str) -> str:
        return re.sub(r"<int:[a-z_]+>", "1", re.sub(r"<(string:)?[a-z_]+>", "ordos", rule))

    for rule, method in forms:
        for _ in range(6):  # no CSRF token: refused, nothing changes
            form = {f: rng.choice(hostile) for f in rng.sample(fields, 4)}
            status = _check(app, client, method, url(rule), data=form)
            assert status in (400, 401, 403, 404, 405, 413), (rule, status)
    token = _login(client)
    for rule, method in forms:
        if rule == "/logout":
            continue
        for _ in range(12):
            form = {f: rng.choice(hostile) for f in rng.sample(fields, 5)}
            form["csrf_token"] = token
            _check(app, client, method, url(rule), data=form)


def test_oversized_forms_get_413(
    fuzz_world: dict[str, Any], demo_registry: Flask, client: FlaskClient
) -> None:
    big = {"csrf_token": _login(client), "reference": "x" * (2 * 1024 * 1024)}
    assert _check(demo_registry, client, "POST", "/regulator/deposits", data=big) == 413


def test_probes_are_stored_and_shown_escaped(
    fuzz_world: dict[str, Any], demo_registry: Flask, client: FlaskClient
) -> None:
    app, headers = demo_registry, fuzz_world["headers"]
    engine = app.extensions["exchange.db"]["engine"]
    tables = sorted(inspect(engine).get_table_names())
    body = _valid_bodies(fuzz_world["mid"], fuzz_world["user_id"])[
        ("POST", "/api/v1/markets", "regulator")
    ]
    created = client.post(
        "/api/v1/markets",
        headers=headers["regulator"],
        json={**body, "name_en": XSS, "name_zh": SQLI},
    )
    assert created.status_code == 201, created.get_json()
    assert created.get_json()["name_en"] == XSS  # stored as given: data, not code
    for path in ["/", f"/markets/{created.get_json()['id']}", "/markets"]:
        page = client.get(path)
        if page.status_code == 404:
            continue
        html = page.get_data(as_text=True)
        assert "<script>alert" not in html and "onerror=alert" not in html.replace(
            "&lt;img src=x onerror=alert(1)&gt;", ""
        )
        if XSS in json.dumps(created.get_json()) and "Fuzz" not in html:
            assert "&lt;script&gt;" in html or XSS not in html
    user = client.post(
        "/api/v1/users", headers=headers["admin"], json={"username": XSS, "role": "auditor"}
    )
    # a username is lower-case letters, digits, ".", "_" and "-": markup is refused, named
    assert user.status_code == 422, user.get_json()
    assert "username" in user.get_json()["errors"]["json"]
    order = client.post(
        "/api/v1/orders",
        headers=headers["league"],
        json={
            "market_id": fuzz_world["mid"],
            "side": "sell",
            "quantity": 100,
            "limit_price": 9000,
            "client_order_id": SQLI,
        },
    )
    assert order.status_code == 422
    assert sorted(inspect(engine).get_table_names()) == tables
    assert client.get("/api/v1/markets").status_code == 200
