"""``exchange compliance close PERIOD --as-of DATE`` (and ``list``, ``status``).

``close`` takes the deadline snapshot of a period and records its penalties,
exactly once (a second call, or the scheduler's job, finds it closed and says so).
"""

from __future__ import annotations

import json
from datetime import date, datetime

import click
from sqlalchemy.orm import Session


@click.group("compliance")
def compliance_group() -> None:
    """Compliance cycles: close a period at its deadline, show statuses."""


@compliance_group.command("close")
@click.argument("period_id", metavar="PERIOD", type=click.IntRange(1, 2**31 - 1))
@click.option(
    "--as-of",
    "as_of",
    required=True,
    type=click.DateTime(formats=["%Y-%m-%d"]),
    help="The day of the snapshot (YYYY-MM-DD), on or after the surrender deadline.",
)
def close_command(period_id: int, as_of: datetime) -> None:
    """Freeze every league's status of PERIOD and record the penalties of shortfalls."""
    from exchange.commands.ledger import _with_session
    from exchange.compliance.closing import close_period
    from exchange.compliance.commands import ClosePeriod

    def run(session: Session) -> dict[str, object]:  # one unit of work (``_with_session``)
        return close_period(session, ClosePeriod(period_id, as_of.date(), "cli"))

    result = _with_session(run)
    if not result["closed"]:
        click.echo(f"period {period_id} was closed already (as of {result['as_of']})")
        return
    click.echo(json.dumps(result, indent=2))


@compliance_group.command("status")
@click.argument("period_id", metavar="PERIOD", type=click.IntRange(1, 2**31 - 1))
def status_command(period_id: int) -> None:
    """Print the statuses of PERIOD (JSON): live if open, the snapshot once closed."""
    from exchange.commands.ledger import _with_session
    from exchange.compliance.status import period_status

    result = _with_session(lambda s: period_status(s, period_id, date.today()))
    click.echo(json.dumps(result, indent=2, ensure_ascii=False))


def register(group: click.Group) -> None:
    """Add ``exchange compliance`` to the console script."""
    group.add_command(compliance_group)
