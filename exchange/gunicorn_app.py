"""Run the app under gunicorn from Python (``exchange serve``).

Metrics across workers: unless ``PROMETHEUS_MULTIPROC_DIR`` is set, ``serve``
creates a private temporary directory for prometheus-client's multiprocess mode
and sets the variable before any worker imports prometheus-client, so that
``/metrics`` adds up every worker. Workers that exit are marked dead
(``child_exit``: their live gauges are dropped, their counters kept in the
totals); the directory is removed when gunicorn exits. A directory given by the
operator is kept, and only the files of processes that no longer exist are
removed at start.
"""

from __future__ import annotations

import gc
import os
import re
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Any

from gunicorn.app.base import BaseApplication

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
_FILE_PID = re.compile(r"_(\d+)\.db$")


class ExchangeApplication(BaseApplication):  # type: ignore[misc]
    """A gunicorn application that builds one app per worker after the fork."""

    def __init__(self, options: dict[str, Any]) -> None:
        self.options = options
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.options.items():
            self.cfg.set(key, value)

    def load(self) -> Any:
        """The worker's app; what building it left (about 230,000 objects: modules, mappers,
        schemas) is moved out of the cyclic collector's reach (``gc.freeze``). A full
        collection walked it all, about 90 ms with the worker's threads stopped, every few
        seconds under ``bench/load``; after, 3-16 ms (``bench/trading/README.md``)."""
        from exchange import create_app

        app = create_app()
        gc.freeze()
        return app


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def prepare_metrics_directory() -> tuple[Path, bool]:
    """The multiprocess directory (set in the environment) and whether serve owns it."""
    if "exchange.observability.metrics" in sys.modules:  # its metrics would be per process
        raise RuntimeError("prepare the metrics directory before the app is imported")
    given = os.environ.get(MULTIPROC_ENV, "").strip()
    if given:
        path, owned = Path(given), False
        path.mkdir(parents=True, exist_ok=True)
        for stale in path.glob("*.db"):
            match = _FILE_PID.search(stale.name)
            if match and not _pid_alive(int(match.group(1))):
                stale.unlink(missing_ok=True)
    else:
        path, owned = Path(tempfile.mkdtemp(prefix="exchange-metrics-")), True
    os.environ[MULTIPROC_ENV] = str(path)
    values = sys.modules.get("prometheus_client.values")
    if values is not None:  # imported before the variable was set: pick the shared-file values
        values.ValueClass = values.get_value_class()  # type: ignore[attr-defined]
    return path, owned


def _child_exit(_server: Any, worker: Any) -> None:
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)  # type: ignore[no-untyped-call]


def run_gunicorn(bind: str, *, workers: int, threads: int, access_log: bool = True) -> None:
    """Serve on ``bind`` with ``workers`` processes of ``threads`` threads each."""
    directory, owned = prepare_metrics_directory()
    print(f"metrics of all workers: {directory}", file=sys.stderr, flush=True)
    from exchange import import_app_modules

    # Once, here, before the fork, instead of in every worker while the first requests
    # wait: a worker that was still importing for seconds after the other served left
    # the server at half its capacity (bench/trading/README.md, eleventh pass).
    import_app_modules()

    def _on_exit(_server: Any) -> None:
        if owned:
            shutil.rmtree(directory, ignore_errors=True)

    try:
        ExchangeApplication(
            {
                "bind": bind,
                "workers": workers,
                "threads": threads,
                "worker_class": "gthread",
                "accesslog": "-" if access_log else None,
                "timeout": 60,
                # A client that posts every few seconds keeps its connection (gunicorn's
                # default of 2 s closed the load benchmark's 3-s clearing client each time).
                "keepalive": 5,
                "child_exit": _child_exit,
                "on_exit": _on_exit,
            }
        ).run()
    finally:
        if owned:
            shutil.rmtree(directory, ignore_errors=True)
