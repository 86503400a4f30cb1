"""Metrics of the background jobs, read from the database at scrape time.

- ``exchange_background_jobs{status}``: jobs by status (queued, running, ...);
- ``exchange_background_job_oldest_queued_seconds``: how long the oldest queued job
  has waited (0 when none waits): it grows when no runner takes jobs;
- ``exchange_job_runners_alive``: runners that reported within the stale limit.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator

from flask import Flask
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector
from sqlalchemy import func, select

from exchange.models import BackgroundJob, JobRunner, JobStatus, utcnow

log = logging.getLogger(__name__)


class JobsCollector(Collector):
    """Jobs by status, the wait of the oldest queued job, and the live runners."""

    def __init__(self, app: Flask) -> None:
        self.app = app

    def collect(self) -> Iterator[GaugeMetricFamily]:
        from exchange.jobs.runner import Settings

        by_status = GaugeMetricFamily(
            "exchange_background_jobs", "Background jobs by status.", labels=["status"]
        )
        oldest = GaugeMetricFamily(
            "exchange_background_job_oldest_queued_seconds",
            "Seconds the oldest queued background job has waited for a runner (0: none).",
        )
        runners = GaugeMetricFamily(
            "exchange_job_runners_alive", "Job runners that reported recently."
        )
        session = self.app.extensions["exchange.db"]["read_sessions"]()
        try:
            counts = dict(
                session.execute(
                    select(BackgroundJob.status, func.count()).group_by(BackgroundJob.status)
                ).all()
            )
            first = session.scalar(
                select(func.min(BackgroundJob.created_at)).where(
                    BackgroundJob.status == JobStatus.QUEUED
                )
            )
            now = utcnow()
            alive = session.scalar(
                select(func.count())
                .select_from(JobRunner)
                .where(JobRunner.heartbeat_at >= now - Settings.of(self.app).stale)
            )
        except Exception as exc:  # the database collector reports the outage
            log.warning("metrics: background jobs not readable: %s", exc)
            return
        finally:
            session.close()
        for status in JobStatus:
            by_status.add_metric([status.value], float(counts.get(status, 0)))
        waited = 0.0
        if first is not None:
            first = first if first.tzinfo else first.replace(tzinfo=now.tzinfo)
            waited = max((now - first).total_seconds(), 0.0)
        oldest.add_metric([], waited)
        runners.add_metric([], float(alive or 0))
        yield by_status
        yield oldest
        yield runners
