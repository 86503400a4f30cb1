"""The load: league clients posting and cancelling crossing orders, and a clearing loop.

Transport-independent: every call goes through a ``Send`` function
``send(method, path, headers, json_body) -> (status, body)`` that raises
``OSError`` when the request got no answer. ``bench/load/run.py`` sends over HTTP
to gunicorn; ``tests/hardening/test_load.py`` through Flask's test client.

Every answer is recorded, so that the audit can account for every order:

- an order is posted with a fresh ``client_order_id``; if the answer is lost or
  is a 5xx, the same id is posted again (the idempotency key makes this safe)
  until the exchange says what became of it (201/200: accepted, 4xx: refused);
- now and then an accepted id is posted again on purpose: the answer must be
  200 with the same order (idempotency under load);
- now and then an accepted order is cancelled (200: cancelled; 409: it had
  already traded or expired).
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

Send = Callable[[str, str, dict[str, str], Any], tuple[int, Any]]

RETRIES = 8
CID_PREFIX = "load"


@dataclass(frozen=True)
class MarketTerms:
    """What a client needs to post valid, crossing orders in a market."""

    id: int
    lot: int
    tick: int
    floor: int
    ceiling: int
    center: int

    @classmethod
    def of(cls, market: dict[str, Any]) -> MarketTerms:
        floor, tick = int(market["price_floor"]), int(market["tick"])
        ceiling = int(market["price_ceiling"] or floor * 10)
        center = min(ceiling, floor * 2) // tick * tick
        return cls(int(market["id"]), int(market["lot"]), tick, floor, ceiling, center)

    def price(self, rng: random.Random, side: str) -> int:
        """A limit around the center: buyers a little above, sellers a little below, so
        that most orders cross, with a spread so that some do not."""
        spread = max(1, self.center // self.tick // 10)
        shift = rng.randint(-spread, spread // 2)
        ticks = self.center // self.tick + (shift if side == "buy" else -shift)
        return max(self.floor, min(self.ceiling, ticks * self.tick))


@dataclass
class Call:
    """One request and its answer."""

    kind: str  # "post", "cancel", "repeat", "clear"
    seconds: float
    status: int  # 0: no answer (connection error)
    started: float = 0.0  # time.monotonic() when sent (one clock for every process)


@dataclass
class LeagueLog:
    """What one league's client saw."""

    league: str
    accepted: dict[str, int] = field(default_factory=dict)  # client_order_id -> order id
    refused: dict[str, int] = field(default_factory=dict)  # client_order_id -> 4xx status
    cancelled: set[int] = field(default_factory=set)  # order ids answered 200 to DELETE
    cancel_conflicts: int = 0
    repeat_mismatches: list[str] = field(default_factory=list)
    unresolved: list[str] = field(default_factory=list)  # ids never answered for sure
    calls: list[Call] = field(default_factory=list)


@dataclass
class ClearLog:
    """What the clearing loop saw."""

    runs: dict[int, int] = field(default_factory=dict)  # run id -> market id
    calls: list[Call] = field(default_factory=list)


def _timed(send: Send, kind: str, log: list[Call], *args: Any) -> tuple[int, Any]:
    at, started = time.monotonic(), time.perf_counter()
    try:
        status, body = send(*args)
    except OSError:
        status, body = 0, None
    log.append(Call(kind, time.perf_counter() - started, status, at))
    return status, body


def league_client(
    send: Send,
    league: str,
    token: str,
    markets: list[MarketTerms],
    *,
    seconds: float,
    seed: int,
    cancel_share: float = 0.2,
    repeat_share: float = 0.05,
    pause: float = 0.0,
    tag: str = "",
) -> LeagueLog:
    """Post orders for ``seconds``; cancel and repeat some. Returns what happened."""
    rng = random.Random(seed)
    headers = {"Authorization": f"Bearer {token}"}
    log = LeagueLog(league)
    stop = time.monotonic() + seconds
    n = 0
    while time.monotonic() < stop:
        n += 1
        market = rng.choice(markets)
        side = rng.choice(("buy", "sell"))
        cid = f"{CID_PREFIX}{tag}-{league}-{n}"
        body = {
            "market_id": market.id,
            "side": side,
            "quantity": market.lot * rng.randint(1, 5),
            "limit_price": market.price(rng, side),
            "client_order_id": cid,
        }
        for attempt in range(RETRIES):
            status, answer = _timed(
                send, "post", log.calls, "POST", "/api/v1/orders", headers, body
            )
            if status in (200, 201):
                log.accepted[cid] = int(answer["id"])
                break
            if 400 <= status < 500:
                log.refused[cid] = status
                break
            time.sleep(0.05 * (attempt + 1))  # no answer or 5xx: ask again, same key
        else:
            log.unresolved.append(cid)
        if log.accepted and rng.random() < repeat_share:
            again = rng.choice(sorted(log.accepted))
            repeat = {**body, "client_order_id": again}
            status, answer = _timed(
                send, "repeat", log.calls, "POST", "/api/v1/orders", headers, repeat
            )
            if status in (200, 201) and (status != 200 or answer["id"] != log.accepted[again]):
                log.repeat_mismatches.append(f"{again}: {status} {answer}")
        if log.accepted and rng.random() < cancel_share:
            order_id = rng.choice(list(log.accepted.values()))
            if order_id not in log.cancelled:
                status, _ = _timed(
                    send, "cancel", log.calls, "DELETE", f"/api/v1/orders/{order_id}", headers, None
                )
                if status == 200:
                    log.cancelled.add(order_id)
                elif status == 409:
                    log.cancel_conflicts += 1
        if pause:
            time.sleep(pause)
    return log


