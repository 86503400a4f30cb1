"""Run the app under gunicorn from Python (``exchange serve``)."""

from __future__ import annotations

from typing import Any

from gunicorn.app.base import BaseApplication


class ExchangeApplication(BaseApplication):  # type: ignore[misc]
    """A gunicorn application that builds one app per worker after the fork."""

    def __init__(self, options: dict[str, Any]) -> None:
        self.options = options
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.options.items():
            self.cfg.set(key, value)

    def load(self) -> Any:
        from exchange import create_app

        return create_app()


def run_gunicorn(bind: str, *, workers: int, threads: int, access_log: bool = True) -> None:
    """Serve on ``bind`` with ``workers`` processes of ``threads`` threads each."""
    ExchangeApplication(
        {
            "bind": bind,
            "workers": workers,
            "threads": threads,
            "worker_class": "gthread",
            "accesslog": "-" if access_log else None,
            "timeout": 60,
        }
    ).run()
