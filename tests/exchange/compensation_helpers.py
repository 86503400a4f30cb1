"""Builders for compensation tests: an agreement between bayannur (up) and ordos (down)."""

from __future__ import annotations

from typing import Any

from flask import Flask

from exchange.compensation import agreements
from exchange.compensation.commands import EnterReading, RegisterAgreement
from exchange.extensions import db
from exchange.uow import unit_of_work

YUAN = 100
UP, DOWN = "bayannur", "ordos"
BASELINE = {"COD": 16_000, "NH3-N": 500, "TP": 100}
BETTER = {"COD": 14_000, "NH3-N": 450, "TP": 90}  # index 0.5333: 11 points of fall
WORSE = {"COD": 18_000, "NH3-N": 600, "TP": 120}  # index 0.7: 16 points of rise


def agreement_data(**changes: Any) -> dict[str, Any]:
    """The API body of an annual Shandong-Henan-like agreement, 2024-2025."""
    data: dict[str, Any] = {
        "upstream": UP,
        "downstream": DOWN,
        "section": "Wuhai-Ordos boundary section (synthetic)",
        "target_class": 3,
        "amount_per_class": 60_000_000 * YUAN,
        "indicators": dict(BASELINE),
        "amount_per_point": 1_000_000 * YUAN,
        "index_cap": 40_000_000 * YUAN,
        "assessment": "annual",
        "first_year": 2024,
        "last_year": 2025,
        "deposit": 0,
    }
    data.update(changes)
    return data


def register(app: Flask, **changes: Any) -> int:
    """Register an agreement through the service; its id."""
    data = agreement_data(**changes)
    with app.app_context():
        s = db.session_factory()
        try:
            with unit_of_work(s):
                return agreements.register_agreement(s, RegisterAgreement(actor="test", **data)).id
        finally:
            s.close()


def reading(app: Flask, agreement_id: int, period: str, cls: int, values: dict[str, int]) -> int:
    with app.app_context():
        s = db.session_factory()
        try:
            with unit_of_work(s):
                return agreements.enter_reading(
                    s,
                    EnterReading(
                        agreement_id=agreement_id,
                        period=period,
                        measured_class=cls,
                        concentrations=values,
                        actor="test",
                    ),
                ).id
        finally:
            s.close()
