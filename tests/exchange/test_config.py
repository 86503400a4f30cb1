"""Configuration from the environment."""

from __future__ import annotations

import pytest

from exchange import create_app
from exchange.config import load_config, normalise_database_url


def test_defaults(monkeypatch: pytest.MonkeyPatch, tmp_path: object) -> None:
    for name in ("DATABASE_URL", "SECRET_KEY", "EXCHANGE_SCHEDULER", "EXCHANGE_SECURE_COOKIES"):
        monkeypatch.delenv(name, raising=False)
    config = load_config("/srv/instance")
    assert config["DATABASE_URL"] == "sqlite:////srv/instance/exchange.sqlite3"
    assert "SCHEDULER_ENABLED" not in config  # EXCHANGE_SCHEDULER is gone: `exchange scheduler`
    assert "OPEN_WRITES" not in config
    assert config["SESSION_COOKIE_SECURE"] is False
    assert config["SESSION_COOKIE_HTTPONLY"] is True
    assert config["SESSION_COOKIE_SAMESITE"] == "Lax"
    assert len(config["SECRET_KEY"]) >= 32


def test_environment_overrides(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", "postgresql://u@h/db")
    monkeypatch.setenv("SECRET_KEY", "s3cret")
    monkeypatch.setenv("EXCHANGE_SECURE_COOKIES", "yes")
    config = load_config("/x")
    assert config["DATABASE_URL"] == "postgresql+psycopg://u@h/db"
    assert config["SECRET_KEY"] == "s3cret"
    assert config["SESSION_COOKIE_SECURE"] is True


def test_normalise_keeps_other_urls() -> None:
    assert normalise_database_url("sqlite:///a.db") == "sqlite:///a.db"
    assert normalise_database_url("postgres://x/y") == "postgresql+psycopg://x/y"


def test_create_app_accepts_a_config_mapping(tmp_path: object) -> None:
    app = create_app({"DATABASE_URL": "postgres://nobody@127.0.0.1/none", "TESTING": True})
    assert app.config["DATABASE_URL"].startswith("postgresql+psycopg://")
    assert app.testing
