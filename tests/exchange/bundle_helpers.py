"""Builders for bundle tests: two call-auction markets clearing in one window."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from flask import Flask
from flask.testing import FlaskClient

from tests.exchange.trading_helpers import fund, market_id

Auth = Callable[..., dict[str, str]]
# CEA-2026 (lot 100 t, tick 1 fen) and ENERGY-2027 (lot 10 tce, tick 100 fen) both clear at
# minute 4 of every five: this is one of their windows.
JOINT_WINDOW = datetime(2027, 3, 1, 2, 4, tzinfo=UTC)


def markets(app: Flask) -> tuple[int, int]:
    """(carbon, energy) market ids, Ordos holding rights in both, Baotou holding cash."""
    carbon, energy = market_id(app, "CEA-2026"), market_id(app, "ENERGY-2027")
    fund(
        app,
        rights={("ordos", carbon): 10_000, ("ordos", energy): 10_000},
        cash={"baotou": 1_000_000_000, "ordos": 1_000_000},
    )
    return carbon, energy


def post_bundle(client: FlaskClient, auth: Auth, league: str, **body: Any) -> Any:
    body.setdefault("window", JOINT_WINDOW.isoformat())
    return client.post("/api/v1/bundles", json=body, headers=auth("league", league))


def post_order(client: FlaskClient, auth: Auth, league: str, **body: Any) -> Any:
    body.setdefault("validity", "gtc")
    return client.post("/api/v1/orders", json=body, headers=auth("league", league))


def leg(market: int, side: str, quantity: int, limit_price: int | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {"market_id": market, "side": side, "quantity": quantity}
    if limit_price is not None:
        out["limit_price"] = limit_price
    return out
