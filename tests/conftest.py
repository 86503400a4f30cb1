"""Shared fixtures: a migrated database per test, on SQLite or on PostgreSQL.

SQLite (always): the schema is migrated once into a template file, and each test
gets a fresh copy. PostgreSQL (when ``TEST_DATABASE_URL`` is set): each test run
creates a database of its own beside the named one (``<name>_run_<pid>``, so
that concurrent runs never meet), migrates it once, empties every table before
each test (with triggers off, since the ledger's append-only triggers refuse
TRUNCATE) and drops it at the end.
"""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import Engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

import ledger.models
from exchange import create_app
from exchange.db import make_engine
from exchange.extensions import db
from exchange.migrate import upgrade_engine
from exchange.models import Base

PG_URL = os.environ.get("TEST_DATABASE_URL", "")


SLOW_MODULE = re.compile(r"^pytestmark = pytest\.mark\.slow\b", re.MULTILINE)


def pytest_ignore_collect(collection_path: Path, config: pytest.Config) -> bool | None:
    """The quick loop (``-m "not slow"``) does not even import a module marked slow as a whole
    (its ``pytestmark``): collecting the OpenAPI fuzz module alone builds a hundred
    schemathesis tests, ten seconds."""
    quick = (config.option.markexpr or "").replace(" ", "") == "notslow"
    if not quick or collection_path.suffix != ".py" or not collection_path.name.startswith("test_"):
        return None
    return True if SLOW_MODULE.search(collection_path.read_text(encoding="utf-8")) else None


def pytest_report_header() -> str:
    return f"database: {'PostgreSQL ' + PG_URL if PG_URL else 'SQLite'}"


def table_names() -> list[str]:
    """Every table of the exchange and the ledger."""
    return [t.name for t in Base.metadata.sorted_tables] + [
        t.name for t in ledger.models.LedgerBase.metadata.sorted_tables
    ]


def _admin(url: str) -> Engine:
    return make_engine(url, isolation_level="AUTOCOMMIT")


@pytest.fixture(scope="session", autouse=True)
def signing_key_file(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """Every app of the run signs checkpoints with one throw-away key (never instance/)."""
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    from exchange.checkpointing import write_key_file

    path = tmp_path_factory.mktemp("keys") / "signing-key.pem"
    write_key_file(path, Ed25519PrivateKey.generate())
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("EXCHANGE_SIGNING_KEY", str(path))
        yield path


@pytest.fixture(scope="session")
def migrated_template(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A database at head: a SQLite template file, or this run's PostgreSQL database."""
    if PG_URL:
        base = make_url(PG_URL)
        name = f"{base.database}_run_{os.getpid()}"
        run_url = base.set(database=name).render_as_string(hide_password=False)
        admin = _admin(PG_URL)
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        engine = make_engine(run_url)
        upgrade_engine(engine)
        engine.dispose()
        yield run_url
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
        return
    path = tmp_path_factory.mktemp("template") / "template.sqlite3"
    engine = make_engine(f"sqlite:///{path}")
    upgrade_engine(engine)
    engine.dispose()  # the last connection to close checkpoints the WAL into the file
    yield str(path)


@pytest.fixture(scope="session")
def registry_template(migrated_template: str, tmp_path_factory: pytest.TempPathFactory) -> str:
    """SQLite only: the migrated template with the demo registry seeded, copied by tests
    that ask for ``demo_registry`` (whose seeding then finds it there and does nothing)."""
    from exchange.services.demo import seed_registry
    from exchange.uow import new_unit_of_work

    path = tmp_path_factory.mktemp("registry") / "registry.sqlite3"
    shutil.copyfile(migrated_template, path)
    app = create_app({"TESTING": True, "DATABASE_URL": f"sqlite:///{path}", "SECRET_KEY": "t"})
    with app.app_context(), new_unit_of_work(db.session_factory) as s:
        seed_registry(s)
    app.extensions["exchange.db"]["engine"].dispose()
    return str(path)


@pytest.fixture
def database_url(request: pytest.FixtureRequest, migrated_template: str, tmp_path: Path) -> str:
    """A clean, migrated database for one test (SQLite: with the demo registry already in
    it when the test asks for ``demo_registry``)."""
    if PG_URL:
        engine = make_engine(migrated_template)
        with engine.begin() as conn:
            conn.execute(text("SET LOCAL session_replication_role = replica"))
            conn.execute(text(f"TRUNCATE {', '.join(table_names())} RESTART IDENTITY CASCADE"))
        engine.dispose()
        return migrated_template
    source = migrated_template
    if "demo_registry" in request.fixturenames:
        source = request.getfixturevalue("registry_template")
    target = tmp_path / "test.sqlite3"
    shutil.copyfile(source, target)
    return f"sqlite:///{target}"


@pytest.fixture
def app(database_url: str) -> Iterator[Flask]:
    """The app on a clean database (callers authenticate with the ``auth`` fixture)."""
    app = create_app(
        {
            "TESTING": True,
            "DATABASE_URL": database_url,
            "SECRET_KEY": "test-secret",
        }
    )
    yield app
    app.extensions["exchange.db"]["engine"].dispose()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def session(app: Flask) -> Iterator[Session]:
    """A session outside any request, closed after the test (a test owns its commits)."""
    with app.app_context():
        s = db.session_factory()
        try:
            yield s
        finally:
            s.close()


@pytest.fixture
def demo_registry(app: Flask) -> Flask:
    """The app with the demo basins, leagues and markets seeded."""
    from exchange.services.demo import seed_registry
    from exchange.uow import new_unit_of_work

    with app.app_context(), new_unit_of_work(db.session_factory) as s:
        seed_registry(s)
    return app


AuthHeaders = Callable[..., dict[str, str]]


@pytest.fixture
def auth(app: Flask) -> AuthHeaders:
    """``auth(role, league=None)`` -> request headers acting as such a user.

    Tests call the API with ``headers=auth("regulator")`` or
    ``headers=auth("league", "ordos")``: the first call creates an API-only user
    ``test-<role>[-<league>]`` with a token; later calls reuse it. A league user
    needs its league in the database (e.g. the ``demo_registry`` fixture).
    """
    from exchange.identity import service
    from exchange.models import Role
    from exchange.uow import new_unit_of_work

    tokens: dict[tuple[str, str | None], str] = {}

    def headers(role: str, league: str | None = None) -> dict[str, str]:
        key = (role, league)
        if key not in tokens:
            with app.app_context(), new_unit_of_work(db.session_factory) as s:
                name = f"test-{role}" + (f"-{league}" if league else "")
                user = service.find_user(s, name) or service.create_user(
                    s, username=name, role=Role(role), league_code=league
                )
                tokens[key] = service.create_token(s, user.id, name="test").secret
        return {"Authorization": f"Bearer {tokens[key]}"}

    return headers
