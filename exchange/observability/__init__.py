"""Operations: structured logs with request ids, Prometheus metrics, health check.

``init_observability(app)`` binds it all to an app (called once from
``create_app``). Modules:

- ``logging``: JSON-lines logs, one request id per request (``X-Request-ID``);
- ``metrics``: the ``/metrics`` endpoint and the hooks services call
  (``order_accepted``, ``clearing_run``, ``verify_finished``);
- ``health``: ``/healthz`` (the database answers: 200, else 503).

See docs/operations.md for the log format, the metrics and the alert rules.
"""

from __future__ import annotations

from flask import Flask


def init_observability(app: Flask) -> None:
    """Request ids and logs, metrics, and the health check."""
    from exchange.observability import health, logging, metrics

    logging.init_logging(app)
    metrics.init_metrics(app)
    health.init_health(app)
