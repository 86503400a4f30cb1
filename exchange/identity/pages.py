"""Login and logout pages (Flask-Login sessions, Flask-WTF forms with CSRF tokens)."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, g, redirect, render_template, request, session, url_for
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_user, logout_user
from flask_wtf import FlaskForm
from werkzeug.wrappers import Response
from wtforms import PasswordField, StringField
from wtforms.validators import DataRequired, Length

from exchange.extensions import db
from exchange.identity import service, sessions
from exchange.identity.authn import SessionUser, actor_of
from exchange.identity.passwords import MAX_PASSWORD_LENGTH
from exchange.identity.security import limiter, login_limit
from exchange.models import Role
from exchange.uow import unit_of_work

auth_pages = Blueprint("auth", __name__)


class LoginForm(FlaskForm):  # type: ignore[misc]
    username = StringField(_l("Username"), validators=[DataRequired(), Length(1, 64)])
    password = PasswordField(
        _l("Password"), validators=[DataRequired(), Length(1, MAX_PASSWORD_LENGTH)]
    )


class LogoutForm(FlaskForm):  # type: ignore[misc]
    """Only the CSRF token: logging out is a POST so that no link can do it."""


def _safe_next(target: str | None) -> str:
    """A local path to go to after login; anything else goes home.

    Control characters and whitespace (a CR/LF would split the Location header,
    a 500 before) are never part of a local path we send people to.
    """
    if target and any(ch.isspace() or ord(ch) < 32 or ord(ch) == 127 for ch in target):
        return url_for("pages.home")
    if target:
        parts = urlsplit(target)
        if not parts.scheme and not parts.netloc and target.startswith("/") and "\\" not in target:
            return target if not target.startswith("//") else url_for("pages.home")
    return url_for("pages.home")


def landing_page(role: Role) -> str:
    """Where a role starts after logging in: its own page."""
    endpoints = {
        Role.LEAGUE: "desk.index",
        Role.REGULATOR: "console.index",
        Role.AUDITOR: "audit.journals",
    }
    return url_for(endpoints.get(role, "pages.home"))


@auth_pages.route("/login", methods=["GET", "POST"])
@limiter.limit(login_limit, methods=["POST"])
def login() -> Response | tuple[str, int] | str:
    """The login form; a good username and password start a browser session."""
    form = LoginForm()
    if form.validate_on_submit():
        user = service.authenticate_password(db.session, form.username.data, form.password.data)
        if user is not None:
            session.clear()  # a new session on login: nothing carried over from before
            login_user(SessionUser.of(user))
            g.actor = actor_of(user, auth="session")
            target = request.args.get("next")
            return redirect(_safe_next(target) if target else landing_page(user.role))
        return render_template("auth/login.html", form=form, failed=True), 401
    status = 400 if request.method == "POST" else 200
    return render_template("auth/login.html", form=form, failed=False), status


@auth_pages.post("/logout")
def logout() -> Response:
    """End the browser session, and every other of that user (a POST with the CSRF token)."""
    user = current_user
    if user is not None and user.is_authenticated:
        with unit_of_work(db.session) as work:
            sessions.end_sessions(work, int(user.id))
    logout_user()
    session.clear()
    return redirect(url_for("pages.home"))


@auth_pages.app_context_processor
def _logout_form() -> dict[str, object]:
    return {"logout_form": LogoutForm}
