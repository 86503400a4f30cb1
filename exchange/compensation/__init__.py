"""Ecological compensation (横向生态补偿) between upstream and downstream leagues.

A regulator registers an **agreement** at a boundary section, enters monthly or
yearly **readings** (append-only: a correction is a new entry that supersedes the
old), and each closed period is **settled** once: the pure :mod:`formula` computes
what the downstream side pays the upstream side (or the reverse) from the
readings, and :mod:`settlement` posts it as a cash journal through the ledger,
from the payer's deposit first; what the payer cannot pay is left as a **claim**.

Modules: ``formula`` and ``periods`` (pure), ``commands`` (typed commands),
``agreements`` (agreements and readings), ``settlement`` (settlements and claims),
``report`` (what the public report and the CSV show), ``jobs`` (the scheduler).
"""
