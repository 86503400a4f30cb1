"""The audit: recompute everything from the rows alone and name every violation.

Checks (the ``check`` field of each :class:`Violation`):

- ``journal_hash``: a journal's stored hash differs from the SHA-256 of its canonical form
  (an altered field, posting amount, account or hold id);
- ``chain_link``: a journal's ``prev_hash`` is not the hash of its predecessor in its chain;
- ``chain_gap`` / ``chain_duplicate``: sequence numbers of a chain skip (a deleted journal)
  or repeat (a forged one);
- ``chain_head``: the stored head of a chain is not its last journal;
- ``orphan_posting`` / ``unknown_account`` / ``empty_journal``: rows that point nowhere;
- ``unbalanced_journal``: a journal does not sum to zero for an asset;
- ``balance``: an account's stored balance differs from the sum of its postings;
- ``negative_balance``: an account other than an issuance account is (or went) below zero;
- ``hold``: a hold's remaining amount differs from its escrow postings, or is out of range;
- ``escrow``: an escrow account's balance differs from the sum of its open holds;
- ``conservation``: issued differs from what all holders (leagues, escrow, clearing,
  retirement, congestion, others) hold, per asset;
- ``clearing_not_flat``: the exchange's clearing account is not zero between runs.
"""

from __future__ import annotations

import hashlib
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ledger.hashing import GENESIS, VERSION, format_timestamp
from ledger.keys import AccountKind
from ledger.models import JOURNALS, POSTINGS, Account, Chain, Hold, Posting
from ledger.verify_report import VerifyReport, Violation

J = JOURNALS.c
P = POSTINGS.c
_BATCH = 20_000


def verify(session: Session, *, progress: Callable[[int], None] | None = None) -> VerifyReport:
    """Audit the whole ledger (read-only); ``progress(n)`` is called as postings are read."""
    started = time.perf_counter()
    report = VerifyReport()
    accounts = {
        row[0]: (row[1], row[2], row[3], row[4])
        for row in session.execute(
            select(Account.id, Account.kind, Account.owner, Account.asset, Account.balance)
        )
    }
    holds = {
        row[0]: (row[1], row[2], row[3], row[4])
        for row in session.execute(
            select(
                Hold.id, Hold.main_account_id, Hold.escrow_account_id, Hold.amount, Hold.remaining
            )
        )
    }
    report.accounts, report.holds = len(accounts), len(holds)
    issuance = {i for i, a in accounts.items() if a[0] == AccountKind.ISSUANCE}
    # Clearing accounts may be short inside a run; their end state is checked below.
    exempt = issuance | {i for i, a in accounts.items() if a[0] == AccountKind.CLEARING}
    scan = _Scan(
        report,
        {i: (a[2], f"|{a[0]}|{a[1]}|") for i, a in accounts.items()},
        holds,
        exempt,
    )
    _scan_journals(session, scan, progress)
    _check_chains(session, report, scan.links)
    _check_balances(report, accounts, scan.sums, issuance)
    _check_holds(report, accounts, holds, scan.hold_sums)
    _check_conservation(report, accounts)
    report.seconds = time.perf_counter() - started
    return report


