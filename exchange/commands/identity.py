"""``exchange create-user`` and ``exchange create-token``."""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import TypeVar

import click
from sqlalchemy.orm import Session

from exchange.errors import ExchangeError
from exchange.models import Role

T = TypeVar("T")


def _run(command_line: str, action: Callable[[Session], T]) -> T:
    """Run ``action(session)`` in an app context, log it, turn domain errors into CLI errors."""
    from exchange import create_app
    from exchange.extensions import db
    from exchange.identity.action_log import record_cli_action
    from exchange.uow import new_unit_of_work

    app = create_app()
    with app.app_context():
        try:
            with new_unit_of_work(db.session_factory) as session:
                result = action(session)
                record_cli_action(session, command_line)  # logged with the command's work
                return result
        except ExchangeError as err:
            raise click.ClickException(err.message) from None


@click.command("create-user")
@click.argument("username")
@click.option(
    "--role", required=True, type=click.Choice([r.value for r in Role]), help="Role of the user."
)
@click.option("--league", default=None, help="League code (league role only).")
@click.option("--password", default=None, help="Password (visible in the shell history).")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
@click.option("--api-only", is_flag=True, help="No password: the user uses API tokens only.")
def create_user(
    username: str,
    role: str,
    league: str | None,
    password: str | None,
    password_stdin: bool,
    api_only: bool,
) -> None:
    """Create a user with a role (and, for the league role, a league)."""
    from exchange.identity import service

    if sum([password is not None, password_stdin, api_only]) > 1:
        raise click.UsageError("give one of --password, --password-stdin, --api-only")
    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    elif password is None and not api_only:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)

    user = _run(
        f"exchange create-user {username} --role {role}",
        lambda session: service.create_user(
            session, username=username, role=Role(role), league_code=league, password=password
        ),
    )
    click.echo(f"created user {user.username} (id {user.id}, {role})")


@click.command("create-token")
@click.argument("username")
@click.option("--days", default=90, show_default=True, type=click.IntRange(1, 366))
@click.option("--name", default="cli", show_default=True, help="A label for the token.")
def create_token(username: str, days: int, name: str) -> None:
    """Create an API token for a user and print it (shown once; only its hash is stored)."""
    from exchange.identity import service

    def action(session: Session) -> service.NewToken:
        user = service.find_user(session, username)
        if user is None:
            raise click.ClickException(f"no user named {username!r}")
        return service.create_token(session, user.id, days=days, name=name)

    new = _run(f"exchange create-token {username} --days {days}", action)
    click.echo(new.secret)
    expires = f"{new.token.expires_at:%Y-%m-%d %H:%M}"
    click.echo(
        f"token {new.token.id} for {username}, expires {expires} UTC; shown only this once",
        err=True,
    )


def register(group: click.Group) -> None:
    """Add the identity commands to the ``exchange`` group."""
    group.add_command(create_user)
    group.add_command(create_token)
