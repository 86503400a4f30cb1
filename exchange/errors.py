"""Domain errors and their mapping to JSON HTTP responses (one place)."""

from __future__ import annotations

import json
import math
from collections.abc import Iterable
from typing import Any

from flask import Flask, Response, g, jsonify, request
from sqlalchemy import exc as sa_exc
from werkzeug.exceptions import HTTPException


class ExchangeError(Exception):
    """A domain error with a stable code, an HTTP status and, optionally, the field at fault."""

    status = 400
    code = "bad_request"

    def __init__(
        self,
        message: str,
        *,
        field: str | None = None,
        code: str | None = None,
        status: int | None = None,
        details: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.field = field
        if code is not None:
            self.code = code
        if status is not None:
            self.status = status
        self.details = details or {}


class NotFound(ExchangeError):
    """The named thing does not exist (or is not visible to the caller)."""

    status = 404
    code = "not_found"


class Conflict(ExchangeError):
    """The request conflicts with the current state (duplicate code, ...)."""

    status = 409
    code = "conflict"


class InsufficientFunds(ExchangeError):
    """Not enough available rights or cash: 409 everywhere (orders, batches, retirements...).

    The request is well formed; the league's balance at this moment refuses it.
    ``details`` carries ``available`` and ``requested`` where one account is short.
    """

    status = 409
    code = "insufficient_funds"


def insufficient_funds(err: Any, message: str, *, field: str | None = None) -> InsufficientFunds:
    """The one mapping of the ledger's ``InsufficientFunds`` (``available``, ``requested``)."""
    return InsufficientFunds(
        message, field=field, details={"available": err.available, "requested": err.requested}
    )


class InvalidInput(ExchangeError):
    """Well-formed JSON whose values break a rule of the domain."""

    status = 422
    code = "validation_error"


class Forbidden(ExchangeError):
    """The caller may not do this."""

    status = 403
    code = "forbidden"


# Stable codes for the HTTP errors raised by Flask, werkzeug and webargs.
HTTP_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "payload_too_large",
    415: "unsupported_media_type",
    422: "validation_error",
    429: "too_many_requests",
    500: "internal_error",
    503: "service_unavailable",
    507: "insufficient_storage",
}

# Seconds a client should wait before retrying when the database is unavailable.
RETRY_AFTER_SECONDS = 5
# The deepest JSON body accepted (no request of the API nests more than a few levels).
MAX_JSON_DEPTH = 32
# The longest integer literal accepted in a JSON body (2**63 has 19 digits).
MAX_JSON_INT_DIGITS = 40
WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


class MalformedInput(ExchangeError):
    """A body, query or path the API refuses before any view sees it (400)."""

    status = 400
    code = "bad_request"


class UnsupportedMediaType(ExchangeError):
    """A request body that is not JSON, sent to the JSON API (415)."""

    status = 415
    code = "unsupported_media_type"


def database_unavailable(err: BaseException) -> tuple[int, str, str] | None:
    """``(status, code, message)`` when a database error means "try again later", else None.

    Lost connections, a server that is down or restarting, pool timeouts, locks held
    too long, a read-only database (503), and a full disk (507). Anything else is a
    bug and stays a 500.
    """
    if isinstance(err, sa_exc.TimeoutError):
        return 503, "service_unavailable", "The database is busy; try again shortly."
    if not isinstance(err, sa_exc.DBAPIError):
        return None
    orig = err.orig
    text = str(orig).lower()
    sqlstate = getattr(orig, "sqlstate", None) or ""
    if sqlstate == "53100" or "disk is full" in text or "disk full" in text:
        return 507, "insufficient_storage", "The database has no space left; nothing was changed."
    if sqlstate == "25006" or "readonly database" in text or "read-only" in text:
        return 503, "service_unavailable", "The database is read-only; nothing was changed."
    if (
        err.connection_invalidated
        or isinstance(err, sa_exc.OperationalError | sa_exc.InterfaceError)
        or sqlstate.startswith(("08", "57P"))
    ):
        return 503, "service_unavailable", "The database is unavailable; try again shortly."
    return None


def error_body(
    status: int, code: str, message: str, errors: dict[str, Any] | None = None
) -> dict[str, Any]:
    """The JSON body of every error: flask-smorest's shape plus a stable ``error`` code."""
    body: dict[str, Any] = {"code": status, "error": code, "message": message}
    if errors:
        body["errors"] = errors
    return body


def _summarise(errors: dict[str, Any]) -> str:
    """Turn webargs' nested field errors into one readable sentence."""
    parts: list[str] = []

    def walk(prefix: str, node: Any) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                walk(f"{prefix}.{key}" if prefix else str(key), value)
        elif isinstance(node, list) and all(isinstance(x, str) for x in node):
            text = " ".join(node)
            parts.append(f"{prefix}: {text}" if prefix else text)
        else:
            parts.append(f"{prefix}: {node}")

    for location_errors in errors.values():
        walk("", location_errors)
    return "; ".join(parts) if parts else "Invalid input."


