""" "Queued, waiting for a runner": what a job's status page says when nobody takes it.

A job stays ``queued`` until a runner claims it; with no runner process (``exchange
serve`` alone) it would wait without a word. After ``JOB_WAIT_NOTICE_SECONDS``
(``EXCHANGE_JOB_WAIT_NOTICE_SECONDS``, default 5) the page says so, and names the
command to start when no runner has reported recently. The two sentences are in the
gettext catalogs (``exchange/translations``), in the language asked for.
"""

from __future__ import annotations

import os
from datetime import timedelta

from flask import Flask, current_app
from flask_babel import force_locale
from flask_babel import gettext as _

from exchange.models import BackgroundJob, JobStatus, utcnow

DEFAULT_NOTICE_SECONDS = 5.0
LANGUAGES = ("en", "zh")
COMMANDS = {"run": "exchange jobs run", "scheduler": "exchange scheduler"}


def _sentences(alive: bool) -> str:
    waiting = _("Queued, waiting for a job runner.")
    if alive:
        return waiting
    no_runner = _(
        "No job runner has reported recently: the operator must start %(run)s (or %(scheduler)s).",
        run="`" + COMMANDS["run"] + "`",
        scheduler="`" + COMMANDS["scheduler"] + "`",
    )
    return " ".join((waiting, no_runner))


def waiting_notice(job: BackgroundJob, lang: str = "en") -> str:
    """The notice for ``job`` in ``lang`` (``en``/``zh``), or "" while none is due."""
    if job.status is not JobStatus.QUEUED or job.created_at is None:
        return ""
    after = _notice_after()
    if utcnow() - job.created_at < timedelta(seconds=after):
        return ""
    lang = lang if lang in LANGUAGES else "en"
    from exchange.jobs import queue
    from exchange.jobs.runner import Settings

    session = current_app.extensions["exchange.db"]["read_sessions"]()
    try:
        alive = queue.runner_alive(session, Settings.of(current_app).stale)
    finally:
        session.close()
    with force_locale(lang):
        return _sentences(alive)


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
