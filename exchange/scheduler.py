"""APScheduler wiring: which jobs run, and in which process.

In the demo the scheduler runs inside the web process; in production it runs
in one dedicated process (``exchange scheduler``). Jobs must be safe to run
twice: the database, not the scheduler, guarantees one clearing run per
(market, window).
"""

from __future__ import annotations

from collections.abc import Callable

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.base import BaseScheduler
from flask import Flask

from exchange.schedule import EXCHANGE_TZ

JobInstaller = Callable[[Flask, BaseScheduler], None]

# Functions that add jobs to a fresh scheduler; areas register theirs here.
JOB_INSTALLERS: list[JobInstaller] = []


def job_installer(func: JobInstaller) -> JobInstaller:
    """Decorator: ``func(app, scheduler)`` adds its jobs when a scheduler starts."""
    JOB_INSTALLERS.append(func)
    return func


def init_scheduler(app: Flask) -> None:
    """Record the scheduler settings; nothing starts until :func:`start_scheduler`."""
    app.extensions["exchange.scheduler"] = None


def start_scheduler(app: Flask, scheduler: BaseScheduler | None = None) -> BaseScheduler:
    """Create (unless given), install every job and start the scheduler."""
    import exchange.services.demo_trading
    import exchange.services.scheduling  # noqa: F401  (registers the clearing jobs)

    scheduler = scheduler or BackgroundScheduler(
        timezone=EXCHANGE_TZ,
        job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": 300},
    )
    for install in JOB_INSTALLERS:
        install(app, scheduler)
    scheduler.start()
    app.extensions["exchange.scheduler"] = scheduler
    app.logger.info("scheduler started with %d jobs", len(scheduler.get_jobs()))
    return scheduler


def stop_scheduler(app: Flask) -> None:
    """Shut the scheduler down if this process runs one."""
    scheduler = app.extensions.get("exchange.scheduler")
    if scheduler is not None:
        scheduler.shutdown(wait=False)
        app.extensions["exchange.scheduler"] = None
