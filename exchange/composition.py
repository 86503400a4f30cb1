"""The composition root: every scheduler job, background job and mechanism, wired here.

Nothing registers itself by being imported: the lists below are the whole of it.

- :data:`MECHANISMS`: the trading mechanisms (their registry is
  :mod:`exchange.mechanisms`; markets name theirs in ``markets.mechanism``);
- :data:`JOB_INSTALLERS`: what a scheduler process runs (each market's jobs as its
  mechanism asks, the ledger audit, the signed checkpoints, the daily roll of transfers, the
  settlement of closed ecological-compensation periods, the compliance deadlines, the demo's
  order flow when switched on);
- :data:`BACKGROUND_JOBS`: the kinds of long work the web pages queue for a job runner
  (``exchange.jobs``), and whether a job may run again after its runner died.
"""

from __future__ import annotations

from collections.abc import Mapping

from apscheduler.schedulers.base import BaseScheduler
from flask import Flask

from exchange import mechanisms, scheduler
from exchange.checkpointing import install_checkpoint_job
from exchange.compensation.jobs import install_compensation_job
from exchange.compliance.closing import install_compliance_job
from exchange.jobs.registry import JobKind, register_kinds
from exchange.mechanisms import MECHANISMS
from exchange.observability import metrics
from exchange.services.demo_continuous import install_continuous_demo_flow
from exchange.services.demo_trading import install_demo_order_flow
from exchange.services.transfer_jobs import install_transfer_roll_job
from exchange.services.verification import install_verify_job
from exchange.web import tasks

JOB_INSTALLERS: tuple[scheduler.JobInstaller, ...] = (
    scheduler.install_market_jobs,
    install_verify_job,
    install_checkpoint_job,
    install_transfer_roll_job,
    install_demo_order_flow,
    install_compensation_job,
    install_compliance_job,  # compliance: deadline snapshots and penalties
    install_continuous_demo_flow,
)

BACKGROUND_JOBS: Mapping[str, JobKind] = {
    kind.name: kind
    for kind in (
        JobKind("allocation_preview", tasks.allocation_preview, retry=True),  # reads only
        JobKind("allocation_import", tasks.allocation_import, retry=True),  # records its effect
        JobKind("verify", tasks.verify, retry=True),  # reads only
    )
}


def register(app: Flask) -> None:
    """Bind the background-job kinds and the (not yet started) scheduler to ``app``."""
    register_kinds(BACKGROUND_JOBS)
    app.extensions[metrics.DUE_WINDOW] = mechanisms.due_window
    scheduler.init_scheduler(app)


def start_scheduler(app: Flask) -> BaseScheduler:
    """Start this process's scheduler with every job of :data:`JOB_INSTALLERS`."""
    return scheduler.start_scheduler(app, JOB_INSTALLERS)


__all__ = ["BACKGROUND_JOBS", "JOB_INSTALLERS", "MECHANISMS", "register", "start_scheduler"]
