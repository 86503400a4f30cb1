"""``exchange jobs run``: a background-job runner alone (imports, verifications)."""

from __future__ import annotations

import signal
import time

import click
from flask import Flask


@click.group("jobs")
def jobs_group() -> None:
    """Background jobs started from the web pages (CSV imports, ledger verification)."""


@jobs_group.command("run")
@click.option("--threads", type=click.IntRange(1, 32), help="Jobs at once (default 2).")
@click.option("--once", is_flag=True, help="Do the queued jobs, then exit.")
@click.option(
    "--grace",
    default=30.0,
    show_default=True,
    type=click.FloatRange(0),
    help="On SIGTERM, seconds to let the jobs in hand finish.",
)
def run_command(threads: int | None, once: bool, grace: float) -> None:
    """Run queued background jobs until stopped (SIGTERM or Ctrl-C).

    ``exchange scheduler`` runs one too; start this beside ``exchange serve``
    when no scheduler runs, or for more capacity: any number may run.
    """
    from exchange import create_app
    from exchange.jobs.runner import JobRunner, Settings

    app = create_app({"JOB_RUNNER_THREADS": threads} if threads else None)
    try:
        if once:
            runner = JobRunner(app, Settings.of(app))
            runner.start(workers=False)
            done = 0
            while runner.run_one():
                done += 1
            runner.stop(0)
            click.echo(f"{done} job(s) done")
        else:
            _run_until_stopped(app, grace)
    finally:
        app.extensions["exchange.db"]["engine"].dispose()


def _run_until_stopped(app: Flask, grace: float) -> None:
    from exchange.jobs.runner import start_job_runner, stop_job_runner

    runner = start_job_runner(app)
    stopping = False

    def _stop(_signum: int, _frame: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    click.echo(f"job runner {runner.me} running; Ctrl-C to stop", err=True)
    while not stopping:
        time.sleep(0.5)
    stop_job_runner(app, grace)


def register(group: click.Group) -> None:
    """Add ``exchange jobs`` to the console script."""
    group.add_command(jobs_group)
