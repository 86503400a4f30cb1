"""Identity and security: users, passwords, API tokens, sessions, CSRF, rate limits,
security headers and the action log.

``init_identity(app)`` binds it all to an app; the rules of who may do what are
in ``exchange.api.access``. Modules:

- ``passwords``, ``tokens``: hashing of passwords (werkzeug scrypt) and API tokens (SHA-256);
- ``service``: use cases on users and tokens (they own their transactions);
- ``authn``: who is behind a request (bearer token or Flask-Login session);
- ``security``: CSRF, rate limits, cookie settings and security headers;
- ``action_log``: the record of every state-changing request;
- ``pages``: the login and logout pages; ``demo``: demo users and their credentials file.
"""

from __future__ import annotations

from flask import Flask


def init_identity(app: Flask) -> None:
    """Bind login sessions, CSRF, rate limits, security headers and the action log."""
    from exchange.identity import action_log, authn, security

    security.init_security(app)  # rate limits first: they count even refused requests
    authn.init_authn(app)  # then who is calling (401 for bad credentials)
    security.init_csrf(app)  # then CSRF, which depends on how the caller authenticated
    action_log.init_action_log(app)
