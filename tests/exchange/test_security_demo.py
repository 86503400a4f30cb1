"""Issue 11, item 8: ``exchange seed-demo`` never touches an existing user."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select

from exchange.cli import main
from exchange.db import make_engine, make_session_factory
from exchange.identity import service
from exchange.identity.passwords import check_password
from exchange.models import ApiToken, Role, User
from exchange.services.demo import seed_registry
from exchange.uow import new_unit_of_work


@pytest.mark.slow  # seeds the whole demo (or fuzzes many inputs)
def test_seed_demo_leaves_existing_users_alone(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("exchange.identity.passwords.HASH_METHOD", "pbkdf2:sha256:1000")
    url = f"sqlite:///{tmp_path / 'prod.sqlite3'}"
    monkeypatch.setenv("DATABASE_URL", url)
    credentials = tmp_path / "demo-credentials.json"
    monkeypatch.setenv("EXCHANGE_DEMO_CREDENTIALS", str(credentials))
    assert CliRunner().invoke(main, ["init-db"]).exit_code == 0
    engine = make_engine(url)
    factory = make_session_factory(engine)
    with new_unit_of_work(factory) as session:
        seed_registry(session)
        regulator = service.create_user(
            session, username="regulator", role=Role.REGULATOR, password="a real secret pw"
        )
        service.update_user(session, regulator.id, active=False)
        service.create_user(
            session, username="ordos", role=Role.LEAGUE, league_code="ordos", password="ordos pw 1"
        )
    for command in (["seed-demo"], ["seed-demo"]):
        result = CliRunner().invoke(main, command)
        assert result.exit_code == 0, result.output
        assert "exchange create-token" in result.output
    with factory() as session:
        users = {u.username: u for u in session.scalars(select(User))}
        assert set(users) == {"regulator", "ordos"}  # no demo user added beside them
        assert users["regulator"].active is False
        assert check_password(users["regulator"].password_hash, "a real secret pw")
        assert not check_password(users["regulator"].password_hash, "demo-regulator")
        assert check_password(users["ordos"].password_hash, "ordos pw 1")
        assert session.scalar(select(func.count()).select_from(ApiToken)) == 0
    assert not credentials.exists()
    engine.dispose()
