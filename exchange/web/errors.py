"""Errors seen by a person as HTML pages in the page's language (the API keeps JSON).

Bad credentials (401: a malformed or unknown bearer token, refused before any view)
keep the JSON body of the rest of the app: only API clients send tokens. A browser
asking for an unknown address (``Accept: text/html``, not under ``/api/``) gets the
site's 404 page. A form sent with an expired CSRF token comes back with what was
typed and a message, when its view registered how to show it again
(``on_stale_form``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Blueprint, current_app, flash, g, jsonify, render_template, request, session
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError
from sqlalchemy import exc as sa_exc
from werkzeug.exceptions import HTTPException

from exchange.errors import (
    HTTP_CODES,
    RETRY_AFTER_SECONDS,
    ExchangeError,
    database_unavailable,
    error_body,
)

NOT_PAGES = ("/api/", "/openapi.json", "/metrics", "/healthz", "/static/")
STALE_FORM_VIEWS: dict[str, Callable[[], Any]] = {}
UNTYPED_FORMS: set[str] = set()  # forms of a button alone: nothing typed to check


def on_stale_form(
    endpoint: str, *, typed: bool = True
) -> Callable[[Callable[[], Any]], Callable[[], Any]]:
    """Register how ``endpoint``'s form is shown again, input kept, after a CSRF failure
    (the view returns None when the form is not the current user's to see). ``typed``:
    the form has input the person checks before sending it again."""

    def register(view: Callable[[], Any]) -> Callable[[], Any]:
        STALE_FORM_VIEWS[endpoint] = view
        if not typed:
            UNTYPED_FORMS.add(endpoint)
        return view

    return register


def wants_html() -> bool:
    """A browser asking for a page (not an API client, not a machine endpoint)."""
    if request.path.startswith(NOT_PAGES) or "Authorization" in request.headers:
        return False
    best = request.accept_mimetypes.best_match(["application/json", "text/html"])
    return best == "text/html" and request.accept_mimetypes["text/html"] > 0


def _status_message(status: int) -> str:
    messages = {
        400: _("The request was not understood."),
        403: _("You may not open this page."),
        404: _("This page does not exist. Check the address, or start from the markets."),
        405: _("This address does not take this kind of request."),
        409: _("This conflicts with the current state; reload the page and try again."),
        413: _(
            "The upload is too large: at most %(limit)s MB at once.",
            limit=_megabytes(current_app.config.get("MAX_CONTENT_LENGTH") or 0),
        ),
        422: _("The values sent cannot be used."),
        429: _("Too many attempts; wait a minute and try again."),
        500: _(
            "Something went wrong on the exchange's side. Reload the page to see whether it "
            "was done; if it happens again, tell the operator."
        ),
        503: _(
            "The exchange's database is briefly unavailable; nothing was changed. Try again "
            "in a few seconds."
        ),
        507: _(
            "The exchange's database has no space left; nothing was changed. Tell the operator."
        ),
    }
    return messages.get(status, _("Something went wrong (error %(status)s).", status=status))


def _megabytes(size: int) -> str:
    return f"{size / 1024 / 1024:.1f}".removesuffix(".0")


def html_error(err: HTTPException) -> Any:
    """The HTML answer to an HTTP error of a page (or of a browser's unknown address)."""
    status = err.code or 500
    g.error_code = HTTP_CODES.get(status, "error")
    if isinstance(err, CSRFError):
        stale = STALE_FORM_VIEWS.get(request.endpoint or "")
        message = _(
            "This form had expired (it was open too long, or you logged in again "
            "meanwhile). Nothing was done. Check your input below and send it again."
        )
        if request.endpoint in UNTYPED_FORMS:
            message = _(
                "This form had expired (it was open too long, or you logged in again "
                "meanwhile). Nothing was done. Send it again from this page."
            )
        if stale is not None and request.method == "POST":
            flash(message, "error")  # before rendering: the page shows it
            try:
                page = stale()  # None: not this user's form (anonymous, another role)
            except (HTTPException, ExchangeError):  # e.g. not this user's order: no page
                page = None
            if page is not None:
                return page, 400
            session.get("_flashes", []).pop()
        return _error_page(400, message)
    return _error_page(status, _status_message(status))


def html_error_for_browsers(err: HTTPException) -> Any:
    """The app's HTTP-error hook: a page for a browser (``wants_html``), else None (JSON)."""
    return html_error(err) if wants_html() else None


def html_errors(blueprint: Blueprint) -> None:
    """Errors raised for the pages of ``blueprint`` become HTML pages."""

    @blueprint.errorhandler(ExchangeError)
    def _domain(err: ExchangeError) -> Any:
        g.error_code = err.code  # as the app's handler does, for the metrics
        if err.status == 401:
            return jsonify(error_body(err.status, err.code, err.message)), err.status
        from exchange.web.messages import refusal

        return _error_page(err.status, refusal(err))

    @blueprint.errorhandler(HTTPException)
    def _http(err: HTTPException) -> Any:
        if err.code is None or err.code < 400:
            return err
        return html_error(err)

    @blueprint.errorhandler(sa_exc.DBAPIError)
    @blueprint.errorhandler(sa_exc.TimeoutError)
    def _database(err: Exception) -> Any:
        """The database away (503) or full (507), as the app says it, but as a page."""
        unavailable = database_unavailable(err)
        if unavailable is None:
            return _unexpected(err)
        status, g.error_code, _english = unavailable
        current_app.logger.warning("database unavailable: %s: %s", type(err).__name__, err)
        page, status = _error_page(status, _status_message(status))
        return page, status, {"Retry-After": str(RETRY_AFTER_SECONDS)}

    @blueprint.errorhandler(Exception)
    def _unexpected(err: Exception) -> Any:
        """A bug: logged as the app logs it, and the site's page (not JSON) for a person.
        (The database's own errors keep the app's handler: a more specific class.)"""
        current_app.logger.exception("unhandled error", exc_info=err)
        g.error_code = "internal_error"
        return _error_page(500, _status_message(500))


def _error_page(status: int, message: str) -> tuple[str, int]:
    return render_template("error.html", status=status, message=message), status
