"""Structured logs: one JSON object per line, each with the request id.

Every request gets an id: the client's ``X-Request-ID`` if it is well formed
(1-128 characters of ``A-Za-z0-9._:-``), else a new random one. It is echoed in
the response's ``X-Request-ID`` header and carried by every log line written
while the request runs, so one id finds everything a request did. Lines written
outside a request (scheduler jobs, commands) have ``"request_id": null``.

Format (``EXCHANGE_LOG_FORMAT``): ``json`` (default) or ``text``; level
``EXCHANGE_LOG_LEVEL`` (default ``INFO``). With ``EXCHANGE_REQUEST_LOG=1``
(default) each request also writes one ``request`` line (method, path, status,
duration, user), which replaces gunicorn's access log (``--no-access-log``).
"""

from __future__ import annotations

import json
import logging
import os
import random
import re
import sys
import time
from datetime import UTC, datetime
from typing import Any

from flask import Flask, g, has_request_context, request
from flask.wrappers import Response

REQUEST_ID_HEADER = "X-Request-ID"
REQUEST_ID_PATTERN = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")
REQUEST_LOGGER = "exchange.request"

# Attributes every LogRecord has; anything else passed as ``extra=`` is a field.
_STANDARD = set(vars(logging.makeLogRecord({}))) | {"message", "asctime", "request_id"}


def current_request_id() -> str | None:
    """The id of the request being handled, or None outside a request."""
    if has_request_context():
        rid: str | None = g.get("request_id")
        return rid
    return None


def accept_request_id(value: str | None) -> str:
    """The client's request id if it is well formed, else a fresh one: 128 random bits in
    32 hex digits."""
    if value and REQUEST_ID_PATTERN.fullmatch(value):
        return value
    # An id to find log lines by, not a secret: the process's generator, which Python
    # reseeds in every forked worker, rather than uuid4's os.urandom. That system call
    # releases the GIL, and a busy worker's other threads took it: 1.3% of a worker's
    # samples under bench/load went to taking it back (bench/trading/README.md, tenth pass).
    return f"{random.getrandbits(128):032x}"


class RequestIdFilter(logging.Filter):
    """Adds ``request_id`` to every record (None outside a request)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "request_id"):
            record.request_id = current_request_id()
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, request id, extras."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
            "request_id": getattr(record, "request_id", None),
            "pid": record.process,
        }
        for key, value in vars(record).items():
            if key not in _STANDARD and not key.startswith("_"):
                entry[key] = value
        if record.exc_info:
            entry["exc"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False, default=str)


TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"
_HANDLER_MARK = "_exchange_handler"


def configure_logging() -> None:
    """Install the handler on the root logger once per process (idempotent)."""
    root = logging.getLogger()
    if any(getattr(h, _HANDLER_MARK, False) for h in root.handlers):
        return
    handler = logging.StreamHandler(sys.stderr)
    setattr(handler, _HANDLER_MARK, True)
    handler.addFilter(RequestIdFilter())
    if os.environ.get("EXCHANGE_LOG_FORMAT", "json").strip().lower() == "text":
        handler.setFormatter(logging.Formatter(TEXT_FORMAT))
    else:
        handler.setFormatter(JsonFormatter())
    root.addHandler(handler)
    level = os.environ.get("EXCHANGE_LOG_LEVEL", "INFO").strip().upper()
    root.setLevel(logging.getLevelName(level) if level in logging._nameToLevel else logging.INFO)
    # Flask's own handler on the app logger would print every line twice.
    logging.getLogger("exchange").propagate = True


def _start_request() -> None:
    g.request_id = accept_request_id(request.headers.get(REQUEST_ID_HEADER))
    g.request_started = time.perf_counter()


def _finish_request(response: Response) -> Response:
    rid = g.get("request_id")
    if rid:
        response.headers[REQUEST_ID_HEADER] = rid
    started = g.get("request_started")
    logger = logging.getLogger(REQUEST_LOGGER)
    if started is not None and logger.isEnabledFor(logging.INFO) and _request_log_enabled():
        actor = g.get("actor")
        logger.info(
            "%s %s %s",
            request.method,
            request.path,
            response.status_code,
            extra={
                "method": request.method,
                "path": request.path[:500],
                "endpoint": request.endpoint,
                "status": response.status_code,
                "duration_ms": round((time.perf_counter() - started) * 1000, 2),
                "user": getattr(actor, "username", None),
                "remote_addr": request.remote_addr,
            },
        )
    return response


def _request_log_enabled() -> bool:
    return os.environ.get("EXCHANGE_REQUEST_LOG", "1").strip().lower() in {"1", "true", "yes", "on"}


def init_logging(app: Flask) -> None:
    """JSON logs on stderr and a request id for every request of ``app``."""
    configure_logging()
    # Drop Flask's default handler (it would print unstructured duplicates).
    from flask.logging import default_handler

    app.logger.removeHandler(default_handler)
    # First of all before_request hooks, so that every later line carries the id.
    app.before_request_funcs.setdefault(None, []).insert(0, _start_request)
    app.after_request(_finish_request)
