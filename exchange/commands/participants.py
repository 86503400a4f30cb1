"""``exchange participants add``: the regulator registers the reserve or another province's
participant (e.g. Ningxia's Ningdong base), eligible in the markets of some families."""

from __future__ import annotations

import click

from exchange.models import ParticipantKind, Region


@click.group("participants")
def participants_group() -> None:
    """Participants beyond the 12 leagues."""


@participants_group.command("add")
@click.argument("code")
@click.option("--name-zh", required=True)
@click.option("--name-en", required=True)
@click.option("--kind", type=click.Choice(["reserve", "external"]), required=True)
@click.option("--province", default=None, help="Another province's participant: its province.")
@click.option("--region", type=click.Choice([r.value for r in Region]), default="west")
@click.option("--basin", "basins", multiple=True, help="Basin code (repeatable).")
@click.option("--family", "market_families", multiple=True, help="e.g. water:yellow (repeatable).")
def add_command(
    code: str,
    name_zh: str,
    name_en: str,
    kind: str,
    province: str | None,
    region: str,
    basins: tuple[str, ...],
    market_families: tuple[str, ...],
) -> None:
    """Register participant CODE, eligible in every market of each --family."""
    from exchange import create_app
    from exchange.errors import ExchangeError
    from exchange.extensions import db
    from exchange.services.participants import RegisterParticipant, register_participant
    from exchange.uow import new_unit_of_work

    command = RegisterParticipant(
        code, name_zh, name_en, ParticipantKind(kind), Region(region), province, basins,
        market_families,
    )  # fmt: skip
    app = create_app()
    try:
        with app.app_context(), new_unit_of_work(db.session_factory) as session:
            register_participant(session, command)
    except ExchangeError as exc:
        raise click.ClickException(f"{exc.field or 'participant'}: {exc.message}") from exc
    click.echo(f"participant {code} ({kind}) registered")


def register(group: click.Group) -> None:
    """Add ``exchange participants`` to the script."""
    group.add_command(participants_group)