@dataclass
class _Scan:
    """What one pass over the journals and postings accumulates."""

    report: VerifyReport
    account_lines: dict[int, tuple[str, str]]
    holds: dict[int, tuple[int, int, int, int]]
    exempt: set[int]
    sums: dict[int, int] = field(default_factory=lambda: defaultdict(int))
    hold_sums: dict[int, int] = field(default_factory=lambda: defaultdict(int))
    went_negative: set[int] = field(default_factory=set)
    links: list[tuple[str, int, int, str, str]] = field(default_factory=list)

    def posting(
        self,
        jid: int,
        account_id: int,
        amount: int,
        hold_id: int | None,
        lines: list[str],
        per_asset: dict[str, int],
    ) -> None:
        """Add one posting of journal ``jid`` to the running sums and its canonical lines."""
        known = self.account_lines.get(account_id)
        if known is None:
            self.report.add(
                Violation(
                    "unknown_account",
                    f"journal {jid}: posting on unknown account {account_id}",
                    journal_id=jid,
                    account_id=account_id,
                )
            )
            return
        asset, middle = known
        lines.append(f"{asset}{middle}{amount}|{'' if hold_id is None else hold_id}")
        per_asset[asset] += amount
        balance = self.sums[account_id] + amount
        self.sums[account_id] = balance
        if balance < 0 and account_id not in self.exempt and account_id not in self.went_negative:
            self.went_negative.add(account_id)
            self.report.add(
                Violation(
                    "negative_balance",
                    f"account {account_id} went below zero at journal {jid}",
                    journal_id=jid,
                    account_id=account_id,
                    expected=0,
                    found=balance,
                )
            )
        if hold_id is not None:
            hold = self.holds.get(hold_id)
            if hold is None or hold[1] != account_id:
                self.report.add(
                    Violation(
                        "hold",
                        f"journal {jid}: posting names hold {hold_id}, which is not "
                        f"a hold on account {account_id}",
                        journal_id=jid,
                        hold_id=hold_id,
                        account_id=account_id,
                    )
                )
            else:
                self.hold_sums[hold_id] += amount

    def journal(self, row: Any, lines: list[str], per_asset: dict[str, int]) -> None:
        """Check a journal once its postings are read: not empty, balanced, hash matches."""
        jid, chain, seq, kind, reference, actor, created_at, prev_hash, stored = row
        report = self.report
        if not lines:
            report.add(Violation("empty_journal", f"journal {jid} has no postings", journal_id=jid))
        for asset, total in per_asset.items():
            if total:
                report.add(
                    Violation(
                        "unbalanced_journal",
                        f"journal {jid} does not balance in {asset}",
                        journal_id=jid,
                        asset=asset,
                        expected=0,
                        found=total,
                    )
                )
        lines.sort()
        header = (
            f"{VERSION}|{chain}|{seq}|{prev_hash}|{kind}|{reference}|{actor}|"
            f"{format_timestamp(created_at)}"
        )
        computed = hashlib.sha256("\n".join([header, *lines]).encode("utf-8")).hexdigest()
        if computed != stored:
            report.add(
                Violation(
                    "journal_hash",
                    f"journal {jid} ({chain} #{seq}): content does not match its hash",
                    journal_id=jid,
                    chain=chain,
                    expected=computed,
                    found=stored,
                )
            )
        self.links.append((chain, seq, jid, prev_hash, stored))


def _scan_journals(session: Session, scan: _Scan, progress: Callable[[int], None] | None) -> None:
    """Stream journals and postings side by side (both in journal order), once."""
    report = scan.report
    postings = _stream(
        session,
        select(P.journal_id, P.account_id, P.amount, P.hold_id).order_by(P.journal_id, P.id),
    )
    pending = next(postings, None)
    journals = _stream(
        session,
        select(
            J.id, J.chain, J.seq, J.kind, J.reference, J.actor, J.created_at, J.prev_hash, J.hash
        ).order_by(J.id),
    )
    count = 0
    for row in journals:
        jid = row[0]
        report.journals += 1
        # Postings of journals that do not exist (a deleted journal row).
        while pending is not None and pending[0] < jid:
            _orphan(report, pending)
            pending = next(postings, None)
        lines: list[str] = []
        per_asset: dict[str, int] = defaultdict(int)
        while pending is not None and pending[0] == jid:
            scan.posting(jid, pending[1], pending[2], pending[3], lines, per_asset)
            count += 1
            pending = next(postings, None)
        if progress is not None and count >= _BATCH:
            progress(count)
            report.postings += count
            count = 0
        scan.journal(row, lines, per_asset)
    while pending is not None:
        _orphan(report, pending)
        pending = next(postings, None)
        count += 1
    report.postings += count
    if progress is not None and count:
        progress(count)


def count_postings(session: Session) -> int:
    """How many postings the ledger holds (for progress bars)."""
    return int(session.scalar(select(func.count()).select_from(Posting)) or 0)


def _stream(session: Session, query: Any) -> Iterator[Any]:
    """Rows of a Core query, fetched in batches (a server-side cursor on PostgreSQL)."""
    connection = session.connection().execution_options(yield_per=_BATCH)
    for partition in connection.execute(query).partitions():
        yield from partition


def _orphan(report: VerifyReport, posting: tuple[int, int, int, int | None]) -> None:
    report.add(
        Violation(
            "orphan_posting",
            f"posting on account {posting[1]} of amount {posting[2]} belongs to journal "
            f"{posting[0]}, which does not exist",
            journal_id=posting[0],
            account_id=posting[1],
            found=posting[2],
        )
    )