def clearing_loop(
    send: Send,
    token: str,
    market_ids: list[int],
    *,
    seconds: float,
    interval: float,
) -> ClearLog:
    """Every ``interval`` seconds, the regulator triggers a run of every market."""
    headers = {"Authorization": f"Bearer {token}"}
    log = ClearLog()
    stop = time.monotonic() + seconds
    while True:
        cycle = time.monotonic()
        for market_id in market_ids:
            status, answer = _timed(
                send,
                "clear",
                log.calls,
                "POST",
                f"/api/v1/markets/{market_id}/clearing-runs",
                headers,
                {},
            )
            if status in (200, 201):
                log.runs[int(answer["id"])] = market_id
        if time.monotonic() >= stop:
            return log
        time.sleep(max(0.0, interval - (time.monotonic() - cycle)))


def summarise(logs: list[LeagueLog], clear: ClearLog, elapsed: float) -> dict[str, Any]:
    """Orders/s, latency percentiles and error counts of a load run."""
    calls = [c for log in logs for c in log.calls]
    posts = sorted(c.seconds * 1000 for c in calls if c.kind == "post")
    cancels = sorted(c.seconds * 1000 for c in calls if c.kind == "cancel")
    clears = sorted(c.seconds * 1000 for c in clear.calls)
    accepted = sum(len(log.accepted) for log in logs)
    errors = [c.status for c in calls + clear.calls if c.status >= 500]
    lost = [c.status for c in calls + clear.calls if c.status == 0]
    by_status: dict[str, int] = {}
    for c in calls + clear.calls:
        by_status[str(c.status)] = by_status.get(str(c.status), 0) + 1
    return {
        "seconds": round(elapsed, 1),
        "orders_accepted": accepted,
        "orders_per_second": round(accepted / elapsed, 1) if elapsed else 0.0,
        "orders_refused": sum(len(log.refused) for log in logs),
        "cancels_ok": sum(len(log.cancelled) for log in logs),
        "cancel_conflicts": sum(log.cancel_conflicts for log in logs),
        "requests": len(calls) + len(clear.calls),
        "requests_per_second": round((len(calls) + len(clear.calls)) / elapsed, 1)
        if elapsed
        else 0.0,
        "post_latency_ms": _percentiles(posts),
        "post_latency_beside_runs_ms": _beside_runs(
            [c for c in calls if c.kind == "post"], clear.calls
        ),
        "cancel_latency_ms": _percentiles(cancels),
        "clear_latency_ms": _percentiles(clears),
        "clearing_runs": len(clear.runs),
        "errors_5xx": len(errors),
        # a keep-alive connection the server had just closed: asked again, same key
        "no_answer_retried": len(lost),
        "statuses": dict(sorted(by_status.items())),
    }


def _beside_runs(posts: list[Call], runs: list[Call]) -> dict[str, dict[str, float]]:
    """The posts' latency percentiles apart by whether a clearing run's request was in
    flight at any moment of theirs, with how many of each."""
    spans = sorted((r.started, r.started + r.seconds) for r in runs)
    apart: dict[str, list[float]] = {"no_run_in_flight": [], "a_run_in_flight": []}
    for post in posts:
        end = post.started + post.seconds
        overlaps = any(s < end and post.started < e for s, e in spans)
        apart["a_run_in_flight" if overlaps else "no_run_in_flight"].append(post.seconds * 1000)
    return {
        name: {"count": len(values), **_percentiles(sorted(values))}
        for name, values in apart.items()
    }


def _percentiles(values: list[float]) -> dict[str, float]:
    if not values:
        return {"p50": 0.0, "p99": 0.0, "max": 0.0}

    def at(q: float) -> float:
        return round(values[min(len(values) - 1, int(q * len(values)))], 1)

    return {"p50": at(0.50), "p90": at(0.90), "p99": at(0.99), "max": round(values[-1], 1)}
