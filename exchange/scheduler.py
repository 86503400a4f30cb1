"""APScheduler wiring: start a scheduler with the jobs the composition root lists.

In the demo the scheduler runs inside the web process (``exchange demo``);
in production it runs in one dedicated
process (``exchange scheduler``). Jobs must be safe to run twice: the database,
not the scheduler, guarantees one clearing run per (market, window).

Which jobs a market needs is its mechanism's answer (``Mechanism.jobs``); the
sync job here keeps the scheduler in step with the open markets and never asks
what kind of market it is.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.base import BaseScheduler
from flask import Flask
from sqlalchemy import select

from exchange import mechanisms
from exchange.mechanisms.base import JobSpec
from exchange.models import Market, MarketStatus
from exchange.schedule import EXCHANGE_TZ

JobInstaller = Callable[[Flask, BaseScheduler], None]
MARKET_JOB_PREFIX = "market:"
SYNC_SECONDS = 60


def init_scheduler(app: Flask) -> None:
    """Record that no scheduler runs yet; :func:`start_scheduler` starts one."""
    app.extensions["exchange.scheduler"] = None


def start_scheduler(
    app: Flask, installers: Sequence[JobInstaller], scheduler: BaseScheduler | None = None
) -> BaseScheduler:
    """Create (unless given), install the given jobs and start the scheduler."""
    scheduler = scheduler or BackgroundScheduler(
        timezone=EXCHANGE_TZ,
        job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": 300},
    )
    for install in installers:
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


def wanted_market_jobs(app: Flask) -> dict[str, JobSpec]:
    """Every job the open markets need, by id, as their mechanisms say."""
    session = app.extensions["exchange.db"]["sessions"]()
    try:
        markets = session.scalars(select(Market).where(Market.status == MarketStatus.OPEN)).all()
        specs = [s for m in markets for s in mechanisms.for_market(m).jobs(app, m)]
    finally:
        session.close()
    return {spec.id: spec for spec in specs}


def sync_jobs(app: Flask, scheduler: BaseScheduler) -> None:
    """Make the market jobs match the open markets, their mechanisms and schedules."""
    wanted = wanted_market_jobs(app)
    for job in scheduler.get_jobs():
        if job.id.startswith(MARKET_JOB_PREFIX) and job.id not in wanted:
            job.remove()
    for spec in wanted.values():
        job = scheduler.get_job(spec.id)
        if job is not None and job.name == _job_name(spec):
            continue
        _add(scheduler, spec)


def install_market_jobs(app: Flask, scheduler: BaseScheduler) -> None:
    """Each market's jobs, a sync job, and every mechanism's one-off start jobs."""
    sync_jobs(app, scheduler)
    scheduler.add_job(
        sync_jobs,
        "interval",
        seconds=SYNC_SECONDS,
        id="sync-markets",
        kwargs={"app": app, "scheduler": scheduler},
        replace_existing=True,
    )
    for mechanism in mechanisms.MECHANISMS.values():
        for spec in mechanism.startup_jobs(app):
            _add(scheduler, spec)


def _job_name(spec: JobSpec) -> str:
    return f"{spec.name} [{spec.signature}]" if spec.signature else spec.name


def _add(scheduler: BaseScheduler, spec: JobSpec) -> None:
    scheduler.add_job(
        spec.func,
        trigger=spec.trigger,
        id=spec.id,
        name=_job_name(spec),
        kwargs=dict(spec.kwargs),
        replace_existing=True,
    )
