"""Errors of the pages as HTML pages (the API keeps its JSON bodies)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, render_template
from werkzeug.exceptions import HTTPException

from exchange.errors import ExchangeError


def html_errors(blueprint: Blueprint) -> None:
    """Errors of the pages of ``blueprint`` as HTML pages (the API keeps its JSON)."""

    @blueprint.errorhandler(ExchangeError)
    def _domain(err: ExchangeError) -> tuple[str, int]:
        return _error_page(err.status, err.message)

    @blueprint.errorhandler(HTTPException)
    def _http(err: HTTPException) -> Any:
        if err.code is None or err.code < 400:
            return err
        return _error_page(err.code, err.description or err.name)


def _error_page(status: int, message: str) -> tuple[str, int]:
    return render_template("error.html", status=status, message=message), status
