"""The ``exchange`` console script: database, demo, serving and scheduler commands."""

from __future__ import annotations

import importlib
import pkgutil
import signal
import time
from typing import Any

import click
from flask import Flask

from exchange import create_app


def _app(**config: Any) -> Flask:
    return create_app(config or None)


@click.group(help="Environmental rights exchange: run, migrate and audit.")
def main() -> None:
    """Entry point of the console script."""


@main.command("init-db")
def init_db() -> None:
    """Create or migrate the database (DATABASE_URL) to the newest schema."""
    app = _app()
    _migrate(app)
    click.echo(f"database at head: {_safe_url(app)}")


@main.command("seed-demo")
def seed_demo() -> None:
    """Migrate, then seed the demo leagues and markets if the database has none."""
    app = _app()
    _migrate(app)
    _seed(app)


@main.command("demo")
@click.option("--host", default="127.0.0.1", show_default=True, help="Interface to bind.")
@click.option("--port", default=5000, show_default=True, type=int, help="Port to listen on.")
def demo(host: str, port: int) -> None:
    """Migrate, seed demo data if absent, start the scheduler and serve pages and API."""
    app = _app(DEMO_ORDER_FLOW=True)
    _migrate(app)
    _seed(app)
    from exchange.composition import start_scheduler
    from exchange.jobs.runner import start_job_runner, stop_job_runner
    from exchange.scheduler import stop_scheduler

    start_scheduler(app)
    start_job_runner(app)
    click.echo(f"Exchange demo on http://{host}:{port}/  (API docs: /api/docs)")
    try:
        app.run(host=host, port=port, threaded=True, use_reloader=False)
    finally:
        stop_job_runner(app, timeout=5)
        stop_scheduler(app)


@main.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
@click.option("--workers", default=2, show_default=True, type=int, help="gunicorn workers.")
@click.option("--threads", default=4, show_default=True, type=int, help="Threads per worker.")
@click.option("--access-log/--no-access-log", default=True, show_default=True)
def serve(host: str, port: int, workers: int, threads: int, access_log: bool) -> None:
    """Serve pages and API with gunicorn (production; no scheduler or job runner in them)."""
    from exchange.gunicorn_app import run_gunicorn

    run_gunicorn(f"{host}:{port}", workers=workers, threads=threads, access_log=access_log)


@main.command("scheduler")
def scheduler() -> None:
    """Run the clearing scheduler and a background-job runner (one per deployment)."""
    from exchange.composition import start_scheduler
    from exchange.jobs.runner import start_job_runner, stop_job_runner
    from exchange.scheduler import stop_scheduler

    app = _app()
    start_scheduler(app)
    start_job_runner(app)
    stopping = False

    def _stop(_signum: int, _frame: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    click.echo("scheduler running; Ctrl-C to stop")
    while not stopping:
        time.sleep(0.5)
    stop_job_runner(app)
    stop_scheduler(app)


def _register_area_commands() -> None:
    """Add the commands of every module in ``exchange.commands`` to the group."""
    import exchange.commands as package

    for info in sorted(pkgutil.iter_modules(package.__path__), key=lambda m: m.name):
        module = importlib.import_module(f"{package.__name__}.{info.name}")
        module.register(main)


def _migrate(app: Flask) -> None:
    from exchange.extensions import db
    from exchange.migrate import upgrade_engine

    with app.app_context():
        upgrade_engine(db.engine)
    from exchange.checkpointing import ensure_signing_key

    path, created = ensure_signing_key(app)
    if created:
        click.echo(f"checkpoint signing key created: {path} (mode 0600; back it up apart)")


def _seed(app: Flask) -> None:
    from exchange.extensions import db
    from exchange.services.demo import seed_demo
    from exchange.uow import new_unit_of_work

    with app.app_context():
        with new_unit_of_work(db.session_factory) as session:
            done = seed_demo(session, app.config["DEMO_CREDENTIALS_PATH"])
        from exchange.compliance.demo import seed_demo_compliance

        with new_unit_of_work(db.session_factory) as session:
            if compliance := seed_demo_compliance(session):
                done.append(compliance)
        from exchange.services.demo_trading import seed_history

        history = seed_history(db.session_factory)
        if history:
            done.append(history)
        from exchange.services.demo_continuous import seed_continuous_book

        if book := seed_continuous_book(db.session_factory):
            done.append(book)
    for line in done:
        click.echo(f"demo data seeded: {line}")
    if not done:
        click.echo("demo data present; left as is")


def _safe_url(app: Flask) -> str:
    from sqlalchemy.engine import make_url

    return make_url(app.config["DATABASE_URL"]).render_as_string(hide_password=True)


_register_area_commands()
