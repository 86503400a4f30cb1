"""A job runner in a process of its own, for the tests that kill it mid-job.

Usage: ``python -m tests.exchange.job_runner_worker DATABASE_URL MODE``

- ``in-transaction``: on its first try an allocation import stops inside its
  transaction (after the rights are issued, before the commit);
- ``after-commit``: on its first try a job stops after its work committed, before
  the runner records the end;
- ``normal``: no pause.

When it pauses it prints ``paused <job id>`` and sleeps until killed. The runner
reports every 0.2 s and polls every 0.1 s.
"""

from __future__ import annotations

import sys
import time
from typing import Any

from exchange import create_app
from exchange.jobs import queue, runner
from exchange.jobs.registry import JobContext


def _pause(job_id: int) -> None:
    print(f"paused {job_id}", flush=True)
    while True:
        time.sleep(60)


def main(argv: list[str]) -> int:
    url, mode = argv[0], argv[1]
    app = create_app(
        {
            "DATABASE_URL": url,
            "SECRET_KEY": "worker",
            "JOB_HEARTBEAT_SECONDS": 0.2,
            "JOB_POLL_SECONDS": 0.1,
        }
    )
    if mode == "in-transaction":
        note = JobContext.progress_note

        def progress_note(self: JobContext, increment: int) -> None:
            note(self, increment)
            if self.attempt == 1:
                _pause(self.job_id)

        JobContext.progress_note = progress_note  # type: ignore[method-assign]
    elif mode == "after-commit":
        finish = queue.finish

        def finish_later(session: Any, job_id: int, me: Any, *args: Any, **kwargs: Any) -> bool:
            _pause(job_id)
            return finish(session, job_id, me, *args, **kwargs)

        queue.finish = finish_later  # type: ignore[assignment]
    runner.start_job_runner(app)
    print("ready", flush=True)
    while True:
        time.sleep(60)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
