"""``GET /healthz``: 200 when the database answers ``SELECT 1``, else 503 (JSON).

For load balancers and orchestrators: a worker whose database is unreachable
is taken out of rotation; it comes back by itself once the database answers
(the pool pings connections before use, so nothing needs restarting).
"""

from __future__ import annotations

import logging
import time

from flask import Flask, Response, current_app, jsonify
from sqlalchemy import text

from exchange.errors import RETRY_AFTER_SECONDS, error_body

log = logging.getLogger(__name__)


def healthz() -> tuple[Response, int]:
    """Check the database; 200 ``{"status": "ok", ...}`` or 503 in the error shape."""
    # A read: on SQLite it begins DEFERRED, so it neither waits for a writer nor
    # fails on a read-only file.
    engine = current_app.extensions["exchange.db"]["engine"].execution_options(
        sqlite_begin="DEFERRED"
    )
    started = time.perf_counter()
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    except Exception as exc:
        log.warning("health check: database unreachable: %s", exc)
        body = error_body(503, "service_unavailable", "The database does not answer.")
        body["status"] = "unavailable"
        response = jsonify(body)
        response.headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
        response.headers["Cache-Control"] = "no-store"
        return response, 503
    response = jsonify(
        {
            "status": "ok",
            "database": "ok",
            "database_ms": round((time.perf_counter() - started) * 1000, 2),
        }
    )
    response.headers["Cache-Control"] = "no-store"
    return response, 200


def init_health(app: Flask) -> None:
    """Register ``/healthz``."""
    app.add_url_rule("/healthz", "observability.healthz", healthz, methods=["GET"])
