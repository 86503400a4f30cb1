"""``exchange clear`` and ``exchange replay``: clearing runs from the command line."""

from __future__ import annotations

from datetime import UTC, datetime

import click
from flask import Flask

from exchange.models.trading import RunTrigger

OPERATOR = "cli"


def _market_id(app: Flask, market: str) -> int:
    from exchange.extensions import db
    from exchange.services import registry

    with app.app_context():
        session = db.session_factory()
        try:
            if market.isdigit():
                return registry.get_market(session, int(market)).id
            return registry.get_market_by_code(session, market).id
        finally:
            session.close()


@click.command("clear")
@click.argument("market")
@click.option(
    "--window",
    type=click.DateTime(formats=["%Y-%m-%dT%H:%M:%S", "%Y-%m-%dT%H:%M"]),
    help="Window to clear, UTC (default: now).",
)
def clear_command(market: str, window: datetime | None) -> None:
    """Clear MARKET (id or code) now: one run per (market, window)."""
    from exchange import create_app
    from exchange.errors import ExchangeError, InvalidInput, NotFound
    from exchange.extensions import db
    from exchange.mechanisms.call_auction.run import get_run, run_clearing
    from exchange.services import registry, windows

    app = create_app()
    try:
        market_id = _market_id(app, market)
    except NotFound as exc:
        raise click.ClickException(exc.message) from exc
    when = window.replace(tzinfo=UTC) if window else datetime.now(UTC)
    with app.app_context():
        if window is not None:  # a past window of the market's schedule, nothing else
            session = db.session_factory()
            try:
                schedule = registry.get_market(session, market_id).clearing_schedule
                when = windows.check_window(schedule, when, datetime.now(UTC))
            except InvalidInput as exc:
                raise click.ClickException(exc.message) from exc
            finally:
                session.close()
        try:
            outcome = run_clearing(
                db.session_factory, market_id, when, trigger=RunTrigger.MANUAL, actor=OPERATOR
            )
        except ExchangeError as exc:
            raise click.ClickException(exc.message) from exc
        session = db.session_factory()
        try:
            run = get_run(session, outcome.run_id)
            state = "cleared" if outcome.created else "already cleared"
            click.echo(
                f"run {run.id} ({state}): {run.status.value}, window {run.window.isoformat()}, "
                f"orders {run.order_count}, volume {run.volume}, price {run.price}"
                + (f", zone prices {run.zone_prices}" if run.zone_prices else "")
                + (f"\nfailure: {run.failure_reason}" if run.failure_reason else "")
                + (f"\ncancelled: {run.cancellation}" if run.cancellation else "")
                + (f"\nreserves: {run.reserves}" if run.reserves else "")
            )
            failed = run.failure_reason is not None
        finally:
            session.close()
    if failed:
        raise SystemExit(1)


@click.command("replay")
@click.argument("run_id", type=int)
def replay_command(run_id: int) -> None:
    """Re-clear RUN from its snapshot and compare with the record (exit 1 on a difference)."""
    from exchange import create_app
    from exchange.errors import NotFound
    from exchange.extensions import db
    from exchange.services.replay import replay_run

    app = create_app()
    with app.app_context():
        session = db.session_factory()
        try:
            report = replay_run(session, run_id)
        except NotFound as exc:
            raise click.ClickException(exc.message) from exc
        finally:
            session.close()
    if report.ok:
        click.echo(f"run {run_id}: replay matches (result {report.result_hash})")
        return
    click.echo(f"run {run_id}: AUDIT FAILURE, {len(report.differences)} differences", err=True)
    for line in report.differences:
        click.echo(f"  {line}", err=True)
    raise SystemExit(1)


@click.command("replay-session")
@click.argument("market")
@click.argument("day", type=click.DateTime(formats=["%Y-%m-%d"]))
def replay_session_command(market: str, day: datetime) -> None:
    """Re-run MARKET's recorded order flow up to DAY (YYYY-MM-DD, Beijing) through the
    book and compare the day's trades with the record (exit 1 on a difference)."""
    from exchange import create_app
    from exchange.errors import NotFound
    from exchange.extensions import db
    from exchange.mechanisms.continuous.replay import replay_session

    app = create_app()
    mid = _market_id(app, market)
    with app.app_context():
        session = db.session_factory()
        try:
            report = replay_session(session, mid, day.date())
        except NotFound as exc:
            raise click.ClickException(exc.message) from exc
        finally:
            session.close()
    label = f"market {market} on {day.date().isoformat()}"
    if report.ok:
        click.echo(
            f"{label}: replay of {report.events} events matches "
            f"{len(report.recorded)} trades (result {report.result_hash})"
        )
        return
    click.echo(f"{label}: AUDIT FAILURE, {len(report.differences)} differences", err=True)
    for line in report.differences:
        click.echo(f"  {line}", err=True)
    raise SystemExit(1)


def register(group: click.Group) -> None:
    """Add the trading commands to the ``exchange`` script."""
    group.add_command(clear_command)
    group.add_command(replay_command)
    group.add_command(replay_session_command)
