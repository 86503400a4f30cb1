"""``exchange checkpoint`` and ``exchange rotate-signing-key``.

``verify-ledger --checkpoint FILE`` lives with the other ledger commands.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import IO, Any

import click
from sqlalchemy.orm import Session


@click.command("checkpoint")
@click.option("--latest", is_flag=True, help="Print the newest stored checkpoint; sign none.")
@click.option("--reference", default="manual", show_default=True, help="Why (signed).")
@click.option("-o", "--output", type=click.File("w", encoding="utf-8"), default="-")
def checkpoint(latest: bool, reference: str, output: IO[str]) -> None:
    """Sign a checkpoint of every chain head now and print it (JSON, as the API returns it)."""
    from exchange.checkpointing import SigningKeyError, checkpoint_now, to_json
    from exchange.commands.ledger import _with_session
    from exchange.uow import unit_of_work
    from ledger import checkpoints as ledger_checkpoints

    if "|" in reference or not reference.isprintable() or not 0 < len(reference) <= 100:
        raise click.BadParameter("1-100 printable characters without '|'", param_hint="reference")

    def run(session: Session) -> dict[str, Any]:
        if latest:
            row = ledger_checkpoints.latest(session)
            if row is None:
                raise click.ClickException("no checkpoint yet")
        else:
            try:
                with unit_of_work(session):
                    row = checkpoint_now(session, reference=reference)
            except SigningKeyError as exc:
                raise click.ClickException(str(exc)) from None
            if row is None:
                raise click.ClickException(
                    "no signing key: run `exchange init-db` or set EXCHANGE_SIGNING_KEY"
                )
        return to_json(row, session)

    output.write(json.dumps(_with_session(run), indent=2) + "\n")


@click.command("rotate-signing-key")
@click.option(
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Write the new private key here (default: replace the configured key file).",
)
@click.option(
    "--old-public-key",
    type=click.File("r"),
    default=None,
    help="The old public key (PEM or base64), when the old private key is lost.",
)
def rotate_signing_key(output: Path | None, old_public_key: IO[str] | None) -> None:
    """Replace the checkpoint signing key; the new key names the old one (both sign)."""
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    from exchange import create_app
    from exchange.checkpointing import (
        SigningKeyError,
        key_ring,
        read_public_key,
        write_key_file,
    )
    from exchange.extensions import db
    from exchange.uow import unit_of_work
    from ledger import checkpoints as ledger_checkpoints
    from ledger.signing import key_id_of, public_key_text

    app = create_app()
    ring = key_ring(app)
    try:
        old = None if old_public_key is not None else ring.load()
        predecessor: Ed25519PrivateKey | str | None = (
            read_public_key(old_public_key.read()) if old_public_key is not None else old
        )
    except SigningKeyError as exc:
        raise click.ClickException(str(exc)) from None
    if predecessor is None:
        raise click.ClickException("no current key to rotate: run `exchange init-db` first")
    target = output or ring.path
    if target is None:
        raise click.ClickException("the key is given inline (EXCHANGE_SIGNING_KEY): use --output")
    new = Ed25519PrivateKey.generate()
    staged = target.with_name(target.name + ".rotating")
    write_key_file(staged, new)
    try:
        with app.app_context():
            session = db.session_factory()
            try:
                with unit_of_work(session):
                    if old is not None:
                        ledger_checkpoints.create_checkpoint(
                            session, old, reference="key-rotation:retiring"
                        )
                    ledger_checkpoints.register_key(session, new, predecessor=predecessor)
                    row = ledger_checkpoints.create_checkpoint(
                        session, new, reference="key-rotation:new"
                    )
                    assert row is not None
                    seq = row.seq
            finally:
                session.close()
        staged.replace(target)
    except BaseException:
        staged.unlink(missing_ok=True)
        raise
    finally:
        app.extensions["exchange.db"]["engine"].dispose()
    ring.forget()
    old_text = public_key_text(old) if old is not None else str(predecessor)
    click.echo(f"old key {key_id_of(old_text)}")
    click.echo(f"new key {key_id_of(public_key_text(new))} written to {target} (mode 0600)")
    click.echo(f"checkpoint {seq} signed with the new key")
    if output is not None and ring.path != output:
        click.echo("point EXCHANGE_SIGNING_KEY at the new key file and restart the exchange")


def register(group: click.Group) -> None:
    """Add the checkpoint commands to the ``exchange`` script."""
    group.add_command(checkpoint)
    group.add_command(rotate_signing_key)
