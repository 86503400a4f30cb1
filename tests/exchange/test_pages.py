"""The home page lists markets and leagues."""

from __future__ import annotations

from flask import Flask
from flask.testing import FlaskClient


def test_home_page_lists_markets_and_leagues(demo_registry: Flask, client: FlaskClient) -> None:
    response = client.get("/")
    assert response.status_code == 200
    assert response.mimetype == "text/html"
    page = response.get_data(as_text=True)
    assert "YR-WATER-2027" in page
    assert "鄂尔多斯市" in page and "Ordos" in page
    # the Yellow River cap in full, grouped by thousands (not rounded to "58.6")
    assert "5,860,000,000" in page
    assert "58.6" not in page


def test_home_page_on_empty_database(client: FlaskClient) -> None:
    response = client.get("/")
    assert response.status_code == 200
    assert "No markets yet" in response.get_data(as_text=True)
