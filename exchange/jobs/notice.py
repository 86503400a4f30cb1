""" "Queued, waiting for a runner": what a job's status page says when nobody takes it.

A job stays ``queued`` until a runner claims it; with no runner process (``exchange
serve`` alone) it would wait without a word. After ``JOB_WAIT_NOTICE_SECONDS``
(``EXCHANGE_JOB_WAIT_NOTICE_SECONDS``, default 5) the page says so, and names the
command to start when no runner has reported recently. The two sentences are kept
here until they move into the translation catalogs.
"""

from __future__ import annotations

import os
from datetime import timedelta

from flask import Flask, current_app

from exchange.models import BackgroundJob, JobStatus, utcnow

DEFAULT_NOTICE_SECONDS = 5.0
WAITING = {
    "en": "Queued, waiting for a job runner.",
    "zh": "排队中，等待任务执行进程。",
}
NO_RUNNER = {
    "en": (
        "No job runner has reported recently: the operator must start"
        " `exchange jobs run` (or `exchange scheduler`)."
    ),
    "zh": (
        "最近没有任务执行进程报到：请运维人员启动 `exchange jobs run`（或 `exchange scheduler`）。"
    ),
}


def waiting_notice(job: BackgroundJob, lang: str = "en") -> str:
    """The notice for ``job`` in ``lang`` (``en``/``zh``), or "" while none is due."""
    if job.status is not JobStatus.QUEUED or job.created_at is None:
        return ""
    after = _notice_after()
    if utcnow() - job.created_at < timedelta(seconds=after):
        return ""
    lang = lang if lang in WAITING else "en"
    from exchange.jobs import queue
    from exchange.jobs.runner import Settings

    session = current_app.extensions["exchange.db"]["read_sessions"]()
    try:
        alive = queue.runner_alive(session, Settings.of(current_app).stale)
    finally:
        session.close()
    return WAITING[lang] if alive else f"{WAITING[lang]} {NO_RUNNER[lang]}"


def _notice_after() -> float:
    raw = current_app.config.get(
        "JOB_WAIT_NOTICE_SECONDS", os.environ.get("EXCHANGE_JOB_WAIT_NOTICE_SECONDS")
    )
    try:
        return float(raw) if raw is not None else DEFAULT_NOTICE_SECONDS
    except ValueError:
        return DEFAULT_NOTICE_SECONDS


def init_notice(app: Flask) -> None:
    """``job_waiting(job, lang)`` in the templates."""
    app.add_template_global(waiting_notice, "job_waiting")
