"""Readings from a CSV file on the regulator's compensation page: a checked preview first
(every row entered and rolled back), then the import of all rows at once (or none).

The preview carries the file's text (base64) in its confirm form; the import parses and checks it
again, so nothing the browser sends back is trusted."""

from __future__ import annotations

import base64
import binascii
from typing import Any

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from werkzeug.wrappers import Response as BaseResponse

from exchange.api.access import Actor, Role
from exchange.compensation import readings_csv
from exchange.errors import ExchangeError
from exchange.extensions import db
from exchange.uow import unit_of_work
from exchange.web.access import pages_for
from exchange.web.compensation_pages import class_name, compensation, explain
from exchange.web.forms import CsrfOnlyForm, UploadForm

MAX_UPLOAD_BYTES = 1024 * 1024


def problem_text(exc: ExchangeError) -> str:
    """Why a row (or the file) cannot be entered, in the page's language."""
    field = exc.field or ""
    if field == "file":
        return _("The file cannot be used: %(reason)s", reason=exc.message)
    if field == "agreement":
        return _("The agreement is a whole number (its id).")
    if field == "agreement_id":
        return _("No such agreement.")
    if field == "class":
        return _("The class is a whole number from 1 (I) to 6 (worse than V).")
    if field.startswith("indicators."):
        name = field.split(".", 1)[1]
        return _("%(name)s: mg/L with at most three decimals, as this agreement measures it.",
                 name=name)  # fmt: skip
    return explain(exc)


def _preview(text: str, rows: list[readings_csv.Row], status: int = 200) -> tuple[str, int]:
    good = all(r.problem is None for r in rows)
    return render_template(
        "compensation/upload.html",
        rows=rows,
        good=good,
        encoded=base64.b64encode(text.encode("utf-8")).decode("ascii"),
        problem_text=problem_text,
        class_name=class_name,
        confirm_form=CsrfOnlyForm(formdata=None),
    ), status


def _read_upload() -> str | None:
    form = UploadForm(prefix="upload")
    if not form.validate():
        return None
    data = form.file.data.read(MAX_UPLOAD_BYTES + 1)
    if len(data) > MAX_UPLOAD_BYTES:
        flash(_("The file is larger than 1 MB."), "error")
        return None
    try:
        return str(data.decode("utf-8-sig"))
    except UnicodeDecodeError:
        flash(_("The file is not UTF-8 text."), "error")
        return None


def _parsed(text: str) -> list[readings_csv.Row] | None:
    try:
        return readings_csv.parse(text)
    except ExchangeError as exc:
        flash(problem_text(exc), "error")
        return None


@compensation.post("/regulator/compensation/readings/upload")
@pages_for(Role.REGULATOR)
def upload_readings(actor: Actor) -> Any:
    """Check a CSV of readings: every row as it would be entered, nothing kept."""
    text = _read_upload()
    rows = _parsed(text) if text is not None else None
    if text is None or rows is None:
        return redirect(url_for("compensation_pages.console") + "#h-upload")
    with unit_of_work(db.session) as session:
        readings_csv.check(session, rows, actor.username)
    return _preview(text, rows, 200 if all(r.problem is None for r in rows) else 422)


@compensation.post("/regulator/compensation/readings/import")
@pages_for(Role.REGULATOR)
def import_readings(actor: Actor) -> BaseResponse | tuple[str, int]:
    """Enter every row of a previewed CSV at once; one refused row refuses them all."""
    form = CsrfOnlyForm()
    encoded = request.form.get("csv", "")
    if not form.validate() or len(encoded) > 2 * MAX_UPLOAD_BYTES:
        return redirect(url_for("compensation_pages.console"))
    try:
        text = base64.b64decode(encoded, validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        flash(_("The file is not UTF-8 text."), "error")
        return redirect(url_for("compensation_pages.console") + "#h-upload")
    rows = _parsed(text)
    if rows is None:
        return redirect(url_for("compensation_pages.console") + "#h-upload")
    try:
        with unit_of_work(db.session) as session:
            count = readings_csv.import_rows(session, rows, actor.username)
    except ExchangeError:
        with unit_of_work(db.session) as session:
            readings_csv.check(session, rows, actor.username)
        return _preview(text, rows, 422)
    flash(_("%(count)s readings recorded.", count=count))
    return redirect(url_for("compensation_pages.console"))
