"""Browser tests: the app on a free port (werkzeug, in a thread) and the system Chromium.

The server runs on a fresh SQLite database (always SQLite, also when the other tests
run on PostgreSQL) seeded with the demo registry, ledger and users (passwords
``demo-<username>``) and a few days of clearing history. Chromium is the system's
(``/usr/bin/chromium``; ``.ci/run`` installs it if missing); Playwright never
downloads a browser. Without Chromium or Playwright the tests are skipped.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from werkzeug.serving import BaseWSGIServer, make_server

from exchange import create_app
from exchange.extensions import db
from exchange.migrate import upgrade_engine
from exchange.uow import new_unit_of_work

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = os.environ.get("EXCHANGE_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]
SCREENSHOTS = ROOT / "artifacts" / "screenshots"
GUIDE_IMAGES = ROOT / "docs" / "guide" / "img"
REFRESH_GUIDE = os.environ.get("EXCHANGE_REFRESH_GUIDE_IMAGES") == "1"
"""Set ``EXCHANGE_REFRESH_GUIDE_IMAGES=1`` to rewrite the user guide's pictures too."""
VIEWPORT = {"width": 1280, "height": 800}
HISTORY_DAYS = 5

if os.environ.get("CI"):  # in CI the browser tests must run, never skip
    import playwright.sync_api as playwright_sync

    assert Path(CHROMIUM).exists(), f"no Chromium at {CHROMIUM}: .ci/run should install it"
else:  # a developer's machine without Chromium: skipped, and said so
    playwright_sync = pytest.importorskip("playwright.sync_api")
    if not Path(CHROMIUM).exists():  # pragma: no cover - CI installs it
        pytest.skip(f"no Chromium at {CHROMIUM}", allow_module_level=True)


@dataclass
class LiveServer:
    """The app served on ``url`` in a background thread."""

    app: Flask
    url: str
    server: BaseWSGIServer
    thread: threading.Thread
    credentials: dict[str, Any] = field(default_factory=dict)


@pytest.fixture(scope="session")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """The exchange on a free local port with the demo data seeded."""
    from exchange.services.demo import seed_demo
    from exchange.services.demo_trading import seed_history
    from exchange.uow import unit_of_work

    folder = tmp_path_factory.mktemp("e2e")
    app = create_app(
        {
            "DATABASE_URL": f"sqlite:///{folder / 'e2e.sqlite3'}",
            "SECRET_KEY": "e2e-secret",
            "DEMO_CREDENTIALS_PATH": str(folder / "demo-credentials.json"),
            "RATELIMIT_ENABLED": False,
        }
    )
    with app.app_context():
        upgrade_engine(db.engine)
        with new_unit_of_work(db.session_factory) as session, unit_of_work(session):
            seed_demo(session, app.config["DEMO_CREDENTIALS_PATH"])
        seed_history(db.session_factory, days=HISTORY_DAYS)
    from exchange.jobs.runner import start_job_runner, stop_job_runner

    start_job_runner(app)  # background jobs (uploads, verification), as in ``exchange demo``
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="e2e-server", daemon=True)
    thread.start()
    try:
        yield LiveServer(app, f"http://127.0.0.1:{server.server_port}", server, thread)
    finally:
        server.shutdown()
        thread.join(10)
        stop_job_runner(app, 10)
        app.extensions["exchange.db"]["engine"].dispose()


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    """The system Chromium, headless."""
    with playwright_sync.sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture(scope="session")
def shots() -> Path:
    """Where screenshots go (``artifacts/screenshots``, kept by CI, ignored by git)."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)  # overwritten by name (safe under xdist)
    GUIDE_IMAGES.mkdir(parents=True, exist_ok=True)
    return SCREENSHOTS
