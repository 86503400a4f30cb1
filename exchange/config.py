"""Configuration read from the environment (twelve-factor style)."""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from typing import Any

TRUE_WORDS = {"1", "true", "yes", "on"}
DEFAULT_MAX_BODY_BYTES = 1024 * 1024


def env_flag(name: str, default: bool = False) -> bool:
    """Read a boolean flag such as ``EXCHANGE_SECURE_COOKIES=1`` from the environment."""
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in TRUE_WORDS


def default_database_url(instance_path: str) -> str:
    """The embedded default: a SQLite file under the instance folder."""
    return "sqlite:///" + str(Path(instance_path) / "exchange.sqlite3")


def load_config(instance_path: str) -> dict[str, Any]:
    """Build the configuration mapping from environment variables.

    ``DATABASE_URL``      SQLAlchemy URL; default ``sqlite:///<instance>/exchange.sqlite3``.
                          ``postgresql://`` URLs are rewritten to the psycopg 3 driver.
    ``SECRET_KEY``        session signing key; a random one per process if unset (dev only).
    ``EXCHANGE_SECURE_COOKIES`` ``1`` marks the session cookie ``Secure`` (HTTPS only);
                          set it in production. It is always ``HttpOnly`` and ``SameSite=Lax``.
    ``RATELIMIT_STORAGE_URI`` where rate-limit counters live; default ``memory://`` (one
                          process); e.g. ``redis://host:6379/0`` for several workers.
    ``EXCHANGE_DEMO_CREDENTIALS`` where ``exchange demo`` writes the demo logins and tokens;
                          default ``<instance>/demo-credentials.json``.
    ``EXCHANGE_MAX_BODY_BYTES`` the largest request body accepted (``MAX_CONTENT_LENGTH``);
                          default 1 MiB; a larger one is refused with 413.
    ``EXCHANGE_SIGNING_KEY`` the Ed25519 key that signs ledger checkpoints: PEM text or the
                          path of a PEM file; default ``<instance>/signing-key.pem``
                          (created by ``exchange init-db``). Never stored in the database.
    ``EXCHANGE_CHECKPOINT_INTERVAL_SECONDS`` how often the scheduler checkpoints the ledger
                          when anything changed; default 300.
    ``EXCHANGE_TRUSTED_ACCOUNT_DELAY_HOURS`` how long an addition to an enterprise's trusted
                          account list waits before it counts; default 24.
    """
    return {
        "DATABASE_URL": normalise_database_url(
            os.environ.get("DATABASE_URL") or default_database_url(instance_path)
        ),
        "SECRET_KEY": os.environ.get("SECRET_KEY") or secrets.token_hex(32),
        "SESSION_COOKIE_SECURE": env_flag("EXCHANGE_SECURE_COOKIES"),
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "RATELIMIT_STORAGE_URI": os.environ.get("RATELIMIT_STORAGE_URI") or "memory://",
        "DEMO_CREDENTIALS_PATH": os.environ.get("EXCHANGE_DEMO_CREDENTIALS")
        or str(Path(instance_path) / "demo-credentials.json"),
        "MAX_CONTENT_LENGTH": _positive_int(
            os.environ.get("EXCHANGE_MAX_BODY_BYTES"), DEFAULT_MAX_BODY_BYTES
        ),
        "JSON_SORT_KEYS": False,
        "SIGNING_KEY": os.environ.get("EXCHANGE_SIGNING_KEY") or None,
        "CHECKPOINT_INTERVAL_SECONDS": _positive_int(
            os.environ.get("EXCHANGE_CHECKPOINT_INTERVAL_SECONDS"), 300
        ),
        "TRUSTED_ACCOUNT_DELAY_HOURS": _positive_int(
            os.environ.get("EXCHANGE_TRUSTED_ACCOUNT_DELAY_HOURS"), 24
        ),
    }


def _positive_int(value: str | None, default: int) -> int:
    """A positive integer from the environment, or ``default`` if unset or not one."""
    if value is None or not value.strip().isdigit() or int(value) <= 0:
        return default
    return int(value)


def normalise_database_url(url: str) -> str:
    """Point bare ``postgresql://`` URLs at the psycopg 3 driver."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url
