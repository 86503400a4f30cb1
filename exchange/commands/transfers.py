"""``exchange transfers roll --date YYYY-MM-DD``: do what transfers have due on a date."""

from __future__ import annotations

from datetime import UTC, datetime

import click

OPERATOR = "cli"


@click.group("transfers")
def transfers_group() -> None:
    """Negotiated term transfers of water."""


@transfers_group.command("roll")
@click.option(
    "--date",
    "on",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    default=None,
    help="The day to roll (UTC; default today). Idempotent: a delivered year never repeats.",
)
def roll_command(on: datetime | None) -> None:
    """Deliver every active transfer's years due by the end of DATE; record defaults."""
    from exchange import create_app
    from exchange.services.transfer_jobs import run_roll

    day = (on or datetime.now(UTC)).date()
    result = run_roll(create_app(), day, OPERATOR)
    click.echo(
        f"{day.isoformat()}: {len(result.delivered)} delivered, "
        f"{len(result.secured)} secured, {len(result.defaulted)} defaulted, "
        f"{len(result.completed)} completed"
    )
    for transfer_id, year in result.delivered:
        click.echo(f"  transfer {transfer_id}: {year} delivered")
    for transfer_id in result.defaulted:
        click.echo(f"  transfer {transfer_id}: in default (the regulator's console lists it)")


def register(group: click.Group) -> None:
    """Add ``exchange transfers`` to the script."""
    group.add_command(transfers_group)
