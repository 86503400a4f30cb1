"""Who may call state-changing endpoints (until identity and roles exist)."""

from __future__ import annotations

from flask import current_app, request

from exchange.errors import Forbidden


def require_writes_enabled() -> None:
    """Refuse state changes unless ``EXCHANGE_OPEN_WRITES`` is on (it is off by default)."""
    if not current_app.config.get("OPEN_WRITES"):
        raise Forbidden(
            "state-changing endpoints are disabled; set EXCHANGE_OPEN_WRITES=1 "
            "(development only) to enable them",
            code="writes_disabled",
        )


def guard_writes() -> None:
    """``before_request`` hook: state-changing methods need writes enabled."""
    if request.method not in {"GET", "HEAD", "OPTIONS"}:
        require_writes_enabled()
