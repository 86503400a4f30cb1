"""``exchange create-user``, ``exchange create-token`` and the demo users' credentials file."""

from __future__ import annotations

import json
import stat
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from click.testing import CliRunner
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from exchange import create_app
from exchange.cli import main
from exchange.db import make_engine, make_session_factory
from exchange.identity.demo import seed_identity
from exchange.services.demo import seed_registry


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    # Cheap hashes: the demo hashes 15 passwords per seed (the check itself is unchanged).
    monkeypatch.setattr("exchange.identity.passwords.HASH_METHOD", "pbkdf2:sha256:1000")
    url = f"sqlite:///{tmp_path / 'cli.sqlite3'}"
    monkeypatch.setenv("DATABASE_URL", url)
    credentials = tmp_path / "instance" / "demo-credentials.json"
    monkeypatch.setenv("EXCHANGE_DEMO_CREDENTIALS", str(credentials))
    assert CliRunner().invoke(main, ["init-db"]).exit_code == 0
    # The registry and the users only: the CLI's seed-demo is run by one test below.
    with _session(tmp_path) as session:
        seed_registry(session)
        assert seed_identity(session, credentials)
    return credentials


@contextmanager
def _session(tmp_path: Path) -> Iterator[Session]:
    engine = make_engine(f"sqlite:///{tmp_path / 'cli.sqlite3'}")
    session = make_session_factory(engine)()
    try:
        yield session
    finally:
        session.close()
        engine.dispose()


def client_for(tmp_path: Path) -> FlaskClient:
    app = create_app({"TESTING": True, "DATABASE_URL": f"sqlite:///{tmp_path / 'cli.sqlite3'}"})
    return app.test_client()


def test_demo_writes_working_credentials_for_every_demo_user(env: Path, tmp_path: Path) -> None:
    assert stat.S_IMODE(env.stat().st_mode) == 0o600
    document = json.loads(env.read_text())
    assert "DEMO ONLY" in document["warning"]
    users = document["users"]
    assert len(users) == 15
    assert users["ordos"]["role"] == "league" and users["ordos"]["league"] == "ordos"
    assert {users[n]["role"] for n in ("regulator", "auditor", "admin")} == {
        "regulator",
        "auditor",
        "admin",
    }
    client = client_for(tmp_path)
    for name, entry in users.items():
        me = client.get("/api/v1/me", headers={"Authorization": f"Bearer {entry['token']}"})
        assert me.get_json()["username"] == name
    page = client.get("/login").get_data(as_text=True)
    token = page.split('name="csrf_token" type="hidden" value="')[1].split('"')[0]
    login = client.post(
        "/login",
        data={"username": "auditor", "password": users["auditor"]["password"], "csrf_token": token},
    )
    assert login.status_code == 302


def test_demo_credentials_are_kept_and_not_rewritten_for_existing_users(
    env: Path, tmp_path: Path
) -> None:
    first = json.loads(env.read_text())
    with _session(tmp_path) as session:
        assert seed_identity(session, env) is None
    assert json.loads(env.read_text()) == first
    env.unlink()
    again = CliRunner().invoke(main, ["seed-demo"])  # the CLI's demo seeding, end to end
    assert again.exit_code == 0, again.output
    assert "exchange create-token" in again.output
    assert not env.exists()
    client = client_for(tmp_path)
    token = first["users"]["regulator"]["token"]
    assert client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"}).status_code == 200


def test_create_user_and_token(env: Path, tmp_path: Path) -> None:
    runner = CliRunner()
    made = runner.invoke(
        main,
        ["create-user", "Wang", "--role", "league", "--league", "wuhai", "--password-stdin"],
        input="a-long-password\n",
    )
    assert made.exit_code == 0, made.output
    assert "created user wang" in made.output
    token = runner.invoke(main, ["create-token", "wang", "--days", "3"])
    assert token.exit_code == 0, token.output
    secret = token.stdout.strip().splitlines()[0]
    assert secret.startswith("exr_")
    client = client_for(tmp_path)
    me = client.get("/api/v1/me", headers={"Authorization": f"Bearer {secret}"}).get_json()
    assert me == {
        "user_id": me["user_id"],
        "username": "wang",
        "role": "league",
        "league": "wuhai",
        "auth": "token",
    }
    auditor = json.loads(env.read_text())["users"]["auditor"]["token"]
    log = client.get("/api/v1/action-log", headers={"Authorization": f"Bearer {auditor}"})
    assert [e["method"] for e in log.get_json()["items"]][:2] == ["CLI", "CLI"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["create-user", "x", "--role", "league", "--api-only"], "needs a league"),
        (["create-user", "admin", "--role", "admin", "--api-only"], "exists"),
        (["create-user", "x", "--role", "auditor", "--password", "short"], "8 to"),
        (["create-user", "x", "--role", "auditor", "--password", "p" * 9, "--api-only"], "one of"),
        (["create-token", "nobody"], "no user named"),
        (["create-token", "admin", "--days", "0"], "0"),
    ],
)
def test_cli_errors(env: Path, args: list[str], message: str) -> None:
    result = CliRunner().invoke(main, args)
    assert result.exit_code != 0
    assert message in result.output
