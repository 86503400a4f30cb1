"""``exchange serve``'s gunicorn application: what a worker builds at start."""

from __future__ import annotations

import gc
import json
import subprocess
import sys

import pytest

from exchange.gunicorn_app import ExchangeApplication


def test_a_worker_freezes_what_building_its_app_left(
    database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DATABASE_URL", database_url)
    gc.unfreeze()
    try:
        app = ExchangeApplication({"bind": "127.0.0.1:0", "workers": 1}).load()
        # the app and what it holds are out of the collector's generations: a full
        # collection no longer walks them with the worker's threads stopped
        assert gc.get_freeze_count() > 10_000
        assert not any(o is app for o in gc.get_objects())
    finally:
        gc.unfreeze()


def test_importing_the_app_modules_leaves_building_the_app_nothing_to_import(
    database_url: str,
) -> None:
    """``exchange serve`` imports the app's modules in gunicorn's master, before the fork
    (``exchange.import_app_modules``); a module ``create_app`` needs beyond them would be
    imported by every worker again."""
    probe = (
        "import json, sys\n"
        "import exchange\n"
        "exchange.import_app_modules()\n"
        "ours = ('exchange', 'ledger', 'matching')\n"
        "before = set(sys.modules)\n"
        f"exchange.create_app({{'DATABASE_URL': {database_url!r}, 'SECRET_KEY': 'x'}})\n"
        "new = sorted(m for m in set(sys.modules) - before if m.split('.')[0] in ours)\n"
        "print(json.dumps(new))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=120, check=True
    )
    assert json.loads(done.stdout.strip().splitlines()[-1]) == []
