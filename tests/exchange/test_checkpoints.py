"""Checkpoints in the exchange: after clearing, on a schedule, in the API, the CLI and the tool.

The independent verifier (tools/verify_export.py) runs as a subprocess with the
venv's Python and must give the same verdict as ``exchange verify-ledger``.
"""

from __future__ import annotations

import io
import json
import os
import stat
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

import ledger
from exchange import create_app
from exchange.checkpointing import interval_checkpoint, parse_private_key, write_key_file
from exchange.cli import main
from exchange.extensions import db
from exchange.models import Role
from ledger.models import Journal
from ledger.signing import key_id_of, public_key_text, sign
from tests.exchange.page_helpers import csrf_token, login, make_user
from tests.exchange.trading_helpers import fund, market_id
from tests.ledger.helpers import as_attacker

Auth = Callable[..., dict[str, str]]
TOOL = Path(__file__).resolve().parents[2] / "tools" / "verify_export.py"


def trade(app: Flask, client: FlaskClient, auth: Auth) -> dict[str, Any]:
    """Ordos sells carbon to Baotou in one clearing run; the run's public record."""
    mid = market_id(app, "CEA-2026")
    fund(app, rights={("ordos", mid): 10_000}, cash={"baotou": 100_000_000})
    for league, side, price in (("ordos", "sell", 9_000), ("baotou", "buy", 9_500)):
        response = client.post(
            "/api/v1/orders",
            json={
                "market_id": mid,
                "side": side,
                "quantity": 600,
                "limit_price": price,
                "client_order_id": f"{side}-1",
            },
            headers=auth("league", league),
        )
        assert response.status_code == 201, response.get_json()
    run = client.post(f"/api/v1/markets/{mid}/clearing-runs", json={}, headers=auth("regulator"))
    assert run.status_code == 201, run.get_json()
    body: dict[str, Any] = run.get_json()
    return body


def cli(*args: str) -> Any:
    return CliRunner().invoke(main, list(args))


def tool(export: Path, checkpoint: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(TOOL), str(export), str(checkpoint), *extra],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def verdicts(export: Path, checkpoint: Path, *keys: str) -> tuple[Any, Any]:
    """(verify-ledger --json, tool --json) reports, after exporting the ledger afresh."""
    exported = cli("export-ledger", "--format", "jsonl", "-o", str(export))
    assert exported.exit_code == 0, exported.output
    options = [a for k in keys for a in ("--public-key", k)]
    product = cli("verify-ledger", "--json", "--checkpoint", str(checkpoint), *options)
    independent = tool(export, checkpoint, "--json", *options)
    assert independent.returncode in (0, 1), independent.stderr
    assert (product.exit_code == 0) == (independent.returncode == 0)
    return json.loads(product.stdout), json.loads(independent.stdout)


def same_findings(product: Any, independent: Any) -> set[tuple[str, str | None]]:
    def findings(report: Any) -> set[tuple[str, str | None]]:
        return {(v["check"], v.get("chain")) for v in report["violations"]}

    assert findings(product) == findings(independent)
    assert product["chains"] == independent["chains"]
    assert product["assets"] == independent["assets"]
    return findings(product)


@pytest.fixture
def traded(
    demo_registry: Flask,
    client: FlaskClient,
    auth: Auth,
    database_url: str,
    monkeypatch: pytest.MonkeyPatch,
) -> dict[str, Any]:
    monkeypatch.setenv("DATABASE_URL", database_url)
    return trade(demo_registry, client, auth)


def test_a_clearing_run_carries_the_public_checkpoint_that_covers_it(
    traded: dict[str, Any], client: FlaskClient
) -> None:
    covering = traded["checkpoint"]
    assert covering is not None and len(covering["hash"]) == 64
    again = client.get(f"/api/v1/clearing-runs/{traded['id']}").get_json()
    assert again["checkpoint"] == covering
    latest = client.get("/api/v1/ledger/checkpoints/latest")  # anonymous
    assert latest.status_code == 200
    body = latest.get_json()
    assert body["reference"] == f"clearing_run:{traded['id']}"
    assert (body["seq"], body["hash"]) == (covering["seq"], covering["hash"])
    market_chain = ledger.market_asset(traded["market_id"])
    assert market_chain in {c["name"] for c in body["chains"]}
    listed = client.get(f"/api/v1/ledger/checkpoints?since={body['seq'] - 1}").get_json()
    assert [c["seq"] for c in listed["checkpoints"]] == [body["seq"]]
    before = body["created_at"].replace("Z", "")[:19]  # naive: UTC; to the second
    by_time = client.get(f"/api/v1/ledger/checkpoints?since={before}").get_json()
    assert body["seq"] in [c["seq"] for c in by_time["checkpoints"]]
    after = client.get("/api/v1/ledger/checkpoints?since=2999-01-01T00:00:00Z").get_json()
    assert after == {"checkpoints": []}
    assert client.get(f"/api/v1/ledger/checkpoints/{body['seq']}").get_json() == body
    keys = client.get("/api/v1/ledger/public-key").get_json()
    assert keys["current"] == body["key_id"] and keys["current_public_key"] == body["public_key"]
    [key] = keys["keys"]
    assert key["public_key"] == body["public_key"] and key["valid_until"] is None
    assert key["public_key_pem"].startswith("-----BEGIN PUBLIC KEY-----")
    listing = client.get(f"/api/v1/markets/{traded['market_id']}/clearing-runs").get_json()
    assert listing[0]["checkpoint"] == covering


