"""CSRF, rate limits, cookie settings and security headers.

CSRF and the API (the choice): every state-changing request that a browser
could send on its own is CSRF-checked (Flask-WTF ``CSRFProtect``, token in the
form field ``csrf_token`` or the ``X-CSRFToken`` header):

- web pages (``/login``, ``/logout``, every future form): always;
- the API (``/api/...``): when the caller is authenticated by the session
  cookie. A request with ``Authorization: Bearer <token>`` is exempt (browsers
  never attach that header by themselves, so a forged cross-site request
  cannot carry it), and an anonymous API request is answered 401 by the view.

So a browser session cookie alone is never enough to change state through
the API.

Rate limits (Flask-Limiter, keyed by client address): ``RATELIMIT_LOGIN`` on
login attempts, ``RATELIMIT_TOKENS`` on token creation. The counters live in
``RATELIMIT_STORAGE_URI``: ``memory://`` (per process) by default; in
production with several workers or hosts point it at a shared store, e.g.
``redis://host:6379/0``. Behind a reverse proxy, wrap the app in werkzeug's
``ProxyFix`` so that ``remote_addr`` is the client's address.
"""

from __future__ import annotations

from flask import Flask, request
from flask.wrappers import Response
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import current_user
from flask_wtf.csrf import CSRFProtect
from limits import parse_many

from exchange.http_methods import RefuseUnknownMethods
from exchange.identity.actor import READ_METHODS
from exchange.observability import metrics

csrf = CSRFProtect()
limiter = Limiter(key_func=get_remote_address)

DEFAULTS: dict[str, object] = {
    # Session cookie settings (HttpOnly, SameSite=Lax, Secure) are in ``exchange.config``.
    "REMEMBER_COOKIE_HTTPONLY": True,
    "REMEMBER_COOKIE_SAMESITE": "Lax",
    # CSRF is checked by ``_csrf_guard`` below, not by Flask-WTF's default hook.
    "WTF_CSRF_CHECK_DEFAULT": False,
    "WTF_CSRF_TIME_LIMIT": 8 * 3600,
    "RATELIMIT_STORAGE_URI": "memory://",
    # Explicit: Flask-Limiter's one limiter object otherwise keeps the last app's setting.
    "RATELIMIT_ENABLED": True,
    "RATELIMIT_LOGIN": "10 per minute;100 per day",
    "RATELIMIT_TOKENS": "30 per minute",
    "RATELIMIT_HEADERS_ENABLED": True,
    # Anonymous refused writes (401, 403, ...) go to the action log within these
    # budgets (per client address; all addresses together), the rest only to the
    # request log and the ``exchange_action_log_dropped_total`` counter.
    "ACTION_LOG_ANONYMOUS_PER_ADDRESS": "30 per minute",
    "ACTION_LOG_ANONYMOUS_TOTAL": "600 per minute",
    "HSTS_MAX_AGE": 31_536_000,
}

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'self'; "
    "form-action 'self'; frame-ancestors 'none'"
)
# Swagger UI starts from an inline script and styles: allowed inline, still no other origin.
CSP_API_DOCS = (
    "default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; font-src 'self'; connect-src 'self'; object-src 'none'; "
    "base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
)


def login_limit() -> str:
    """The rate limit of login attempts (configurable)."""
    from flask import current_app

    return str(current_app.config["RATELIMIT_LOGIN"])


def token_limit() -> str:
    """The rate limit of token creation (configurable)."""
    from flask import current_app

    return str(current_app.config["RATELIMIT_TOKENS"])


def anonymous_log_allowed(address: str | None) -> bool:
    """Whether one more anonymous refused request may be written to the action log."""
    from flask import current_app

    if not current_app.config.get("RATELIMIT_ENABLED", True):
        return True
    strategy = limiter.limiter
    per_address = current_app.config["ACTION_LOG_ANONYMOUS_PER_ADDRESS"]
    total = current_app.config["ACTION_LOG_ANONYMOUS_TOTAL"]
    checks = [(item, (address or "?",)) for item in parse_many(per_address)]
    checks += [(item, ("all",)) for item in parse_many(total)]
    if not all(strategy.test(item, "action-log-anon", *key) for item, key in checks):
        return False
    for item, key in checks:
        strategy.hit(item, "action-log-anon", *key)
    return True


def is_api_request() -> bool:
    """True for requests to the JSON API."""
    return request.path.startswith("/api/")


def _csrf_guard() -> None:
    """``before_request``: the CSRF rule described in the module docstring."""
    if request.method in READ_METHODS:
        return
    bearer_or_anonymous = "Authorization" in request.headers or not current_user.is_authenticated
    if is_api_request() and bearer_or_anonymous:
        return
    csrf.protect()


def _security_headers(response: Response) -> Response:
    """``after_request``: the security headers a view did not set itself."""
    headers = response.headers
    docs = request.endpoint == "api-docs.openapi_swagger_ui"
    wanted = [
        ("Content-Security-Policy", CSP_API_DOCS if docs else CSP),
        ("X-Content-Type-Options", "nosniff"),
        ("X-Frame-Options", "DENY"),
        ("Referrer-Policy", "same-origin"),
        ("Cross-Origin-Opener-Policy", "same-origin"),
    ]
    if request.is_secure:
        from flask import current_app

        max_age = int(current_app.config["HSTS_MAX_AGE"])
        wanted.append(("Strict-Transport-Security", f"max-age={max_age}; includeSubDomains"))
    if response.status_code == 401 and is_api_request():
        wanted.append(("WWW-Authenticate", 'Bearer realm="exchange"'))
    if "Authorization" in request.headers or "Cookie" in request.headers:
        # Responses to identified callers are private: no shared cache may keep them.
        wanted.append(("Cache-Control", "no-store"))
    present = {key.lower() for key, _value in headers.items()}  # one pass, not one a header
    headers.extend([(key, value) for key, value in wanted if key.lower() not in present])
    return response


def init_security(app: Flask) -> None:
    """Cookie settings, rate limiter and security headers (CSRF: see ``init_csrf``)."""
    for key, value in DEFAULTS.items():
        app.config.setdefault(key, value)
    app.config.setdefault("REMEMBER_COOKIE_SECURE", app.config["SESSION_COOKIE_SECURE"])
    limiter.init_app(app)
    if not any(app.config.get(f"RATELIMIT_{kind}") for kind in ("DEFAULT", "APPLICATION", "META")):
        # Every limit here is a decorator's (login, token creation), which checks its own
        # route; the limiter's check of every request would find nothing to count.
        hooks = app.before_request_funcs.get(None, [])
        if limiter._check_request_limit in hooks:  # not there when limits are disabled
            hooks.remove(limiter._check_request_limit)
    app.after_request(_security_headers)
    # Made-up methods are refused before routing, authentication or the database.
    app.wsgi_app = RefuseUnknownMethods(  # type: ignore[method-assign]
        app.wsgi_app, on_refused=metrics.unknown_method_refused
    )


def init_csrf(app: Flask) -> None:
    """CSRF protection; registered after authentication, which it relies on."""
    csrf.init_app(app)
    app.before_request(_csrf_guard)
