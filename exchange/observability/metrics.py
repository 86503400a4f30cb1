"""Prometheus metrics: ``GET /metrics`` and the hooks the services call.

Hooks (one line each at the call site, marked ``# metrics``):

- ``order_accepted(market_id)``: an order entered (in ``services.orders``);
- order rejections are counted here, from the error code of every refused
  ``POST /api/v1/orders`` (so schema errors count too), by ``reason``;
- ``clearing_run(market_id, outcome, seconds)``: a run completed, failed or was cancelled (in
  the call auction's clearing run);
- ``verify_finished(ok, violations, seconds)``: a ledger verification ended (the
  periodic verify job of ``exchange.services.verification`` calls it).

Metrics of the state of the book of record are read from the database at scrape
time, so they hold whichever process or host did the work: the last run per
market, whether the latest due window of a market has no run (a missed run), and
whether the latest run of a market failed.

**Processes.** By default each process has its own registry. ``exchange serve``
puts its gunicorn workers in prometheus_client's multiprocess mode by itself
(``exchange.gunicorn_app``: ``PROMETHEUS_MULTIPROC_DIR`` set before they start,
dead workers marked), so ``/metrics`` adds up every worker's files. See
docs/operations.md.

**Access.** ``/metrics`` is public, like ``/healthz``: it carries counts and
timings by market id and error code, no league, price or order. Serve it on the
internal network only (the reverse proxy must not route it from outside).
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Iterator
from datetime import UTC, timedelta
from typing import Any

from flask import Flask, Response, current_app, g, request
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from exchange.http_methods import OTHER, method_label

log = logging.getLogger(__name__)

MULTIPROCESS = bool(os.environ.get("PROMETHEUS_MULTIPROC_DIR"))
# A window counts as missed once it is this old and still has no run.
MISSED_GRACE = timedelta(minutes=2)
ORDERS_ENDPOINT = "trading.Orders"

ORDERS_ACCEPTED = Counter(
    "exchange_orders_accepted", "Orders entered (holds placed), by market id.", ["market"]
)
ORDERS_REJECTED = Counter(
    "exchange_orders_rejected",
    "Order entries refused, by reason (the error code of the answer).",
    ["reason"],
)
CLEARING_RUNS = Counter(
    "exchange_clearing_runs",
    "Clearing runs by outcome (completed, failed, cancelled).",
    ["outcome"],
)
CLEARING_DURATION = Histogram(
    "exchange_clearing_run_duration_seconds",
    "Time of a clearing run, from the market lock to the settled fills.",
    ["outcome"],
    buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60),
)
VERIFY_OK = Gauge(
    "exchange_ledger_verify_ok",
    "1 if the last ledger verification found nothing wrong, 0 if it found violations.",
    multiprocess_mode="mostrecent",
)
VERIFY_VIOLATIONS = Gauge(
    "exchange_ledger_verify_violations",
    "Violations found by the last ledger verification.",
    multiprocess_mode="mostrecent",
)
VERIFY_TIMESTAMP = Gauge(
    "exchange_ledger_verify_last_timestamp_seconds",
    "When the last ledger verification ended (Unix time).",
    multiprocess_mode="mostrecent",
)
VERIFY_DURATION = Gauge(
    "exchange_ledger_verify_duration_seconds",
    "How long the last ledger verification took.",
    multiprocess_mode="mostrecent",
)
HTTP_REQUESTS = Counter(
    "exchange_http_requests",
    "HTTP requests by method, route and status class.",
    ["method", "endpoint", "status"],
)
ACTION_LOG_DROPPED = Counter(
    "exchange_action_log_dropped_total",
    "Anonymous refused requests not written to the action log (over their budget).",
)
HTTP_DURATION = Histogram(
    "exchange_http_request_duration_seconds",
    "HTTP request duration by route.",
    ["endpoint"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
POOL_CHECKED_OUT = Gauge(
    "exchange_db_pool_checked_out",
    "Database connections in use by this process (all processes in multiprocess mode).",
    multiprocess_mode="livesum",
)
POOL_SIZE = Gauge(
    "exchange_db_pool_size",
    "Configured size of the connection pool (per process).",
    multiprocess_mode="livemax",
)
POOL_OVERFLOW = Gauge(
    "exchange_db_pool_overflow",
    "Connections opened beyond the pool size (negative: pool slots not yet opened).",
    multiprocess_mode="livesum",
)


# --- hooks called by the services -------------------------------------------------


def order_accepted(market_id: int) -> None:
    """An order was entered and its hold placed (committed)."""
    ORDERS_ACCEPTED.labels(market=str(market_id)).inc()


def order_rejected(reason: str) -> None:
    """An order entry was refused with error code ``reason``."""
    ORDERS_REJECTED.labels(reason=reason).inc()


def clearing_run(market_id: int, outcome: str, seconds: float) -> None:
    """A clearing run of ``market_id`` ended with ``outcome`` (completed, failed, cancelled)."""
    CLEARING_RUNS.labels(outcome=outcome).inc()
    CLEARING_DURATION.labels(outcome=outcome).observe(max(seconds, 0.0))
    log.info(
        "clearing run %s",
        outcome,
        extra={"market_id": market_id, "outcome": outcome, "seconds": round(seconds, 4)},
    )


def verify_finished(ok: bool, violations: int, seconds: float) -> None:
    """A ledger verification ended."""
    VERIFY_OK.set(1 if ok else 0)
    VERIFY_VIOLATIONS.set(violations)
    VERIFY_DURATION.set(seconds)
    VERIFY_TIMESTAMP.set(time.time())
    (log.info if ok else log.error)(
        "ledger verify %s", "ok" if ok else "FAILED", extra={"violations": violations}
    )


# --- per request --------------------------------------------------------------------


def unknown_method_refused() -> None:
    """A request with a made-up method was refused in the WSGI layer."""
    HTTP_REQUESTS.labels(method=OTHER, endpoint="refused", status="4xx").inc()


def anonymous_log_dropped() -> None:
    """An anonymous refused request was over its action-log budget."""
    ACTION_LOG_DROPPED.inc()


def _observe_request(response: Response) -> Response:
    endpoint = request.endpoint or "unmatched"
    started = g.get("request_started")
    HTTP_REQUESTS.labels(
        method=method_label(request.method),
        endpoint=endpoint,
        status=f"{response.status_code // 100}xx",
    ).inc()
    if started is not None:
        HTTP_DURATION.labels(endpoint=endpoint).observe(time.perf_counter() - started)
    if endpoint == ORDERS_ENDPOINT and request.method == "POST" and response.status_code >= 400:
        order_rejected(g.get("error_code") or f"http_{response.status_code}")
    if MULTIPROCESS:  # each worker's last pool reading is summed across live workers
        _record_pool(current_app)
    return response


def _record_pool(app: Flask) -> None:
    pool: Any = app.extensions["exchange.db"]["engine"].pool
    for gauge, reading in (
        (POOL_CHECKED_OUT, "checkedout"),
        (POOL_SIZE, "size"),
        (POOL_OVERFLOW, "overflow"),
    ):
        if hasattr(pool, reading):
            gauge.set(getattr(pool, reading)())


# --- state read from the database at scrape time --------------------------------------


DUE_WINDOW = "exchange.due_window"
"""``app.extensions`` key of ``(mechanism, schedule, now) -> latest due window | None``, bound
by the composition root: the mechanisms, not the metrics, know when trades are due."""


def _no_windows(_mechanism: str, _schedule: str | None, _now: Any) -> None:
    return None


class DatabaseCollector(Collector):
    """Clearing state from the database: last run, missed windows, failed runs."""

    def __init__(self, app: Flask) -> None:
        self.app = app

    def collect(self) -> Iterator[GaugeMetricFamily]:
        from exchange.models.base import utcnow
        from exchange.models.trading import RunStatus

        up = GaugeMetricFamily("exchange_database_up", "1 if the database answered the scrape.")
        last = GaugeMetricFamily(
            "exchange_clearing_last_window_timestamp_seconds",
            "Window of the latest clearing run of each open market (Unix time).",
            labels=["market"],
        )
        missed = GaugeMetricFamily(
            "exchange_clearing_window_missed",
            "1 if the latest due window of an open market (older than 2 minutes) has no run.",
            labels=["market"],
        )
        failed = GaugeMetricFamily(
            "exchange_clearing_last_run_failed",
            "1 if the latest clearing run of an open market failed.",
            labels=["market"],
        )
        factory = self.app.extensions["exchange.db"]["read_sessions"]
        session = factory()
        try:
            markets, latest, statuses = _clearing_state(session)
            now = utcnow()
            due_window = self.app.extensions.get(DUE_WINDOW, _no_windows)
            for market_id, mechanism, schedule in markets:
                label = [str(market_id)]
                window = latest.get(market_id)
                if window is not None:
                    last.add_metric(label, _aware(window).timestamp())
                due = due_window(mechanism, schedule, now - MISSED_GRACE)
                missing = due is not None and (window is None or _aware(window) < due)
                missed.add_metric(label, 1.0 if missing else 0.0)
                status = statuses.get(market_id)
                failed.add_metric(label, 1.0 if status is RunStatus.FAILED else 0.0)
            up.add_metric([], 1.0)
        except Exception as exc:  # a scrape must answer even when the database does not
            log.warning("metrics: database not readable: %s", exc)
            up.add_metric([], 0.0)
            yield up
            return
        finally:
            session.close()
        yield up
        yield last
        yield missed
        yield failed


def _clearing_state(session: Any) -> tuple[list[Any], dict[int, Any], dict[int, Any]]:
    """Open markets (id, mechanism, schedule), each market's latest window and that run's status."""
    from sqlalchemy import and_, func, select

    from exchange.models import Market, MarketStatus
    from exchange.models.trading import ClearingRun

    markets = session.execute(
        select(Market.id, Market.mechanism, Market.clearing_schedule).where(
            Market.status == MarketStatus.OPEN
        )
    ).all()
    latest = dict(
        session.execute(
            select(ClearingRun.market_id, func.max(ClearingRun.window)).group_by(
                ClearingRun.market_id
            )
        ).all()
    )
    newest = (
        select(ClearingRun.market_id, func.max(ClearingRun.window).label("window"))
        .group_by(ClearingRun.market_id)
        .subquery()
    )
    statuses = dict(
        session.execute(
            select(ClearingRun.market_id, ClearingRun.status).join(
                newest,
                and_(
                    ClearingRun.market_id == newest.c.market_id,
                    ClearingRun.window == newest.c.window,
                ),
            )
        ).all()
    )
    return list(markets), latest, statuses


class PoolCollector(Collector):
    """The connection pool of the scraping process (per-process registry only)."""

    def __init__(self, app: Flask) -> None:
        self.app = app

    def collect(self) -> Iterator[GaugeMetricFamily]:
        pool: Any = self.app.extensions["exchange.db"]["engine"].pool
        for name, reading, text in (
            ("exchange_db_pool_checked_out", "checkedout", "Connections in use."),
            ("exchange_db_pool_size", "size", "Configured size of the connection pool."),
            ("exchange_db_pool_overflow", "overflow", "Connections beyond the pool size."),
            ("exchange_db_pool_checked_in", "checkedin", "Idle connections in the pool."),
        ):
            if hasattr(pool, reading):
                yield GaugeMetricFamily(name, text, value=float(getattr(pool, reading)()))


def _aware(value: Any) -> Any:
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def render(app: Flask) -> bytes:
    """The exposition text: process metrics (or every process's) plus database state."""
    registry = CollectorRegistry()
    if MULTIPROCESS:
        from prometheus_client import multiprocess

        multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
        _record_pool(app)
    else:
        for collector in (
            ORDERS_ACCEPTED,
            ORDERS_REJECTED,
            CLEARING_RUNS,
            CLEARING_DURATION,
            VERIFY_OK,
            VERIFY_VIOLATIONS,
            VERIFY_TIMESTAMP,
            VERIFY_DURATION,
            HTTP_REQUESTS,
            HTTP_DURATION,
            ACTION_LOG_DROPPED,
        ):
            registry.register(collector)
        registry.register(PoolCollector(app))
    registry.register(DatabaseCollector(app))
    from exchange.jobs.metrics import JobsCollector

    registry.register(JobsCollector(app))
    return generate_latest(registry)


def metrics_view() -> Response:
    """``GET /metrics``: Prometheus text format."""
    response = Response(render(current_app), mimetype=CONTENT_TYPE_LATEST)
    response.headers["Cache-Control"] = "no-store"
    return response


def init_metrics(app: Flask) -> None:
    """``/metrics`` and per-request counters."""
    app.add_url_rule("/metrics", "observability.metrics", metrics_view, methods=["GET"])
    app.after_request(_observe_request)


__all__ = [
    "clearing_run",
    "order_accepted",
    "order_rejected",
    "verify_finished",
]
