"""A separate process that clears a market, for the exactly-once and crash tests.

Usage: ``python -m tests.exchange.clearing_worker MODE DATABASE_URL MARKET_ID WINDOW [AT]``

- ``scheduled``: start an APScheduler with one job at ``AT`` (ISO time) that does what
  the clearing job does (``clear_due`` for the window containing ``WINDOW``), wait for it
  and print the outcome as JSON.
- ``slow``: clear ``WINDOW`` at once, pausing inside the run's transaction (before
  matching, before and after settlement) so that a test can kill the process there.
"""

from __future__ import annotations

import json
import sys
import threading
import time
from datetime import datetime
from typing import Any

from apscheduler.schedulers.background import BackgroundScheduler

import exchange.mechanisms.call_auction.run as run_module
import matching
from exchange import create_app
from exchange.mechanisms.call_auction.jobs import clear_due
from exchange.mechanisms.call_auction.run import run_clearing
from exchange.models.trading import RunTrigger

PAUSE = 0.15


def _slowly(func: Any) -> Any:
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        time.sleep(PAUSE)
        result = func(*args, **kwargs)
        time.sleep(PAUSE)
        return result

    return wrapper


def main(argv: list[str]) -> int:
    mode, url, market_id, window = argv[0], argv[1], int(argv[2]), datetime.fromisoformat(argv[3])
    app = create_app({"DATABASE_URL": url, "SECRET_KEY": "worker"})
    factory = app.extensions["exchange.db"]["sessions"]
    if mode == "slow":
        matching.clear = _slowly(matching.clear)  # type: ignore[assignment]
        run_module.settle_fills = _slowly(run_module.settle_fills)  # type: ignore[assignment]
        print("ready", flush=True)
        outcome = run_clearing(
            factory, market_id, window, trigger=RunTrigger.MANUAL, actor="worker"
        )
        print(json.dumps({"run_id": outcome.run_id, "created": outcome.created}), flush=True)
        return 0
    at = datetime.fromisoformat(argv[4])
    done = threading.Event()
    result: dict[str, Any] = {}

    def job() -> None:
        try:
            outcome = clear_due(app, market_id, now=window)
            assert outcome is not None
            result.update(run_id=outcome.run_id, created=outcome.created)
        except Exception as exc:  # reported to the test
            result.update(error=repr(exc))
        finally:
            done.set()

    scheduler = BackgroundScheduler()
    scheduler.add_job(job, "date", run_date=at, misfire_grace_time=None)
    scheduler.start()
    done.wait(timeout=60)
    scheduler.shutdown(wait=False)
    app.extensions["exchange.db"]["engine"].dispose()
    print(json.dumps(result), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
