"""Forms with nothing typed (clear now, cancel, upload, import, verification, logout) sent with an
expired CSRF token: the page the form is on comes back with the message (flashed by
``errors.html_error``), never a bare error page. Forms with typed input register their
own handler beside their view (``on_stale_form``)."""

from __future__ import annotations

from typing import Any

from flask import request

from exchange.api.access import Role
from exchange.web.access import page_actor
from exchange.web.errors import on_stale_form


def _args() -> dict[str, Any]:
    return dict(request.view_args or {})


@on_stale_form("console.clear", typed=False)
def _stale_clear() -> Any:
    from exchange.web.console import clear_confirm

    return clear_confirm(**_args()) if page_actor(Role.REGULATOR) else None


@on_stale_form("console.upload", typed=False)
def _stale_upload() -> Any:
    from exchange.web.console import index

    return index()[0] if page_actor(Role.REGULATOR) else None


@on_stale_form("console.confirm_upload", typed=False)
def _stale_confirm_upload() -> Any:
    from exchange.web.console import upload_job

    return upload_job(**_args()) if page_actor(Role.REGULATOR) else None


@on_stale_form("desk.cancel", typed=False)
def _stale_cancel() -> Any:
    from exchange.web.desk import cancel_confirm

    return cancel_confirm(**_args()) if page_actor(Role.LEAGUE) else None


@on_stale_form("audit.verify_start", typed=False)
def _stale_verify() -> Any:
    from exchange.web.audit import verify_page

    return verify_page() if page_actor(Role.AUDITOR, Role.REGULATOR) else None


@on_stale_form("auth.logout", typed=False)
def _stale_logout() -> Any:
    """An old page's logout button: the home page again, the header's button works."""
    from exchange.web.public import home

    return home()
