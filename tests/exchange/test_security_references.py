"""Issue 11, item 3: the system's reference namespaces are not a user's to write."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

import ledger
from exchange.extensions import db
from exchange.references import RESERVED_NAMESPACES
from exchange.services import replay
from exchange.uow import new_unit_of_work
from exchange.web import queries
from tests.exchange.trading_helpers import clear, fund, market_id

Auth = Callable[..., dict[str, str]]


@pytest.fixture
def traded(demo_registry: Flask, client: FlaskClient, auth: Auth) -> dict[str, int]:
    """A completed CEA-2026 run where Ordos sold to Baotou; Ordos keeps rights to retire."""
    mid = market_id(demo_registry, "CEA-2026")
    fund(demo_registry, rights={("ordos", mid): 10_000}, cash={"baotou": 100_000_000})
    ids = {}
    for league, side, price in (("ordos", "sell", 9_000), ("baotou", "buy", 9_500)):
        body = {"market_id": mid, "side": side, "quantity": 500, "limit_price": price,
                "client_order_id": side}  # fmt: skip
        response = client.post("/api/v1/orders", json=body, headers=auth("league", league))
        assert response.status_code == 201, response.get_json()
        ids[side] = response.get_json()["id"]
    run_id = clear(demo_registry, mid).run_id
    return {"market": mid, "run": run_id, **ids}


@pytest.mark.parametrize("namespace", RESERVED_NAMESPACES)
def test_user_references_in_system_namespaces_are_refused(
    client: FlaskClient, auth: Auth, traded: dict[str, int], namespace: str
) -> None:
    reference = f" {namespace.upper()}{traded['run']}/order:{traded['sell']}"
    calls: list[tuple[str, dict[str, Any], dict[str, str]]] = [
        ("/api/v1/retirements", {"league": "ordos", "market": "CEA-2026", "quantity": 100},
         auth("league", "ordos")),
        ("/api/v1/allocations", {"league": "ordos", "market": "CEA-2026", "quantity": 100},
         auth("regulator")),
        ("/api/v1/deposits", {"league": "ordos", "amount": 100}, auth("regulator")),
    ]  # fmt: skip
    for url, body, headers in calls:
        before = client.get("/api/v1/ledger/journals", headers=auth("regulator")).get_json()
        response = client.post(url, json={**body, "reference": reference}, headers=headers)
        assert response.status_code == 422, (url, response.get_json())
        assert "reference" in str(response.get_json()["errors"]), response.get_json()
        after = client.get("/api/v1/ledger/journals", headers=auth("regulator")).get_json()
        assert after["total"] == before["total"]


def test_a_csv_upload_row_with_a_system_reference_is_rejected(
    demo_registry: Flask, traded: dict[str, int]
) -> None:
    text = "league,market,quantity,reference\nordos,CEA-2026,100,run:1/order:1\n"
    with demo_registry.app_context():
        preview = queries.preview_allocations(db.session, text)
    assert not preview.accepted
    assert "reserved" in str(preview.rejected)


def test_replay_ignores_journals_a_user_referenced_like_a_settlement(
    demo_registry: Flask, traded: dict[str, int]
) -> None:
    """A retirement referenced ``run:<id>/order:<n>`` (allowed before) does not fail replay."""
    with demo_registry.app_context(), new_unit_of_work(db.session_factory) as session:
        with session.begin():
            ledger.retire(
                session,
                league="ordos",
                asset=ledger.market_asset(traded["market"]),
                amount=100,
                reference=f"run:{traded['run']}/order:{traded['sell']}",
                actor="test-league-ordos",
            )
        report = replay.replay_run(session, traded["run"])
    assert report.ok, report.differences
