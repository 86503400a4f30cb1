"""Domain errors and their mapping to JSON HTTP responses (one place)."""

from __future__ import annotations

from typing import Any

from flask import Flask, Response, jsonify
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
}


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
        if err.details:
            body["details"] = err.details
        return jsonify(body), err.status

    @app.errorhandler(HTTPException)
    def _http_error(err: HTTPException) -> tuple[Response, int]:
        status = err.code or 500
        code = HTTP_CODES.get(status, "error")
        data = getattr(err, "data", None) or {}
        field_errors = data.get("messages") if isinstance(data, dict) else None
        message = _summarise(field_errors) if field_errors else (err.description or err.name)
        response = jsonify(error_body(status, code, message, field_errors))
        if status == 405 and err.get_response().headers.get("Allow"):
            response.headers["Allow"] = err.get_response().headers["Allow"]
        return response, status

    @app.errorhandler(Exception)
    def _unexpected(err: Exception) -> tuple[Response, int]:
        app.logger.exception("unhandled error", exc_info=err)
        return jsonify(error_body(500, "internal_error", "Internal error.")), 500
