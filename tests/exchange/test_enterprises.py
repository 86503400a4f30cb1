"""Enterprises: opening needs two officials, account states, the league's view."""

from __future__ import annotations

from flask import Flask
from flask.testing import FlaskClient

from exchange.models import Role
from tests.conftest import AuthHeaders
from tests.exchange.enterprise_helpers import open_enterprise, request_body, token


def test_opening_needs_a_second_different_official(
    demo_registry: Flask, client: FlaskClient, auth: AuthHeaders
) -> None:
    ordos = auth("league", "ordos")
    created = client.post("/api/v1/participants", headers=ordos, json=request_body("e-one"))
    assert created.status_code == 201, created.get_json()
    body = created.get_json()
    assert body["status"] == "pending" and body["league"] == "ordos"
    assert body["kind"] == "enterprise" and body["sector"] == "power"
    again = client.post("/api/v1/participants/e-one/approve", headers=ordos)
    assert again.status_code == 403 and again.get_json()["error"] == "same_user"
    other = client.post("/api/v1/participants/e-one/approve", headers=auth("league", "baotou"))
    assert other.status_code == 403
    # pending: not public, eligible nowhere
    assert client.get("/api/v1/participants/e-one").status_code == 404
    assert client.get("/api/v1/participants/e-one", headers=ordos).status_code == 200
    opened = client.post("/api/v1/participants/e-one/approve", headers=auth("regulator"))
    assert opened.status_code == 200 and opened.get_json()["status"] == "open"
    assert client.get("/api/v1/participants/e-one", headers=ordos).get_json()["status"] == "open"
    listed = client.get("/api/v1/participants?kind=enterprise&league=ordos", headers=ordos)
    assert [p["code"] for p in listed.get_json()] == ["e-one"]
    # another league and the public never see the enterprise (nor in the list)
    baotou = auth("league", "baotou")
    assert client.get("/api/v1/participants/e-one", headers=baotou).status_code == 404
    assert client.get("/api/v1/participants/e-one").status_code == 404
    assert client.get("/api/v1/participants?kind=enterprise", headers=baotou).get_json() == []
    assert client.get("/api/v1/participants?kind=enterprise").get_json() == []
    everyone = {p["code"] for p in client.get("/api/v1/participants").get_json()}
    assert "ordos" in everyone and "e-one" not in everyone
    codes = [p["code"] for p in client.get("/api/v1/leagues").get_json()]
    assert "e-one" not in codes and "ordos" in codes


def test_a_request_is_refused_with_the_field(
    demo_registry: Flask, client: FlaskClient, auth: AuthHeaders
) -> None:
    regulator = auth("regulator")
    bad = request_body("e-bad")
    bad["credit_code"] = bad["credit_code"][:-1] + ("0" if bad["credit_code"][-1] != "0" else "1")
    response = client.post("/api/v1/participants", headers=regulator, json=bad)
    assert response.status_code == 422
    assert response.get_json()["error"] == "invalid_credit_code"
    other_league = client.post(
        "/api/v1/participants", headers=auth("league", "baotou"), json=request_body("e-x")
    )
    assert other_league.status_code == 403
    orphan = request_body("e-y", league="nowhere")
    assert client.post("/api/v1/participants", headers=regulator, json=orphan).status_code == 422
    assert client.get("/api/v1/participants/e-x", headers=regulator).status_code == 404


def test_states_who_may_change_them(
    demo_registry: Flask, client: FlaskClient, auth: AuthHeaders
) -> None:
    regulator, ordos = auth("regulator"), auth("league", "ordos")
    open_enterprise(client, ordos, regulator, "e-two")
    state = "/api/v1/participants/e-two/state"
    restrict = {"state": "restricted", "reason": "late report"}
    assert client.post(state, headers=auth("league", "baotou"), json=restrict).status_code == 403
    response = client.post(state, headers=ordos, json=restrict)
    assert response.status_code == 200 and response.get_json()["status"] == "restricted"
    reopen = {"state": "open", "reason": "report filed"}
    assert client.post(state, headers=ordos, json=reopen).status_code == 403
    assert client.post(state, headers=regulator, json=reopen).status_code == 200
    no_reason = client.post(state, headers=regulator, json={"state": "suspended"})
    assert no_reason.status_code == 422
    closed = client.post(state, headers=regulator, json={"state": "closed", "reason": "merged"})
    assert closed.status_code == 200 and closed.get_json()["status"] == "closed"
    log = client.get("/api/v1/action-log?path=/api/v1/participants/e-two/state", headers=regulator)
    assert log.status_code in (200, 404)


def test_representative_users_name_an_enterprise(
    demo_registry: Flask, client: FlaskClient, auth: AuthHeaders
) -> None:
    open_enterprise(client, auth("league", "ordos"), auth("regulator"), "e-three")
    rep = token(demo_registry, "rep-a", Role.REPRESENTATIVE, participant="e-three",
                rights="initiate")  # fmt: skip
    me = client.get("/api/v1/me", headers=rep)
    assert me.status_code == 200, me.get_json()


def test_an_enterprise_trades_the_rights_of_its_sector(
    demo_registry: Flask, client: FlaskClient, auth: AuthHeaders
) -> None:
    body = request_body("e-irrigation", league="bayannur", serial=5)
    body["sector"] = "irrigation"
    regulator = auth("regulator")
    assert client.post("/api/v1/participants", headers=regulator, json=body).status_code == 201
    other = token(demo_registry, "second-regulator", Role.REGULATOR)
    assert (
        client.post("/api/v1/participants/e-irrigation/approve", headers=other).status_code == 200
    )
    markets = client.get("/api/v1/markets").get_json()
    mine = {
        m["right_type"]
        for m in markets
        if "e-irrigation" in {e["league"] for e in m["eligible_leagues"]}
    }
    league = {
        m["right_type"]
        for m in markets
        if "bayannur" in {e["league"] for e in m["eligible_leagues"]}
    }
    assert mine == {"water"} and len(league) > 1
