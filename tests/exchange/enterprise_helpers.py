"""Helpers of the enterprise tests: named users with tokens, an opened enterprise."""

from __future__ import annotations

from typing import Any

from flask import Flask
from flask.testing import FlaskClient

from exchange.extensions import db
from exchange.identity import service
from exchange.models import Role
from exchange.services.credit_code import check_character
from exchange.uow import new_unit_of_work
from tests.exchange.trading_helpers import fund


def token(
    app: Flask,
    username: str,
    role: Role,
    *,
    league: str | None = None,
    participant: str | None = None,
    rights: str | None = None,
) -> dict[str, str]:
    """Headers of a new API-only user."""
    with app.app_context(), new_unit_of_work(db.session_factory) as s:
        user = service.create_user(
            s, username=username, role=role, league_code=league,
            participant_code=participant, rights=rights,
        )  # fmt: skip
        secret = service.create_token(s, user.id, name="test").secret
    return {"Authorization": f"Bearer {secret}"}


def credit(serial: int) -> str:
    """A valid synthetic unified social credit code."""
    body = f"91150600MA0N{serial:05d}"
    return body + check_character(body)


def request_body(code: str, league: str = "ordos", serial: int = 1) -> dict[str, Any]:
    return {
        "code": code,
        "kind": "enterprise",
        "league": league,
        "name_zh": "测试电厂",
        "name_en": "Test power plant",
        "sector": "power",
        "credit_code": credit(serial),
    }


def open_enterprise(
    client: FlaskClient,
    first: dict[str, str],
    second: dict[str, str],
    code: str,
    league: str = "ordos",
    serial: int = 1,
) -> dict[str, Any]:
    """Request (``first``) and approve (``second``) an enterprise; its body."""
    created = client.post(
        "/api/v1/participants", headers=first, json=request_body(code, league, serial)
    )
    assert created.status_code == 201, created.get_json()
    approved = client.post(f"/api/v1/participants/{code}/approve", headers=second)
    assert approved.status_code == 200, approved.get_json()
    body: dict[str, Any] = approved.get_json()
    return body


MATRIX_ENTERPRISE = "ordos-matrix"


def matrix_enterprises(
    app: Flask, client: FlaskClient, regulator: dict[str, str], league: dict[str, str]
) -> tuple[dict[str, str], dict[str, Any]]:
    """The authorization matrix's enterprise of ordos, its representative (who may initiate
    and approve: the matrix's ``representative`` actor), and the placeholders of the
    enterprise routes: a pending enterprise to approve, one to reject, and a pending
    instruction of another representative to approve and one to reject."""
    requester = token(app, "matrix-requester", Role.REGULATOR)
    open_enterprise(client, requester, regulator, MATRIX_ENTERPRISE, serial=901)
    for code, serial in (("ordos-pending", 902), ("ordos-refusable", 903)):
        created = client.post(
            "/api/v1/participants", headers=requester, json=request_body(code, serial=serial)
        )
        assert created.status_code == 201, created.get_json()
    fund(app, cash={MATRIX_ENTERPRISE: 10**9})
    rep = token(app, "matrix-rep", Role.REPRESENTATIVE, participant=MATRIX_ENTERPRISE,
                rights="initiate_and_approve")  # fmt: skip
    initiator = token(app, "matrix-initiator", Role.REPRESENTATIVE,
                      participant=MATRIX_ENTERPRISE, rights="initiate")  # fmt: skip
    values: dict[str, Any] = {
        "enterprise": MATRIX_ENTERPRISE,
        "pending_enterprise": "ordos-pending",
        "refusable_enterprise": "ordos-refusable",
    }
    market = next(
        m
        for m in client.get("/api/v1/markets").get_json()
        if "ordos" in {e["league"] for e in m["eligible_leagues"]} and not m["zonal"]
    )
    for name in ("instruction_id", "instruction_to_reject"):
        order = {
            "market_id": market["id"],
            "side": "buy",
            "quantity": market["lot"],
            "limit_price": market["price_floor"] + market["tick"],
            "client_order_id": f"matrix-{name}",
        }
        pending = client.post("/api/v1/orders", headers=initiator, json=order)
        assert pending.status_code == 202, pending.get_json()
        values[name] = pending.get_json()["id"]
    del league
    return rep, values
