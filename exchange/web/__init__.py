"""The web pages: public market data, the league desk, the regulator console, the audit.

Thin views over the services (``exchange.services``, ``ledger``): they parse a form,
call one service, and render a template from ``templates/``. One blueprint per area:

- ``pages`` (``public.py``): market overview, market pages (charts);
- ``desk`` (``desk.py``): a league's holdings, order entry and cancel, fills, statement;
- ``console`` (``console.py``): the regulator's allocations, deposits, clearing runs;
- ``audit`` (``audit.py``): ledger explorer, verification, exports (auditor, regulator);
- ``compensation`` (``compensation_pages.py``): ecological compensation reports (public)
  and the regulator's agreements, readings and settlements.
- ``transfer_pages`` (``transfers_pages.py``): public transfers, the desk's, the approval queue.

Labels in English and Chinese (``i18n``), charts as server-side SVG (``charts``),
long work in background jobs (``jobs``, ``tasks``).
"""

from __future__ import annotations

from flask import Flask


def register_web(app: Flask) -> None:
    """Bind i18n and filters, import the job kinds and register the page blueprints."""
    from exchange.jobs.notice import init_notice
    from exchange.web import (
        compensation_upload,  # noqa: F401  (routes on compensation_pages)
        stale_forms,  # noqa: F401  (registers its stale-form pages)
        statement,  # noqa: F401  (its routes are on the desk blueprint)
        transfer_propose,  # noqa: F401  (on the transfer_pages blueprint)
    )
    from exchange.web.audit import audit
    from exchange.web.bundle_pages import bundle_pages
    from exchange.web.compensation_pages import compensation
    from exchange.web.compliance_pages import compliance_pages
    from exchange.web.console import console
    from exchange.web.continuous_pages import continuous_pages
    from exchange.web.desk import desk
    from exchange.web.enterprises_pages import enterprises_pages
    from exchange.web.errors import html_error_for_browsers
    from exchange.web.formatting import init_formatting
    from exchange.web.i18n import init_i18n
    from exchange.web.job_messages import init_job_messages
    from exchange.web.messages import init_messages
    from exchange.web.names import init_names
    from exchange.web.paid_use_pages import paid_use_pages
    from exchange.web.public import pages
    from exchange.web.transfers_pages import init_transfer_notice, transfer_pages

    init_i18n(app)
    init_formatting(app)
    init_notice(app)
    init_names(app)
    init_messages(app)
    init_job_messages(app)
    init_transfer_notice(app)
    app.extensions["exchange.html_error"] = html_error_for_browsers
    for blueprint in (
        pages,
        desk,
        console,
        audit,
        compensation,
        transfer_pages,
        compliance_pages,
        paid_use_pages,
        continuous_pages,
        bundle_pages,
        enterprises_pages,
    ):
        app.register_blueprint(blueprint)
    _login_keeps_username()


def _login_keeps_username() -> None:
    """A login form sent with an expired CSRF token comes back with the username kept."""
    from flask import render_template

    from exchange.identity.pages import LoginForm
    from exchange.web.errors import on_stale_form

    @on_stale_form("auth.login")
    def _stale_login() -> str:
        return render_template("auth/login.html", form=LoginForm(), failed=False)
