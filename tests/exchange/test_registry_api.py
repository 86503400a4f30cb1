"""The registry API: leagues, basins, markets, right types and their errors."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests.conftest import AuthHeaders
from tests.leagues import LEAGUE_CODES

LEAGUES = set(LEAGUE_CODES)

VALID_MARKET: dict[str, Any] = {
    "code": "TEST-SO2-2028",
    "name_zh": "二氧化硫排污权 2028年度",
    "name_en": "SO2 discharge rights, 2028",
    "right_type": "pollutant",
    "pollutant": "SO2",
    "vintage": "2028",
    "unit": "t",
    "lot": 1,
    "tick": 100,
    "price_floor": 50_000,
    "price_ceiling": 1_500_000,
    "cap": 300_000,
    "clearing_schedule": "0 10 * * 1",
}


def market(**changes: Any) -> dict[str, Any]:
    body = copy.deepcopy(VALID_MARKET)
    for key, value in changes.items():
        if value is ...:
            body.pop(key, None)
        else:
            body[key] = value
    return body


def count_markets(client: FlaskClient) -> int:
    return len(client.get("/api/v1/markets").get_json())


def test_leagues_lists_the_twelve_with_regions(demo_registry: Flask, client: FlaskClient) -> None:
    response = client.get("/api/v1/leagues")
    assert response.status_code == 200
    leagues = {item["code"]: item for item in response.get_json()}
    assert set(leagues) == LEAGUES
    assert leagues["ordos"]["region"] == "central"
    assert leagues["alxa"]["name_zh"] == "阿拉善盟"
    assert "yellow" in leagues["bayannur"]["basins"]
    yellow = [c for c, item in leagues.items() if "yellow" in item["basins"]]
    assert len(yellow) == 7  # the Yellow River flows through 7 leagues


def test_league_by_code_and_unknown(demo_registry: Flask, client: FlaskClient) -> None:
    assert client.get("/api/v1/leagues/wuhai").get_json()["name_en"] == "Wuhai"
    response = client.get("/api/v1/leagues/atlantis")
    assert response.status_code == 404
    assert response.get_json()["error"] == "not_found"
    assert "atlantis" in response.get_json()["message"]


def test_demo_markets_cover_every_right_type(demo_registry: Flask, client: FlaskClient) -> None:
    markets = client.get("/api/v1/markets").get_json()
    kinds = {(m["right_type"], m["pollutant"]) for m in markets}
    assert {("water", None), ("carbon", None), ("energy", None)} <= kinds
    assert {("pollutant", p) for p in ("COD", "NH3-N", "SO2", "NOx")} <= kinds
    yellow = next(m for m in markets if m["code"] == "YR-WATER-2027")
    assert yellow["cap"] == 5_860_000_000
    assert yellow["zonal"] is True
    assert yellow["zone_scope"] == "basin:yellow"
    assert len(yellow["eligible_leagues"]) == 7
    assert all(link["capacity"] > 0 for link in yellow["transfer_limits"])


def test_market_filters(demo_registry: Flask, client: FlaskClient) -> None:
    water = client.get("/api/v1/markets?right_type=water").get_json()
    assert {m["code"] for m in water} == {"YR-WATER-2027", "WLR-WATER-2027"}
    assert client.get("/api/v1/markets?basin=yellow").get_json()[0]["code"] == "YR-WATER-2027"
    bad = client.get("/api/v1/markets?right_type=gold")
    assert bad.status_code == 422
    assert "right_type" in bad.get_json()["errors"]["query"]


def test_market_by_id(demo_registry: Flask, client: FlaskClient) -> None:
    first = client.get("/api/v1/markets").get_json()[0]
    assert client.get(f"/api/v1/markets/{first['id']}").get_json()["code"] == first["code"]
    missing = client.get("/api/v1/markets/999999")
    assert missing.status_code == 404
    assert missing.get_json()["error"] == "not_found"


def test_create_market(demo_registry: Flask, client: FlaskClient, auth: AuthHeaders) -> None:
    response = client.post("/api/v1/markets", headers=auth("regulator"), json=market())
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert body["code"] == "TEST-SO2-2028"
    assert body["zone_scope"] == "region"
    assert len(body["eligible_leagues"]) == 12  # default: every league
    assert client.get(f"/api/v1/markets/{body['id']}").status_code == 200


def test_create_zonal_market_with_zones(
    demo_registry: Flask, client: FlaskClient, auth: AuthHeaders
) -> None:
    body = market(
        code="TEST-YR",
        right_type="water",
        pollutant=None,
        unit="m3",
        basin="yellow",
        eligible_leagues=[
            {"league": "alxa", "zone": "upper"},
            {"league": "wuhai", "zone": "upper"},
            {"league": "baotou", "zone": "lower"},
        ],
        transfer_limits=[{"from": "upper", "to": "lower", "capacity": 1000}],
    )
    response = client.post("/api/v1/markets", headers=auth("regulator"), json=body)
    assert response.status_code == 201, response.get_json()
    created = response.get_json()
    assert created["zonal"] is True
    assert created["transfer_limits"] == [
        {"from": "upper", "to": "lower", "capacity": 1000, "loss": 0}  # loss: per mille
    ]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (market(code=...), "code"),
        (market(cap=...), "cap"),
        (market(lot=-5), "lot"),
        (market(lot=0), "lot"),
        (market(tick="100"), "tick"),
        (market(lot=1.5), "lot"),
        (market(cap=True), "cap"),
        (market(cap=2**63), "cap"),
        (market(price_floor=200_000, price_ceiling=100_000), "price_ceiling"),
        (market(price_floor=150), "price_floor"),
        (market(right_type="gold"), "right_type"),
        (market(right_type=3), "right_type"),
        (market(pollutant=None), "pollutant"),
        (market(right_type="carbon", unit="tCO2e"), "pollutant"),
        (market(unit="m3"), "unit"),
        (market(clearing_schedule="every day"), "clearing_schedule"),
        (market(clearing_schedule="61 * * * *"), "clearing_schedule"),
        (market(code="bad code!"), "code"),
        (market(extra_field=1), "extra_field"),
        (market(name_en=["x"]), "name_en"),
        (market(cap=300_001, lot=2), "cap"),
    ],
)
def test_create_market_rejects_bad_input(
    demo_registry: Flask, client: FlaskClient, auth: AuthHeaders, body: dict[str, Any], field: str
) -> None:
    before = count_markets(client)
    response = client.post("/api/v1/markets", headers=auth("regulator"), json=body)
    assert response.status_code == 422, response.get_json()
    payload = response.get_json()
    assert payload["error"] == "validation_error"
    assert field in payload["errors"]["json"]
    assert payload["errors"]["json"][field], "the error names the field and says why"
    assert field in payload["message"], "the message names the field to fix"
    assert count_markets(client) == before


@pytest.mark.parametrize(
    ("changes", "field", "status"),
    [
        ({"basin": "amazon"}, "basin", 422),
        ({"eligible_leagues": [{"league": "atlantis"}]}, "eligible_leagues", 422),
        ({"eligible_leagues": [{"league": "ordos"}, {"league": "ordos"}]}, "eligible_leagues", 422),
        (
            {"transfer_limits": [{"from": "ordos", "to": "mars", "capacity": 1}]},
            "transfer_limits",
            422,
        ),
        (
            {"transfer_limits": [{"from": "ordos", "to": "ordos", "capacity": 1}]},
            "transfer_limits",
            422,
        ),
        (
            {"transfer_limits": [{"from": "ordos", "to": "baotou", "capacity": -1}]},
            "transfer_limits",
            422,
        ),
        ({"code": "YR-WATER-2027"}, "code", 409),
    ],
)
def test_create_market_rejects_inconsistent_registry_data(
    demo_registry: Flask,
    client: FlaskClient,
    auth: AuthHeaders,
    changes: dict[str, Any],
    field: str,
    status: int,
) -> None:
    before = count_markets(client)
    response = client.post("/api/v1/markets", headers=auth("regulator"), json=market(**changes))
    assert response.status_code == status, response.get_json()
    assert field in response.get_json()["errors"]["json"]
    assert count_markets(client) == before


def test_create_market_rejects_non_json(
    demo_registry: Flask, client: FlaskClient, auth: AuthHeaders
) -> None:
    before = count_markets(client)
    broken = client.post(
        "/api/v1/markets",
        headers=auth("regulator"),
        data="{not json",
        content_type="application/json",
    )
    assert broken.status_code == 400
    assert broken.get_json()["error"] == "bad_request"
    as_list = client.post("/api/v1/markets", headers=auth("regulator"), json=[1, 2])
    assert as_list.status_code == 422
    form = client.post("/api/v1/markets", headers=auth("regulator"), data={"code": "X"})
    assert form.status_code in (415, 422)
    assert count_markets(client) == before


def test_writes_need_the_regulator(
    demo_registry: Flask, client: FlaskClient, auth: AuthHeaders
) -> None:
    before = count_markets(client)
    anonymous = client.post("/api/v1/markets", json=market())
    assert anonymous.status_code == 401
    assert anonymous.get_json()["error"] == "unauthorized"
    as_league = client.post("/api/v1/markets", headers=auth("league", "ordos"), json=market())
    assert as_league.status_code == 403
    assert as_league.get_json()["error"] == "forbidden"
    assert count_markets(client) == before


def test_right_types(client: FlaskClient) -> None:
    kinds = {item["code"]: item for item in client.get("/api/v1/right-types").get_json()}
    assert set(kinds) == {"water", "pollutant", "carbon", "energy"}
    assert kinds["pollutant"]["pollutants"] == ["COD", "NH3-N", "SO2", "NOx"]
    assert kinds["carbon"]["units"] == ["tCO2e"]


def test_openapi_document_and_docs(client: FlaskClient) -> None:
    spec = client.get("/openapi.json").get_json()
    assert spec["info"]["title"]
    for path in (
        "/api/v1/leagues",
        "/api/v1/leagues/{code}",
        "/api/v1/markets",
        "/api/v1/markets/{market_id}",
    ):
        assert path in spec["paths"]
    assert "post" in spec["paths"]["/api/v1/markets"]
    docs = client.get("/api/docs")
    assert docs.status_code == 200
    assert b"/api/docs/static/swagger-ui-bundle.js" in docs.data
    with client.get("/api/docs/static/swagger-ui-bundle.js") as asset:
        assert asset.status_code == 200
        assert asset.content_length and asset.content_length > 100_000


def test_unknown_api_path_is_json_404(client: FlaskClient) -> None:
    response = client.get("/api/v1/nothing-here")
    assert response.status_code == 404
    assert response.get_json()["error"] == "not_found"


def test_method_not_allowed_is_json(client: FlaskClient) -> None:
    response = client.delete("/api/v1/leagues")
    assert response.status_code == 405
    assert response.get_json()["error"] == "method_not_allowed"