@pytest.mark.parametrize(
    "query",
    ["since=-1", "since=x", "since=", "since=99999999999999999999", "limit=0", "limit=5000"],
)
def test_bad_checkpoint_queries_are_422(client: FlaskClient, query: str) -> None:
    response = client.get(f"/api/v1/ledger/checkpoints?{query}")
    assert response.status_code == 422
    assert client.get("/api/v1/ledger/checkpoints/latest").status_code == 404


def test_the_scheduled_checkpoint_only_signs_when_something_changed(app: Flask) -> None:
    factory = app.extensions["exchange.db"]["sessions"]
    assert interval_checkpoint(factory) is None  # an empty ledger: nothing to state
    with app.app_context():
        s = db.session_factory()
        ledger.deposit_cash(s, league="ordos", amount=5, reference="d:1", actor="t")
        s.commit()
        s.close()
    assert interval_checkpoint(factory) == 1
    assert interval_checkpoint(factory) is None
    with app.app_context():
        s = db.session_factory()
        ledger.deposit_cash(s, league="ordos", amount=5, reference="d:2", actor="t")
        s.commit()
        s.close()
    assert interval_checkpoint(factory) == 2


def published(client: FlaskClient, tmp_path: Path, name: str = "checkpoint.json") -> Path:
    path = tmp_path / name
    path.write_text(client.get("/api/v1/ledger/checkpoints/latest").get_data(as_text=True))
    return path


@pytest.mark.slow  # runs the independent verifier in a Python process
def test_product_and_independent_verifier_agree_on_a_clean_ledger(
    traded: dict[str, Any], client: FlaskClient, tmp_path: Path
) -> None:
    checkpoint = published(client, tmp_path)
    product, independent = verdicts(tmp_path / "export.jsonl", checkpoint)
    assert product["ok"] and independent["ok"]
    assert same_findings(product, independent) == set()
    text = tool(tmp_path / "export.jsonl", checkpoint)
    assert text.returncode == 0 and "ledger OK" in text.stdout and "): OK" in text.stdout
    page = tmp_path / "page.json"  # a page of the list works too: its newest checkpoint
    page.write_text(client.get("/api/v1/ledger/checkpoints").get_data(as_text=True))
    assert tool(tmp_path / "export.jsonl", page).returncode == 0
    assert cli("verify-ledger", "--checkpoint", str(page)).exit_code == 0
    journals_only = tmp_path / "journals.jsonl"  # an export without the state rows
    lines = (tmp_path / "export.jsonl").read_text().splitlines()
    journals_only.write_text("\n".join(line for line in lines if '"record"' not in line))
    refused = tool(journals_only, checkpoint)
    assert refused.returncode == 2 and "no account, hold or chain lines" in refused.stderr


