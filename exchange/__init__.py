"""The exchange web application (the imperative shell around ``matching`` and ``ledger``)."""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from flask import Flask

PROJECT_ROOT = Path(__file__).resolve().parent.parent

_NOT_AT_IMPORT = ("exchange.migrations",)
"""Packages whose modules do work when imported (Alembic's ``env.py`` runs migrations)."""


def import_app_modules() -> None:
    """Import every module of the package (but :data:`_NOT_AT_IMPORT`'s), building nothing:
    no app, engine, connection or thread. For a server's master process before it forks its
    workers: each then builds its app without importing anything (importing was 5.8 of the
    6 s that building an app took on a slow host, scipy's optimizer alone 1.1 s), and the
    views' own late imports are done too. ``tests/exchange/test_gunicorn_app.py`` checks
    that building the app then imports nothing of ours."""
    for module in pkgutil.walk_packages(__path__, f"{__name__}."):
        if not module.name.startswith(_NOT_AT_IMPORT):
            importlib.import_module(module.name)


def create_app(config: Mapping[str, Any] | None = None) -> Flask:
    """Build the app: configuration, extensions, API, pages, errors, CLI and jobs."""
    from exchange.routing import ExchangeFlask

    app = ExchangeFlask(
        __name__,
        instance_relative_config=True,
        template_folder=str(_templates_folder()),
        static_folder="static",
    )
    from exchange.config import load_config

    app.config.from_mapping(load_config(app.instance_path))
    if config:
        app.config.from_mapping(config)
        if "DATABASE_URL" in config:
            from exchange.config import normalise_database_url

            app.config["DATABASE_URL"] = normalise_database_url(config["DATABASE_URL"])

    _register_observability(app)
    _register_extensions(app)
    _register_blueprints(app)
    _register_error_handlers(app)
    _register_jobs(app)
    return app


def _templates_folder() -> Path:
    """``templates/`` at the project root (a source checkout) or inside the package."""
    source = PROJECT_ROOT / "templates"
    return source if source.is_dir() else Path(__file__).parent / "templates"


def _register_observability(app: Flask) -> None:
    from exchange.observability import init_observability

    init_observability(app)


def _register_extensions(app: Flask) -> None:
    from exchange.extensions import db
    from exchange.identity import init_identity

    db.init_app(app)
    init_identity(app)
    from exchange.checkpointing import init_checkpoints

    init_checkpoints(app)


def _register_blueprints(app: Flask) -> None:
    from exchange.api import register_api
    from exchange.identity.pages import auth_pages
    from exchange.web import register_web

    register_api(app)
    register_web(app)
    app.register_blueprint(auth_pages)


def _register_error_handlers(app: Flask) -> None:
    from exchange.errors import register_error_handlers

    register_error_handlers(app)


def _register_jobs(app: Flask) -> None:
    from exchange import composition

    composition.register(app)