def register_error_handlers(app: Flask) -> None:
    """Map domain errors and HTTP errors to JSON bodies."""

    @app.errorhandler(ExchangeError)
    def _domain_error(err: ExchangeError) -> tuple[Response, int]:
        errors = {"json": {err.field: [err.message]}} if err.field else None
        body = error_body(err.status, err.code, err.message, errors)
        g.error_code = err.code  # for the metrics of refused requests
        if err.details:
            body["details"] = err.details
        return jsonify(body), err.status

    @app.errorhandler(HTTPException)
    def _http_error(err: HTTPException) -> Any:
        status = err.code or 500
        # the pages (exchange.web) render an HTML page for a browser's unknown address or
        # stale form; API clients get JSON
        html_page = app.extensions.get("exchange.html_error")
        if html_page is not None and status >= 400 and status not in (401, 413):
            page = html_page(err)
            if page is not None:
                return page
        code = HTTP_CODES.get(status, "error")
        g.error_code = code
        data = getattr(err, "data", None) or {}
        field_errors = data.get("messages") if isinstance(data, dict) else None
        message = _summarise(field_errors) if field_errors else (err.description or err.name)
        if status == 413:
            limit = app.config.get("MAX_CONTENT_LENGTH")
            message = f"The request body is larger than the limit of {limit} bytes."
        response = jsonify(error_body(status, code, message, field_errors))
        if status == 405 and err.get_response().headers.get("Allow"):
            response.headers["Allow"] = err.get_response().headers["Allow"]
        return response, status

    @app.errorhandler(sa_exc.DBAPIError)
    @app.errorhandler(sa_exc.TimeoutError)
    def _database_error(err: Exception) -> tuple[Response, int]:
        unavailable = database_unavailable(err)
        if unavailable is None:
            return _unexpected(err)
        status, code, message = unavailable
        g.error_code = code
        app.logger.warning(
            "database unavailable: %s: %s", type(err).__name__, getattr(err, "orig", err)
        )
        response = jsonify(error_body(status, code, message))
        response.headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
        return response, status

    @app.errorhandler(Exception)
    def _unexpected(err: Exception) -> tuple[Response, int]:
        app.logger.exception("unhandled error", exc_info=err)
        return jsonify(error_body(500, "internal_error", "Internal error.")), 500

    app.before_request(reject_malformed_input)


def reject_malformed_input() -> None:
    """``before_request``: refuse input no view should have to defend against.

    - NUL characters anywhere in the path, query or form (PostgreSQL text cannot
      hold them; a driver error would be a 500);
    - to the JSON API, a body that is not JSON (415), or JSON that Python would
      accept but the API must not: ``NaN``/``Infinity``, non-finite or absurdly long
      numbers, duplicated keys, nesting deeper than ``MAX_JSON_DEPTH`` (400).

    Reading the body also applies ``MAX_CONTENT_LENGTH`` (413).
    """
    if "\x00" in request.path or _has_nul(request.args.items(multi=True)):
        raise MalformedInput("NUL characters are not allowed in the URL")
    if request.method not in WRITE_METHODS:
        return
    if not request.path.startswith("/api/"):
        if _has_nul(request.form.items(multi=True)):
            raise MalformedInput("NUL characters are not allowed in form fields")
        return
    body = request.get_data(cache=True)
    if not body:
        return
    if not request.is_json:
        raise UnsupportedMediaType(
            f"the API takes JSON bodies; send Content-Type: application/json "
            f"(got {request.mimetype or 'none'})"
        )
    strict_json_loads(body)


def _has_nul(pairs: Iterable[tuple[str, str]]) -> bool:
    return any("\x00" in key or "\x00" in value for key, value in pairs)


def _reject_constant(name: str) -> Any:
    raise MalformedInput(f"{name} is not a JSON number; send a finite number")


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise MalformedInput(f"{text[:40]} is out of range; send a finite number")
    return value


def _bounded_int(text: str) -> int:
    if len(text.lstrip("-")) > MAX_JSON_INT_DIGITS:
        raise MalformedInput(f"a number of {len(text)} digits is out of range")
    return int(text)


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise MalformedInput(f"key {key[:64]!r} appears twice in one object")
        result[key] = value
    return result


def strict_json_loads(body: bytes) -> Any:
    """Parse a JSON body as the API accepts it, or raise ``MalformedInput``."""
    try:
        data = json.loads(
            body.decode("utf-8"),
            parse_constant=_reject_constant,
            parse_float=_finite_float,
            parse_int=_bounded_int,
            object_pairs_hook=_unique_keys,
        )
    except MalformedInput:
        raise
    except RecursionError:
        raise MalformedInput(f"JSON nested deeper than {MAX_JSON_DEPTH} levels") from None
    except (UnicodeDecodeError, ValueError) as exc:
        raise MalformedInput(f"invalid JSON body: {exc}"[:300]) from None
    _check_depth_and_nul(data)
    return data


def _check_depth_and_nul(data: Any) -> None:
    stack: list[tuple[Any, int]] = [(data, 1)]
    while stack:
        node, depth = stack.pop()
        if isinstance(node, str):
            if "\x00" in node:
                raise MalformedInput("NUL characters are not allowed in JSON strings")
            continue
        if not isinstance(node, dict | list):
            continue
        if depth > MAX_JSON_DEPTH:
            raise MalformedInput(f"JSON nested deeper than {MAX_JSON_DEPTH} levels")
        items = list(node.items()) if isinstance(node, dict) else [(None, v) for v in node]
        for key, value in items:
            if isinstance(key, str) and "\x00" in key:
                raise MalformedInput("NUL characters are not allowed in JSON keys")
            stack.append((value, depth + 1))
