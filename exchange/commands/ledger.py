"""``exchange verify-ledger``, ``export-ledger``, ``allocate`` and ``deposit``.

Long work shows a progress bar on a terminal (stderr) and stays quiet when piped.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import IO, Any, TypeVar

import click
from sqlalchemy.orm import Session

from exchange.csv_safe import SafeDictWriter
from exchange.errors import ExchangeError

T = TypeVar("T")

EXPORT_COLUMNS = [
    "journal_id", "chain", "seq", "kind", "reference", "actor", "created_at", "prev_hash",
    "hash", "posting", "account_kind", "owner", "asset", "amount", "hold_id",
]  # fmt: skip


def _with_session(action: Callable[[Session], T]) -> T:
    from exchange import create_app
    from exchange.extensions import db
    from exchange.uow import new_unit_of_work

    app = create_app()
    try:
        with app.app_context():
            try:
                with new_unit_of_work(db.session_factory) as session:
                    return action(session)
            except ExchangeError as err:
                raise click.ClickException(err.message) from None
    finally:
        app.extensions["exchange.db"]["engine"].dispose()


def _interactive() -> bool:
    return sys.stderr.isatty() and sys.stdout.isatty()


@contextmanager
def _progress(total: int, label: str) -> Iterator[Callable[[int], None]]:
    """A ``click.progressbar`` on a terminal; a no-op when piped."""
    if not _interactive() or total <= 0:
        yield lambda _n: None
        return
    with click.progressbar(length=total, label=label, file=sys.stderr) as bar:
        yield bar.update


@click.command("verify-ledger")
@click.option("--json", "as_json", is_flag=True, help="Print the full report as JSON.")
@click.option(
    "--checkpoint", "checkpoint_file", type=click.File("r", encoding="utf-8"), default=None,
    help="Also check against this checkpoint (JSON as the API returns it).",
)  # fmt: skip
@click.option(
    "--public-key", "public_keys", type=click.File("r"), multiple=True,
    help="Trust this public key (PEM or base64) for the checkpoint; default: the exchange's.",
)  # fmt: skip
def verify_ledger(
    as_json: bool, checkpoint_file: IO[str] | None, public_keys: tuple[IO[str], ...]
) -> None:
    """Audit the ledger; exits 1 and lists every violation when one is found."""
    import ledger
    from exchange.checkpointing import load_checkpoint_args
    from exchange.services.verification import verify_against

    checkpoint, anchors = load_checkpoint_args(checkpoint_file, public_keys)

    def run(session: Session) -> ledger.VerifyReport:
        total = ledger.count_postings(session) if _interactive() else 0
        with _progress(total, "verifying postings") as update:
            return verify_against(session, checkpoint, anchors=anchors, progress=update)

    report = _with_session(run)
    if as_json:
        click.echo(json.dumps(report.to_dict(), indent=2, default=str))
    else:
        for violation in report.violations:
            where = ", ".join(
                f"{k}={v}" for k, v in violation.to_dict().items() if k not in ("check", "message")
            )
            click.echo(f"VIOLATION {violation.check}: {violation.message} ({where})")
        status = "OK" if report.ok else f"FAILED: {len(report.violations)} violation(s)"
        click.echo(
            f"ledger {status}; {report.journals} journals, {report.postings} postings, "
            f"{report.accounts} accounts, {len(report.chains)} chains "
            f"verified in {report.seconds:.2f} s"
        )
        for chain, head in sorted(report.chains.items()):
            click.echo(f"  chain {chain}: #{head['seq']} {head['head']}")
        if checkpoint is not None:
            found = [v for v in report.violations if v.check.startswith("checkpoint_")]
            click.echo(
                f"checkpoint {checkpoint.statement.seq} ({checkpoint.hash}): "
                + ("OK" if not found else f"FAILED: {len(found)} violation(s)")
            )
    if not report.ok:
        sys.exit(1)


@click.command("export-ledger")
@click.option(
    "--format", "fmt", type=click.Choice(["csv", "jsonl"]), default="jsonl", show_default=True,
    help="csv: one row per posting; jsonl: one journal (with postings) per line.",
)  # fmt: skip
@click.option("-o", "--output", type=click.File("w", encoding="utf-8", lazy=True), default="-")
def export_ledger(fmt: str, output: IO[str]) -> None:
    """Write every journal and posting, oldest first, as CSV or JSON Lines."""
    import ledger
    from exchange.services import ledger_ops

    def run(session: Session) -> int:
        ledger_ops.snapshot(session)
        total = ledger.count_postings(session) if _interactive() and output is not sys.stdout else 0
        written = 0
        with _progress(total, "exporting postings") as update:
            if fmt == "csv":
                writer = SafeDictWriter(output, fieldnames=EXPORT_COLUMNS, lineterminator="\n")
                writer.writeheader()
                for row in ledger_ops.export_rows(session):
                    writer.writerow(row)
                    written += 1
                    if written % 1000 == 0:
                        update(1000)
            else:
                for item in ledger_ops.export_journals(session):
                    output.write(json.dumps(item, ensure_ascii=False, default=str) + "\n")
                    written += "record" not in item  # state rows follow the journals
                    update(len(item.get("postings", ())))
        session.rollback()
        return written

    written = _with_session(run)
    if output is not sys.stdout:
        unit = "postings" if fmt == "csv" else "journals"
        click.echo(f"exported {written} {unit}", err=True)


@click.command("allocate")
@click.option(
    "--csv",
    "csv_file",
    type=click.File("r", encoding="utf-8-sig"),
    required=True,
    help="Columns: league, market, quantity[, reference] (header line first).",
)
@click.option("--actor", default="cli", show_default=True, help="Who allocates (journal actor).")
def allocate(csv_file: IO[str], actor: str) -> None:
    """Allocate rights in bulk from a CSV file: all rows in one transaction, or none."""
    from exchange.services import ledger_ops

    def run(session: Session) -> list[dict[str, Any]]:
        rows = ledger_ops.read_allocations_csv(csv_file)
        with _progress(len(rows), "allocating") as update:
            return ledger_ops.allocate_many(session, rows, actor=actor, progress=update)

    results = _with_session(run)
    total = sum(r["quantity"] for r in results)
    click.echo(f"allocated {len(results)} allocations, {total} units")


@click.command("deposit")
@click.option("--league", required=True, help="League code.")
@click.option("--amount", required=True, type=click.IntRange(min=1), help="Fen.")
@click.option("--reference", default=None)
@click.option("--actor", default="cli", show_default=True)
def deposit(league: str, amount: int, reference: str | None, actor: str) -> None:
    """Deposit cash (fen) to a league's cash account."""
    from exchange.services import ledger_ops
    from exchange.services.commands import Deposit

    result = _with_session(
        lambda s: ledger_ops.deposit(s, Deposit(league, amount, reference), actor=actor)
    )
    click.echo(f"deposited {amount} fen to {league}; available {result['available']} fen")


def register(group: click.Group) -> None:
    """Add the ledger's commands to the ``exchange`` script."""
    for command in (verify_ledger, export_ledger, allocate, deposit):
        group.add_command(command)
