"""Shared by the hardening tests: a trading world (funded leagues with tokens), row counts."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select, table

from exchange.extensions import db
from exchange.uow import new_unit_of_work
from tests.conftest import AuthHeaders, table_names
from tests.hardening.workload import MarketTerms, Send
from tests.leagues import LEAGUE_CODES

LEAGUES = LEAGUE_CODES


@dataclass
class TradingWorld:
    """Demo registry and ledger (allocations, cash), a token per league and the regulator."""

    tokens: dict[str, str]
    regulator: str
    markets: dict[str, list[MarketTerms]]  # league -> markets it may trade (single-zone)


def trading_world(app: Flask, auth: AuthHeaders, markets_per_league: int = 2) -> TradingWorld:
    """Seed the demo ledger into ``app`` (registry already seeded) and make tokens."""
    from exchange.services.demo_ledger import seed_demo_ledger

    with app.app_context(), new_unit_of_work(db.session_factory) as session:
        seed_demo_ledger(session)
    client = app.test_client()
    listed = client.get("/api/v1/markets").get_json()
    single = [m for m in listed if not m["zonal"] and m["status"] == "open"]
    tokens = {league: auth("league", league)["Authorization"].split()[1] for league in LEAGUES}
    markets = {
        league: [
            MarketTerms.of(m)
            for m in single
            if league in {e["league"] for e in m["eligible_leagues"]}
        ][:markets_per_league]
        for league in LEAGUES
    }
    return TradingWorld(tokens, auth("regulator")["Authorization"].split()[1], markets)


def client_send(client: FlaskClient) -> Send:
    """A ``Send`` through Flask's test client (one client per thread)."""

    def send(method: str, path: str, headers: dict[str, str], body: Any) -> tuple[int, Any]:
        response = client.open(path, method=method, headers=headers, json=body)
        try:
            return response.status_code, response.get_json(silent=True)
        finally:
            response.close()

    return send


def row_counts(app: Flask, *, skip: tuple[str, ...] = ("action_log",)) -> dict[str, int]:
    """Rows per table (the action log grows with every write, by design)."""
    with app.app_context():
        session = app.extensions["exchange.db"]["read_sessions"]()
        try:
            return {
                name: session.scalar(select(func.count()).select_from(table(name))) or 0
                for name in table_names()
                if name not in skip
            }
        finally:
            session.close()
