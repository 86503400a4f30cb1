"""``exchange serve --workers 2``: /metrics adds up the requests of every worker."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

from exchange.db import make_engine
from exchange.migrate import upgrade_engine

pytestmark = pytest.mark.slow  # starts gunicorn with two workers

ROOT = Path(__file__).resolve().parents[2]
ENDPOINT = "observability.healthz"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Served:
    """A running ``exchange serve`` and what it logged."""

    def __init__(self, proc: subprocess.Popen[str], url: str) -> None:
        self.proc = proc
        self.url = url
        self.lines: list[str] = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.proc.stderr is not None
        for line in self.proc.stderr:
            self.lines.append(line)

    def pids_serving(self, path: str) -> dict[int, int]:
        """Requests to ``path`` per worker process id, from the request log."""
        counts: dict[int, int] = {}
        for line in list(self.lines):
            if not line.startswith("{"):
                continue
            entry = json.loads(line)
            if entry.get("logger") == "exchange.request" and entry.get("path") == path:
                counts[entry["pid"]] = counts.get(entry["pid"], 0) + 1
        return counts

    def metrics_dir(self) -> Path:
        for line in list(self.lines):
            if line.startswith("metrics of all workers: "):
                return Path(line.split(": ", 1)[1].strip())
        raise AssertionError("serve did not say where the metrics live")


@pytest.fixture
def served(tmp_path: Path) -> Iterator[Served]:
    url = f"sqlite:///{tmp_path / 'serve.sqlite3'}"
    engine = make_engine(url)
    upgrade_engine(engine)
    engine.dispose()
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if k != "PROMETHEUS_MULTIPROC_DIR"}
    env.update(DATABASE_URL=url, SECRET_KEY="serve-test", EXCHANGE_REQUEST_LOG="1")
    command = [sys.executable, "-c", "from exchange.cli import main; main()", "serve"]
    options = ["--port", str(port), "--workers", "2", "--threads", "2", "--no-access-log"]
    proc = subprocess.Popen(
        [*command, *options],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    server = Served(proc, f"http://127.0.0.1:{port}")
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                urllib.request.urlopen(server.url + "/healthz", timeout=2).read()
                break
            except OSError:
                assert proc.poll() is None, "".join(server.lines)[-2000:]
                assert time.monotonic() < deadline, "serve did not answer"
                time.sleep(0.2)
        yield server
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(10)
        server._reader.join(10)
        if proc.stderr is not None:
            proc.stderr.close()


def _served_count(server: Served) -> float:
    text = urllib.request.urlopen(server.url + "/metrics", timeout=10).read().decode()
    total = 0.0
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == "exchange_http_requests_total" and (
                sample.labels.get("endpoint") == ENDPOINT
            ):
                total += sample.value
    return total


def _hit(server: Served, times: int) -> None:
    def one() -> None:
        for _ in range(times // 4):
            urllib.request.urlopen(server.url + "/healthz", timeout=10).read()

    threads = [threading.Thread(target=one) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)


def test_metrics_add_up_the_requests_of_both_workers(served: Served) -> None:
    time.sleep(0.3)
    probes = sum(served.pids_serving("/healthz").values())  # the readiness probes
    made = 0
    while len(served.pids_serving("/healthz")) < 2 and made < 4000:
        _hit(served, 40)
        made += 40
    time.sleep(0.3)  # the last request lines reach the log
    by_worker = served.pids_serving("/healthz")
    assert len(by_worker) == 2, by_worker  # both workers served some
    assert sum(by_worker.values()) == probes + made
    made += probes
    assert _served_count(served) == made  # one scrape, every worker's requests

    directory = served.metrics_dir()
    assert directory.is_dir() and "exchange-metrics-" in directory.name
    victim = min(by_worker)
    os.kill(victim, signal.SIGKILL)  # gunicorn replaces it; child_exit marks it dead
    deadline = time.monotonic() + 30
    while (directory / f"gauge_livesum_{victim}.db").exists() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not (directory / f"gauge_livesum_{victim}.db").exists()  # its live gauges dropped
    assert _served_count(served) == made  # its requests still count
    served.proc.send_signal(signal.SIGTERM)
    served.proc.wait(30)
    assert not directory.exists()  # removed with the server
