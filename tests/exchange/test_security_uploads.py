"""Issue 11, item 4: a checked CSV upload is imported at most once."""

from __future__ import annotations

import io
import re

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

import ledger.models
from exchange.extensions import db
from exchange.models import BackgroundJob, JobStatus
from exchange.uow import new_unit_of_work
from exchange.web import jobs
from tests.exchange.page_helpers import csrf_token, login
from tests.exchange.test_pages_flows import world  # noqa: F401  (fixture)


def journal_count(app: Flask) -> int:
    with app.app_context(), new_unit_of_work(db.session_factory) as session:
        return int(session.scalar(select(func.count()).select_from(ledger.models.Journal)))


def upload(client: FlaskClient) -> str:
    body = b"league,market,quantity,reference\nordos,COD-2027,1,once\n"
    response = client.post(
        "/regulator/allocations/upload",
        data={
            "upload-csrf_token": csrf_token(client, "/regulator"),
            "upload-file": (io.BytesIO(body), "alloc.csv"),
        },
        content_type="multipart/form-data",
    )
    assert response.status_code == 302
    return str(response.headers["Location"])


def test_a_second_confirm_is_refused_and_changes_nothing(
    world: Flask,  # noqa: F811
    client: FlaskClient,
) -> None:
    login(client, "rita")
    location = upload(client)
    token = csrf_token(client, location)
    first = client.post(f"{location}/confirm", data={"csrf_token": token})
    assert first.status_code == 302
    assert "1 allocations written" in client.get(first.headers["Location"]).get_data(as_text=True)
    before = journal_count(world)
    second = client.post(f"{location}/confirm", data={"csrf_token": token})
    assert second.status_code == 409
    assert "already imported" in second.get_data(as_text=True)
    assert journal_count(world) == before


def test_two_imports_of_one_preview_allocate_once(
    world: Flask,  # noqa: F811
    client: FlaskClient,
) -> None:
    """Even started together (past the page's check), the second import finds it consumed."""
    login(client, "rita")
    match = re.search(r"/regulator/uploads/(\d+)", upload(client))
    assert match
    preview = int(match.group(1))
    before = journal_count(world)
    with world.test_request_context():
        first = jobs.start(db.session, "allocation_import", actor="rita",
                           params={"preview_job": preview})  # fmt: skip
        second = jobs.start(db.session, "allocation_import", actor="rita",
                            params={"preview_job": preview})  # fmt: skip
        statuses = {
            j.id: (j.status, j.message)
            for j in db.session.scalars(
                select(BackgroundJob).where(BackgroundJob.id.in_([first, second]))
            )
        }
    assert statuses[first][0] is JobStatus.SUCCEEDED
    assert statuses[second][0] is JobStatus.FAILED
    assert "already imported" in (statuses[second][1] or "")
    assert journal_count(world) == before + 1