@pytest.mark.slow  # runs the independent verifier in a Python process
def test_truncation_is_caught_by_both_verifiers(
    traded: dict[str, Any], demo_registry: Flask, client: FlaskClient, tmp_path: Path
) -> None:
    checkpoint = published(client, tmp_path)
    chain = ledger.market_asset(traded["market_id"])
    with demo_registry.app_context():
        s = db.session_factory()
        tail = list(s.scalars(select(Journal).where(Journal.chain == chain).order_by(Journal.seq)))
        cut = [j for j in tail if j.reference.startswith(f"run:{traded['id']}/")]
        keep = tail[len(tail) - len(cut) - 1]
        keep_seq, keep_hash, last_seq = keep.seq, keep.hash, tail[-1].seq
        ids = ", ".join(str(j.id) for j in cut)
        as_attacker(
            s,
            "UPDATE ledger_accounts SET balance = balance - COALESCE((SELECT SUM(p.amount) "
            "FROM ledger_postings p WHERE p.account_id = ledger_accounts.id "
            f"AND p.journal_id IN ({ids})), 0)",
            # the settled orders' holds get their remaining back, as before the run
            "UPDATE ledger_holds SET remaining = remaining - COALESCE((SELECT SUM(p.amount) "
            "FROM ledger_postings p WHERE p.hold_id = ledger_holds.id "
            f"AND p.journal_id IN ({ids}) AND p.account_id = ledger_holds.escrow_account_id), 0)",
            f"DELETE FROM ledger_postings WHERE journal_id IN ({ids})",
            f"DELETE FROM ledger_journals WHERE id IN ({ids})",
            f"UPDATE ledger_chains SET seq = {keep_seq}, head_hash = '{keep_hash}' "
            f"WHERE name = '{chain}'",
            "DELETE FROM ledger_checkpoints",
        )
        s.close()
    alone = cli("verify-ledger")
    assert alone.exit_code == 0, alone.output  # a self-consistent, shorter ledger
    result = cli("verify-ledger", "--checkpoint", str(checkpoint))
    assert result.exit_code == 1
    assert "VIOLATION checkpoint_behind" in result.output
    assert f"{chain}: the ledger ends at #{keep_seq}" in result.output
    assert f"journals #{keep_seq + 1}..#{last_seq} are missing" in result.output
    product, independent = verdicts(tmp_path / "export.jsonl", checkpoint)
    assert same_findings(product, independent) == {("checkpoint_behind", chain)}
    text = tool(tmp_path / "export.jsonl", checkpoint)
    assert text.returncode == 1
    assert f"journals #{keep_seq + 1}..#{last_seq} are missing" in text.stdout


def test_an_altered_amount_is_caught_by_both_verifiers(
    traded: dict[str, Any], demo_registry: Flask, client: FlaskClient, tmp_path: Path
) -> None:
    checkpoint = published(client, tmp_path)
    with demo_registry.app_context():
        s = db.session_factory()
        as_attacker(s, "UPDATE ledger_postings SET amount = amount + 1 WHERE id = 1")
        s.close()
    product, independent = verdicts(tmp_path / "export.jsonl", checkpoint)
    checks = {c for c, _chain in same_findings(product, independent)}
    assert {"journal_hash", "balance", "unbalanced_journal"} <= checks


def test_a_forged_checkpoint_fails_the_signature_in_both(
    traded: dict[str, Any], client: FlaskClient, tmp_path: Path, signing_key_file: Path
) -> None:
    data = json.loads(published(client, tmp_path).read_text())
    data["chains"][0]["seq"] += 5  # claim more than was ever there
    altered = tmp_path / "altered.json"
    altered.write_text(json.dumps(data))
    product, independent = verdicts(tmp_path / "export.jsonl", altered)
    assert ("checkpoint_signature", None) in same_findings(product, independent)
    # Re-signed by the attacker's own key, embedded in the checkpoint: only a pinned key
    # tells. The product pins its own key; the tool is given the published one.
    mallory = Ed25519PrivateKey.generate()
    data["public_key"] = public_key_text(mallory)
    data["key_id"] = key_id_of(data["public_key"])
    from ledger.signing import checkpoint_from_json

    statement = checkpoint_from_json({**data, "hash": "0" * 64, "signature": ""}).statement
    data["hash"], data["signature"] = statement.digest(), sign(mallory, statement.text())
    forged = tmp_path / "forged.json"
    forged.write_text(json.dumps(data))
    pinned = tmp_path / "exchange.pub"
    pinned.write_text(client.get("/api/v1/ledger/public-key").get_json()["keys"][0]["public_key"])
    product, independent = verdicts(tmp_path / "export.jsonl", forged, str(pinned))
    messages = [v["message"] for v in product["violations"] + independent["violations"]]
    assert sum("not a trusted key" in m for m in messages) == 2
    unpinned = cli("verify-ledger", "--checkpoint", str(forged))
    assert unpinned.exit_code == 1 and "not a trusted key" in unpinned.output


