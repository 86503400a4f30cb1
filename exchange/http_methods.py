"""HTTP methods the app serves; anything else is refused before any work.

A made-up method (``FOO /api/v1/orders``) would otherwise reach Flask, the
authentication, the action log and the metrics, each with its own label
value. :class:`RefuseUnknownMethods` answers such a request ``405 Method Not
Allowed`` (with ``Allow``) in the WSGI layer: no routing, no credentials, no database.
Metrics label every method outside :data:`KNOWN_METHODS` ``"other"`` so their
label sets stay bounded.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from typing import Any

KNOWN_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
OTHER = "other"
ALLOWED = ", ".join(sorted(KNOWN_METHODS))

StartResponse = Callable[..., Any]
WSGIApp = Callable[[dict[str, Any], StartResponse], Iterable[bytes]]


def method_label(method: str) -> str:
    """``method`` if the app knows it, else ``"other"`` (a bounded metrics label)."""
    return method if method in KNOWN_METHODS else OTHER


class RefuseUnknownMethods:
    """WSGI middleware: 405 for methods outside :data:`KNOWN_METHODS`, then ``on_refused()``."""

    def __init__(self, app: WSGIApp, on_refused: Callable[[], None] | None = None) -> None:
        self.app = app
        self.on_refused = on_refused

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        if environ.get("REQUEST_METHOD", "") in KNOWN_METHODS:
            return self.app(environ, start_response)
        if self.on_refused is not None:
            self.on_refused()
        body = json.dumps(
            {
                "code": 405,
                "status": "Method Not Allowed",
                "message": "unsupported HTTP method; use one of " + ALLOWED,
            }
        ).encode()
        start_response(
            "405 Method Not Allowed",
            [
                ("Content-Type", "application/json"),
                ("Content-Length", str(len(body))),
                ("Allow", ALLOWED),
            ],
        )
        return [body]
