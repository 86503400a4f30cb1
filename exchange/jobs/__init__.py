"""Background jobs: long work (CSV imports, ledger verification) outside the web workers.

A web request only records a job (a ``queued`` row of ``background_jobs``); a job
runner process claims it atomically, reports a heartbeat while it works and
records the outcome. A job whose runner died (its process is gone, or its
heartbeat is stale) is queued again, or marked failed with the reason once it
has been tried too often: it is never left ``running``.

- ``registry``: the kinds of jobs (bound from the composition root) and what a job function gets
  (``JobContext``);
- ``queue``: the database side: claim, heartbeat, finish, recovery of jobs whose
  runner died, and whether any runner is alive;
- ``runner``: the runner (threads in ``exchange jobs run``, ``exchange scheduler``
  and ``exchange demo``) and ``execute``, which runs one claimed job;
- ``notice``: "queued, waiting for a runner" on the status pages.
"""