def test_key_rotation_keeps_old_and_new_checkpoints_verifiable(
    database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    key_file = tmp_path / "key.pem"
    old = Ed25519PrivateKey.generate()
    write_key_file(key_file, old)
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setenv("EXCHANGE_SIGNING_KEY", str(key_file))
    app = create_app({"TESTING": True, "DATABASE_URL": database_url})
    client = app.test_client()
    with app.app_context():
        s = db.session_factory()
        ledger.deposit_cash(s, league="ordos", amount=5, reference="d:1", actor="t")
        s.commit()
        s.close()
    assert cli("checkpoint").exit_code == 0
    before = published(client, tmp_path, "before.json")
    rotated = cli("rotate-signing-key")
    assert rotated.exit_code == 0, rotated.output
    assert stat.S_IMODE(os.stat(key_file).st_mode) == 0o600
    assert public_key_text(old) != public_key_text(parse_private_key(key_file.read_bytes()))
    after = published(client, tmp_path, "after.json")
    assert json.loads(after.read_text())["reference"] == "key-rotation:new"
    keys = client.get("/api/v1/ledger/public-key").get_json()
    by_id = {k["key_id"]: k for k in keys["keys"]}
    old_id = key_id_of(public_key_text(old))
    assert by_id[old_id]["valid_until"] is not None and not by_id[old_id]["current"]
    assert keys["current"] != old_id and by_id[keys["current"]]["predecessor"] == old_id
    # The exchange (new key) verifies the old checkpoint; an auditor pinned to the old
    # key follows the countersigned rotation to the new one.
    for checkpoint in (before, after):
        assert cli("verify-ledger", "--checkpoint", str(checkpoint)).exit_code == 0
    old_pem = tmp_path / "old.pem"
    old_pem.write_bytes(
        old.public_key().public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo)
    )
    product, independent = verdicts(tmp_path / "export.jsonl", after, str(old_pem))
    assert product["ok"] and independent["ok"]
    app.extensions["exchange.db"]["engine"].dispose()


def test_init_db_creates_a_private_key_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    key_file = tmp_path / "keys" / "signing.pem"
    # a fresh SQLite file (init-db keeps its engine to the end of the process)
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'fresh.sqlite3'}")
    monkeypatch.setenv("EXCHANGE_SIGNING_KEY", str(key_file))
    result = cli("init-db")
    assert result.exit_code == 0, result.output
    assert "signing key created" in result.output
    assert stat.S_IMODE(os.stat(key_file).st_mode) == 0o600
    assert key_file.read_text().startswith("-----BEGIN PRIVATE KEY-----")
    again = cli("init-db")
    assert again.exit_code == 0 and "signing key created" not in again.output


@pytest.mark.slow  # runs the independent verifier in a Python process
def test_a_bad_checkpoint_file_is_a_usage_error(
    tmp_path: Path, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text('{"seq": "1"}')
    monkeypatch.setenv("DATABASE_URL", database_url)
    result = cli("verify-ledger", "--checkpoint", str(bad))
    assert result.exit_code == 2 and "--checkpoint" in result.output
    export = tmp_path / "empty.jsonl"
    export.write_text("")
    assert tool(export, bad).returncode == 2


def verify_page(client: FlaskClient, upload: tuple[bytes, str] | None = None) -> Any:
    data: dict[str, Any] = {"csrf_token": csrf_token(client, "/audit/verify")}
    if upload is not None:
        data["checkpoint"] = (io.BytesIO(upload[0]), upload[1])
    return client.post("/audit/verify", data=data, content_type="multipart/form-data")


def test_the_audit_page_checks_the_latest_or_an_uploaded_checkpoint(
    traded: dict[str, Any], demo_registry: Flask, client: FlaskClient, tmp_path: Path
) -> None:
    demo_registry.config["WEB_JOBS_INLINE"] = True
    make_user(demo_registry, "abe", Role.AUDITOR)
    login(client, "abe")
    checkpoint = published(client, tmp_path).read_bytes()
    seq = json.loads(checkpoint)["seq"]
    started = verify_page(client)
    assert started.status_code == 302
    page = client.get(started.headers["Location"]).get_data(as_text=True)
    assert f'class="summary ok" data-checkpoint="{seq}"' in page and "Latest stored" in page
    refused = verify_page(client, (b'{"seq": 1}', "cp.json"))
    assert refused.status_code == 422
    assert "This is not a checkpoint as GET /api/v1/ledger/checkpoints/latest returns it" in (
        refused.get_data(as_text=True)
    )
    data = json.loads(checkpoint)
    data["chains"][0]["seq"] += 1
    started = verify_page(client, (json.dumps(data).encode(), "cp.json"))
    page = client.get(started.headers["Location"]).get_data(as_text=True)
    assert f'class="summary bad" data-checkpoint="{seq}"' in page and "Uploaded" in page
    assert "checkpoint_signature" in page and "checkpoint_behind" in page
