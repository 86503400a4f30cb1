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
