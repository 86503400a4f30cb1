"""Errors of the pages as HTML pages (the API keeps its JSON bodies).

Bad credentials (401: a malformed or unknown bearer token, refused before any view)
keep the JSON body of the rest of the app: only API clients send tokens.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, g, jsonify, render_template
from werkzeug.exceptions import HTTPException

from exchange.errors import HTTP_CODES, ExchangeError, error_body


def html_errors(blueprint: Blueprint) -> None:
    """Errors raised for the pages of ``blueprint`` become HTML pages."""

    @blueprint.errorhandler(ExchangeError)
    def _domain(err: ExchangeError) -> Any:
        g.error_code = err.code  # as the app's handler does, for the metrics
        if err.status == 401:
            return jsonify(error_body(err.status, err.code, err.message)), err.status
        return _error_page(err.status, err.message)

    @blueprint.errorhandler(HTTPException)
    def _http(err: HTTPException) -> Any:
        if err.code is None or err.code < 400:
            return err
        g.error_code = HTTP_CODES.get(err.code, "error")
        return _error_page(err.code, err.description or err.name)


def _error_page(status: int, message: str) -> tuple[str, int]:
    return render_template("error.html", status=status, message=message), status