def _check_chains(
    session: Session, report: VerifyReport, links: list[tuple[str, int, int, str, str]]
) -> None:
    links.sort(key=lambda link: (link[0], link[1], link[2]))
    last: dict[str, tuple[int, str]] = {}
    for chain, seq, jid, prev_hash, stored in links:
        before_seq, before_hash = last.get(chain, (0, GENESIS))
        if seq == before_seq:
            report.add(
                Violation(
                    "chain_duplicate",
                    f"journal {jid}: {chain} #{seq} appears twice",
                    journal_id=jid,
                    chain=chain,
                    expected=before_seq + 1,
                    found=seq,
                )
            )
        elif seq != before_seq + 1:
            report.add(
                Violation(
                    "chain_gap",
                    f"{chain}: journals #{before_seq + 1}..#{seq - 1} are missing "
                    f"(before journal {jid})",
                    journal_id=jid,
                    chain=chain,
                    expected=before_seq + 1,
                    found=seq,
                )
            )
        if prev_hash != before_hash and seq == before_seq + 1:
            report.add(
                Violation(
                    "chain_link",
                    f"journal {jid} ({chain} #{seq}): prev_hash is not the hash of #{before_seq}",
                    journal_id=jid,
                    chain=chain,
                    expected=before_hash,
                    found=prev_hash,
                )
            )
        last[chain] = (seq, stored)
    heads = {
        row[0]: (row[1], row[2])
        for row in session.execute(select(Chain.name, Chain.seq, Chain.head_hash))
    }
    for chain in sorted(set(heads) | set(last)):
        expected = last.get(chain, (0, GENESIS))
        found = heads.get(chain)
        report.chains[chain] = {"seq": expected[0], "head": expected[1]}
        if found != expected:
            report.add(
                Violation(
                    "chain_head",
                    f"{chain}: the stored head is not the last journal of the chain",
                    chain=chain,
                    expected=f"#{expected[0]} {expected[1]}",
                    found="missing" if found is None else f"#{found[0]} {found[1]}",
                )
            )


def _check_balances(
    report: VerifyReport,
    accounts: dict[int, tuple[str, str, str, int]],
    sums: dict[int, int],
    issuance: set[int],
) -> None:
    for account_id, (kind, owner, asset, balance) in accounts.items():
        computed = sums.get(account_id, 0)
        name = f"{kind}:{owner}/{asset}"
        if computed != balance:
            report.add(
                Violation(
                    "balance",
                    f"account {account_id} ({name}): stored balance differs from its postings",
                    account_id=account_id,
                    asset=asset,
                    expected=computed,
                    found=balance,
                )
            )
        if balance < 0 and account_id not in issuance:
            report.add(
                Violation(
                    "negative_balance",
                    f"account {account_id} ({name}) has a negative stored balance",
                    account_id=account_id,
                    asset=asset,
                    expected=0,
                    found=balance,
                )
            )


def _check_holds(
    report: VerifyReport,
    accounts: dict[int, tuple[str, str, str, int]],
    holds: dict[int, tuple[int, int, int, int]],
    hold_sums: dict[int, int],
) -> None:
    open_by_escrow: dict[int, int] = defaultdict(int)
    for hold_id, (_main, escrow, amount, remaining) in holds.items():
        computed = hold_sums.get(hold_id, 0)
        open_by_escrow[escrow] += remaining
        if computed != remaining:
            report.add(
                Violation(
                    "hold",
                    f"hold {hold_id}: remaining differs from its escrow postings",
                    hold_id=hold_id,
                    account_id=escrow,
                    expected=computed,
                    found=remaining,
                )
            )
        if not 0 <= computed <= amount:
            report.add(
                Violation(
                    "hold",
                    f"hold {hold_id}: postings leave {computed} of {amount} held",
                    hold_id=hold_id,
                    expected=amount,
                    found=computed,
                )
            )
    for account_id, (kind, owner, asset, balance) in accounts.items():
        if kind == AccountKind.ESCROW and open_by_escrow.get(account_id, 0) != balance:
            report.add(
                Violation(
                    "escrow",
                    f"escrow account {account_id} ({owner}/{asset}) differs from its open holds",
                    account_id=account_id,
                    asset=asset,
                    expected=open_by_escrow.get(account_id, 0),
                    found=balance,
                )
            )


def _check_conservation(
    report: VerifyReport, accounts: dict[int, tuple[str, str, str, int]]
) -> None:
    totals: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for kind, _owner, asset, balance in accounts.values():
        totals[asset][kind] += balance
    for asset in sorted(totals):
        by_kind = totals[asset]
        issued = -by_kind.get(AccountKind.ISSUANCE, 0)
        held = sum(v for k, v in by_kind.items() if k != AccountKind.ISSUANCE)
        report.assets[asset] = {
            "issued": issued,
            **{k: v for k, v in sorted(by_kind.items()) if k != AccountKind.ISSUANCE},
        }
        if issued != held:
            report.add(
                Violation(
                    "conservation",
                    f"{asset}: issued {issued} but accounts hold {held}",
                    asset=asset,
                    expected=issued,
                    found=held,
                )
            )
        clearing = by_kind.get(AccountKind.CLEARING, 0)
        if clearing:
            report.add(
                Violation(
                    "clearing_not_flat",
                    f"{asset}: the clearing account holds {clearing} between runs",
                    asset=asset,
                    expected=0,
                    found=clearing,
                )
            )
