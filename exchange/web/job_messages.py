"""What a background job's stored message says, in the page's language.

The job runner (``exchange.jobs``) stores one English line per job: a refusal of the
job's work (stored as ``[code] text`` by ``exchange.web.tasks.coded``), how a
runner that stopped was handled (``exchange.jobs.queue``), or a technical error.
The pages word the known ones by their code or their fixed wording; anything else is
shown as "the job failed" with the English line marked as a technical detail.
"""

from __future__ import annotations

import re
from typing import Any

from flask import Flask
from flask_babel import gettext as _
from markupsafe import Markup

from exchange.errors import ExchangeError
from exchange.models import JobStatus
from exchange.web.messages import refusal, technical

CODED = re.compile(r"^\[(?P<code>[a-z_]+)\] (?P<text>.*)$", re.S)
IMPORT_ID = re.compile(r"\(import (\d+)\)")
RUNNER_GONE = re.compile(
    r"^its runner(?:'s process)? .*?(?:was an earlier process with this process id|is gone|"
    r"has not reported for (?P<silence>\S+)(?: s)?)(?P<rest>;.*)?$",
    re.S,
)
TRIES = re.compile(r"not run again after (\d+) tries")


def _coded(code: str, text: str) -> str:
    details: dict[str, Any] = {}
    if code == "already_imported":
        found = IMPORT_ID.search(text)
        details["import_id"] = int(found.group(1)) if found else "?"
    if code == "cap_exceeded":  # the figures are not kept with the job: say what to do
        return _(
            "This would exceed a market's cap (rights were issued since the check); nothing "
            "was allocated. Upload the file again to check it anew."
        )
    return refusal(ExchangeError(text, code=code, details=details))


def _runner_gone(match: re.Match[str]) -> str:
    rest = match.group("rest") or ""
    said = _("The process running this job stopped.")
    tries = TRIES.search(rest)
    if "queued again" in rest:
        then = _("The job was queued again for another runner.")
    elif "not run twice" in rest:
        then = _("This kind of job is not run twice: start it again if needed.")
    elif tries:
        then = _("Not run again after %(n)s tries.", n=tries.group(1))
    else:
        return said
    return " ".join((said, then))


def job_message(job: Any) -> str:
    """The message of ``job`` for a person, or "" when it has none."""
    text = (getattr(job, "message", None) or "").strip()
    if not text:
        return ""
    coded = CODED.match(text)
    if coded:
        return _coded(coded.group("code"), coded.group("text"))
    if text.startswith("this checked upload was already imported"):
        return _coded("already_imported", text)
    if text == "the checked upload is gone":
        return _coded("upload_gone", text)
    if text.startswith("done by an earlier runner"):
        return _("Done by an earlier runner, which stopped before recording it.")
    if text.startswith("abandoned: no progress"):
        return _("Given up: no progress for too long (its process ended?). Start it again.")
    gone = RUNNER_GONE.match(text)
    if gone:
        return _runner_gone(gone)
    if getattr(job, "status", None) is JobStatus.FAILED:
        return technical(_("The job failed."), text)
    return Markup('<span lang="en" translate="no">{}</span>').format(text)


def init_job_messages(app: Flask) -> None:
    """``job_message(job)`` in every template."""
    app.add_template_global(job_message, "job_message")
