"""``exchange compensation settle`` and ``settle-due``: ecological compensation by hand."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

if TYPE_CHECKING:
    from exchange.compensation.settlement import SettleOutcome

OPERATOR = "cli"


def _echo(outcome: SettleOutcome) -> None:
    s = outcome.settlement
    state = "settled" if outcome.created else "already settled"
    direction = f"{s.payer} -> {s.payee}" if s.payer else "no payment"
    click.echo(
        f"agreement {s.agreement_id} period {s.period} ({state}): total {s.total} fen, "
        f"{direction}; class term {s.class_term}, index term {s.index_term}; "
        f"from deposit {s.from_deposit}, from cash {s.from_cash}, claim {s.claimed}"
    )


@click.group("compensation")
def compensation() -> None:
    """Ecological compensation between upstream and downstream leagues."""


@compensation.command("settle")
@click.argument("agreement", type=click.IntRange(1, 2**31 - 1))
@click.argument("period")
def settle(agreement: int, period: str) -> None:
    """Settle PERIOD (YYYY or YYYY-MM) of AGREEMENT (id) once; a repeat shows the first."""
    from exchange import create_app
    from exchange.compensation.commands import Settle
    from exchange.compensation.settlement import run_settlement
    from exchange.errors import ExchangeError
    from exchange.extensions import db

    app = create_app()
    try:
        with app.app_context():
            try:
                outcome = run_settlement(
                    db.session_factory, Settle(agreement, period, actor=OPERATOR)
                )
            except ExchangeError as err:
                raise click.ClickException(err.message) from None
            _echo(outcome)
    finally:
        app.extensions["exchange.db"]["engine"].dispose()


@compensation.command("settle-due")
def settle_due() -> None:
    """What the scheduler does: settle every closed period whose readings are complete,
    collect open claims, return the deposits of agreements whose term is settled."""
    from exchange import create_app
    from exchange.compensation.jobs import collect_due, release_due
    from exchange.compensation.jobs import settle_due as run
    from exchange.extensions import db

    app = create_app()
    try:
        with app.app_context():
            outcomes = run(db.session_factory, actor=OPERATOR)
            for outcome in outcomes:
                _echo(outcome)
            click.echo(f"{sum(o.created for o in outcomes)} period(s) settled")
            collected = collect_due(db.session_factory, actor=OPERATOR)
            click.echo(f"{len(collected)} payment(s) on claims")
            for agreement_id, sides in release_due(db.session_factory, actor=OPERATOR).items():
                click.echo(f"agreement {agreement_id}: deposits returned {sides} (fen)")
    finally:
        app.extensions["exchange.db"]["engine"].dispose()


@compensation.command("collect-claims")
def collect_claims() -> None:
    """Pay what debtors can pay now of their open claims (deposit first, then cash)."""
    from exchange import create_app
    from exchange.compensation.jobs import collect_due
    from exchange.extensions import db

    app = create_app()
    try:
        with app.app_context():
            collected = collect_due(db.session_factory, actor=OPERATOR)
            for item in collected:
                click.echo(
                    f"claim {item.claim_id}: paid {item.amount} fen (journal {item.journal_id})"
                )
            click.echo(f"{len(collected)} payment(s) on claims")
    finally:
        app.extensions["exchange.db"]["engine"].dispose()


def register(group: click.Group) -> None:
    """Add the compensation commands to the console script."""
    group.add_command(compensation)
