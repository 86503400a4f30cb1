"""``exchange serve``'s gunicorn application: what a worker builds at start."""

from __future__ import annotations

import gc

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
