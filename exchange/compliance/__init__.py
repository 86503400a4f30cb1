"""Compliance cycles: obligations per market family and year, surrender, status, penalties.

Each use case takes a session and a typed command (``exchange.compliance.commands``)
and never commits; the API view, page, CLI command or scheduler job owns the unit
of work. Journals go through the ledger only: surrenders and deductions to the
period's surrender account (``ledger.surrender_account``, which only receives),
fines as cash claims (``ledger.penalty_account``).

- :mod:`.periods`: create, list and show periods;
- :mod:`.figures`: verified figures, objections and decisions, unverified monthly figures;
- :mod:`.surrenders`: surrender of the period's vintage units and offsets;
- :mod:`.status`: the UK ETS registry statuses, live or frozen;
- :mod:`.closing`: the deadline snapshot (exactly once), penalties, the scheduler job;
- :mod:`.forecast` and :mod:`.report`: the open period's projection, the public table.
"""
