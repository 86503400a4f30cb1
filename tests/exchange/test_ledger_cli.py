"""``exchange verify-ledger``, ``export-ledger``, ``allocate --csv``, ``deposit`` and the demo."""

from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

import ledger
from exchange.cli import main
from exchange.data import demo_enterprises
from exchange.db import make_engine, make_session_factory
from exchange.migrate import upgrade_engine
from exchange.services import demo_stability
from exchange.services.demo_ledger import split_lots
from tests.ledger.helpers import as_attacker

pytestmark = pytest.mark.slow  # seeds the whole demo


@pytest.fixture(scope="module")
def demo_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A demo database seeded once per module (seeding takes a few seconds)."""
    path = tmp_path_factory.mktemp("demo") / "demo.sqlite3"
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("DATABASE_URL", f"sqlite:///{path}")
        result = CliRunner().invoke(main, ["seed-demo"])
    assert result.exit_code == 0, result.output
    assert "ledger:" in result.output
    return path


@pytest.fixture
def demo_db(demo_template: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    target = tmp_path / "cli.sqlite3"
    shutil.copyfile(demo_template, target)
    url = f"sqlite:///{target}"
    monkeypatch.setenv("DATABASE_URL", url)
    return url


@pytest.mark.slow  # seeds the whole demo (or fuzzes many inputs)
def test_a_fresh_demo_verifies_clean_and_allocates_the_yellow_river(demo_db: str) -> None:
    result = CliRunner().invoke(main, ["verify-ledger"])
    assert result.exit_code == 0, result.output
    assert "ledger OK" in result.output
    engine = make_engine(demo_db)
    try:
        session = make_session_factory(engine)()
        report = ledger.verify(session)
        assert report.ok
        assert report.assets["market:1"]["issued"] == 5_860_000_000
        water = report.assets["market:1"]
        assert sum(v for k, v in water.items() if k != "issued") == 5_860_000_000
        # 50 million yuan to each league, the enterprises' cash (issue 20) and the reserve's
        # cash for the emissions containment reserve (issue 21)
        enterprises = sum(e["cash"] for e in demo_enterprises.ENTERPRISES)
        reserve = demo_stability.RULES["ecr_quantity"] * demo_stability.RULES["ecr_trigger_price"]
        assert report.assets[ledger.CASH]["issued"] == 12 * 5_000_000_000 + enterprises + reserve
        session.close()
    finally:
        engine.dispose()
    again = CliRunner().invoke(main, ["seed-demo"])
    assert again.exit_code == 0 and "ledger:" not in again.output


def test_verify_ledger_exits_non_zero_and_names_the_violation(demo_db: str) -> None:
    engine = make_engine(demo_db)
    try:
        session = make_session_factory(engine)()
        as_attacker(session, "UPDATE ledger_postings SET amount = amount + 1 WHERE id = 2")
        session.close()
    finally:
        engine.dispose()
    result = CliRunner().invoke(main, ["verify-ledger"])
    assert result.exit_code == 1
    assert "VIOLATION journal_hash" in result.output and "journal_id=1" in result.output
    assert "FAILED" in result.output
    as_json = CliRunner().invoke(main, ["verify-ledger", "--json"])
    assert as_json.exit_code == 1
    assert json.loads(as_json.stdout)["ok"] is False


def test_export_csv_and_jsonl(demo_db: str, tmp_path: Path) -> None:
    target = tmp_path / "ledger.csv"
    result = CliRunner().invoke(main, ["export-ledger", "--format", "csv", "-o", str(target)])
    assert result.exit_code == 0, result.output
    with target.open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert rows and rows[0]["journal_id"] == "1" and len(rows[0]["hash"]) == 64
    assert sum(int(r["amount"]) for r in rows) == 0
    piped = CliRunner().invoke(main, ["export-ledger", "--format", "jsonl"])
    assert piped.exit_code == 0
    lines = [json.loads(line) for line in piped.stdout.splitlines()]
    lines = [line for line in lines if "record" not in line]  # state rows follow journals
    assert len(lines) == len({r["journal_id"] for r in rows})
    assert lines[0]["postings"] and lines[0]["seq"] == 1
    assert "%" not in piped.output  # no progress bar when piped


def test_allocate_from_csv_is_all_or_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = f"sqlite:///{tmp_path / 'alloc.sqlite3'}"
    monkeypatch.setenv("DATABASE_URL", url)
    engine = make_engine(url)
    upgrade_engine(engine)
    session = make_session_factory(engine)()
    from exchange.services.demo import seed_registry
    from exchange.uow import unit_of_work

    with unit_of_work(session):
        seed_registry(session)
    session.close()
    engine.dispose()
    good = tmp_path / "good.csv"
    good.write_text(
        "league,market,quantity,reference\n"
        + "".join(f"ordos,COD-2027,{i % 7 + 1},bulk:{i}\n" for i in range(2000))
        + "baotou,COD-2027,5,\n",
        encoding="utf-8",
    )
    result = CliRunner().invoke(main, ["allocate", "--csv", str(good)])
    assert result.exit_code == 0, result.output
    assert (
        f"allocated 2001 allocations, {sum(i % 7 + 1 for i in range(2000)) + 5} units"
        in result.output
    )
    bad = tmp_path / "bad.csv"
    bad.write_text("league,market,quantity\nordos,COD-2027,5\natlantis,COD-2027,5\n")
    result = CliRunner().invoke(main, ["allocate", "--csv", str(bad)])
    assert result.exit_code == 1 and "allocation 2: unknown league 'atlantis'" in result.output
    over = tmp_path / "over.csv"
    over.write_text("league,market,quantity\nordos,COD-2027,1\nordos,COD-2027,200000\n")
    result = CliRunner().invoke(main, ["allocate", "--csv", str(over)])
    assert result.exit_code == 1 and "cap" in result.output
    for text in ("league,market\nordos,COD-2027\n", "league,market,quantity\nordos,COD-2027,1.5\n"):
        broken = tmp_path / "broken.csv"
        broken.write_text(text)
        result = CliRunner().invoke(main, ["allocate", "--csv", str(broken)])
        assert result.exit_code == 1
    deposit = CliRunner().invoke(main, ["deposit", "--league", "ordos", "--amount", "700"])
    assert deposit.exit_code == 0 and "available 700 fen" in deposit.output
    result = CliRunner().invoke(main, ["verify-ledger"])
    assert result.exit_code == 0, result.output
    assert "2002 journals" in result.output


def test_split_lots_is_exact() -> None:
    parts = split_lots(5_860_000_000, 1000, {"a": 40, "b": 33, "c": 27})
    assert sum(parts.values()) == 5_860_000_000
    assert all(v % 1000 == 0 for v in parts.values())
    assert split_lots(10, 1, {"a": 1, "b": 1, "c": 1}) == {"a": 4, "b": 3, "c": 3}
