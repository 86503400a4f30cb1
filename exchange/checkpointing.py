"""Signed ledger checkpoints on the exchange side: the signing key, when to checkpoint.

The private key comes from ``EXCHANGE_SIGNING_KEY`` (a PEM text, or the path of a
PEM file) or else from ``<instance>/signing-key.pem``, created (mode 0600) by
``exchange init-db`` and ``exchange demo`` when absent. It is never stored in the
database. Checkpoints are made:

- after every clearing run (``checkpoint_after_settlement``; other lifecycles
  call the same function after they commit);
- by a scheduler job every ``EXCHANGE_CHECKPOINT_INTERVAL_SECONDS`` (default 300)
  when any chain head moved since the last checkpoint.

Building, signing and checking checkpoints is the ledger's (``ledger.checkpoints``).
"""

from __future__ import annotations

import logging
import os
import stat
from datetime import datetime
from pathlib import Path
from typing import Any

from apscheduler.schedulers.base import BaseScheduler
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    NoEncryption,
    PrivateFormat,
    load_pem_private_key,
)
from flask import Flask
from sqlalchemy.orm import Session, sessionmaker

from exchange.db import close_quietly
from exchange.uow import unit_of_work
from ledger import checkpoints as ledger_checkpoints
from ledger.checkpoint_models import Checkpoint
from ledger.signing import SignedCheckpoint, public_key_text
from ledger.verify_report import VerifyReport

KEY_FILE = "signing-key.pem"
INFO_KEY = "exchange.signing"
DEFAULT_INTERVAL_SECONDS = 300
log = logging.getLogger("exchange.checkpoints")


class SigningKeyError(Exception):
    """The configured signing key cannot be read or is not an Ed25519 private key."""


class KeyRing:
    """Where the signing key comes from; loads it on first use (it may be created later)."""

    def __init__(self, configured: str | None, instance_path: str) -> None:
        self.configured = configured or None
        self.instance_path = instance_path
        self._key: Ed25519PrivateKey | None = None

    @property
    def path(self) -> Path | None:
        """The key file, or None when the key is given inline as PEM text."""
        if self.configured is None:
            return Path(self.instance_path) / KEY_FILE
        if "-----BEGIN" in self.configured:
            return None
        return Path(self.configured)

    def load(self) -> Ed25519PrivateKey | None:
        """The private key, or None when no key is configured and none was created."""
        if self._key is not None:
            return self._key
        path = self.path
        if path is None:
            assert self.configured is not None
            data = self.configured.encode("utf-8")
        elif not path.exists():
            if self.configured is not None:
                raise SigningKeyError(f"EXCHANGE_SIGNING_KEY: no such file {path}")
            return None
        else:
            if path.stat().st_mode & 0o077:
                log.warning("signing key %s is readable by others; chmod 600 it", path)
            data = path.read_bytes()
        self._key = parse_private_key(data)
        return self._key

    def forget(self) -> None:
        """Drop the cached key (after a rotation)."""
        self._key = None


def parse_private_key(data: bytes) -> Ed25519PrivateKey:
    """An Ed25519 private key from PEM (PKCS#8, unencrypted); SigningKeyError otherwise."""
    try:
        key = load_pem_private_key(data, password=None)
    except (ValueError, TypeError) as exc:
        raise SigningKeyError(f"the signing key is not a readable PEM private key: {exc}") from None
    if not isinstance(key, Ed25519PrivateKey):
        raise SigningKeyError("the signing key is not an Ed25519 key")
    return key


def write_key_file(path: Path, key: Ed25519PrivateKey) -> None:
    """Write ``key`` as PEM to ``path`` with mode 0600 (atomically replacing it)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    pem = key.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption())
    temporary = path.with_name(path.name + ".new")
    if temporary.exists():
        temporary.unlink()
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, stat.S_IRUSR | stat.S_IWUSR)
    with os.fdopen(fd, "wb") as out:
        out.write(pem)
    os.replace(temporary, path)


def init_checkpoints(app: Flask) -> None:
    """Attach the key ring to the app and to every session it makes (``session.info``)."""
    ring = KeyRing(app.config.get("SIGNING_KEY"), app.instance_path)
    app.extensions[INFO_KEY] = ring
    for name in ("sessions", "read_sessions"):
        app.extensions["exchange.db"][name].configure(info={INFO_KEY: ring})


def key_ring(app: Flask) -> KeyRing:
    """The app's key ring."""
    ring: KeyRing = app.extensions[INFO_KEY]
    return ring


def ensure_signing_key(app: Flask) -> tuple[Path | None, bool]:
    """Create the key file if it does not exist yet; (its path, whether it was created)."""
    ring = key_ring(app)
    path = ring.path
    if path is None or path.exists():
        return path, False
    write_key_file(path, Ed25519PrivateKey.generate())
    ring.forget()
    return path, True


def checkpoint_now(
    session: Session, *, reference: str, only_if_changed: bool = False
) -> Checkpoint | None:
    """Sign a checkpoint in the caller's transaction; None without a key (or no change)."""
    ring: KeyRing | None = session.info.get(INFO_KEY)
    key = None if ring is None else ring.load()
    if key is None:
        log.debug("no signing key configured: no checkpoint for %s", reference)
        return None
    return ledger_checkpoints.create_checkpoint(
        session, key, reference=reference, only_if_changed=only_if_changed
    )


def checkpoint_after_settlement(
    factory: sessionmaker[Session], reference: str, *, only_if_changed: bool = False
) -> int | None:
    """Checkpoint in a transaction of its own after a lifecycle committed; never raises.

    Returns the checkpoint's sequence number (None: no key, nothing changed, or it
    failed, which is logged; the scheduled job catches up within the interval).
    """
    session = factory()
    try:
        with unit_of_work(session):
            row = checkpoint_now(session, reference=reference, only_if_changed=only_if_changed)
            return None if row is None else row.seq
    except Exception:
        log.exception("checkpoint after %s failed", reference)
        return None
    finally:
        close_quietly(session)


def to_json(row: Checkpoint, session: Session) -> dict[str, Any]:
    """A stored checkpoint as the API returns it (with its key's public key)."""
    public = ledger_checkpoints.public_keys(session).get(row.key_id)
    from ledger.signing import checkpoint_to_json

    return {"id": row.seq, **checkpoint_to_json(ledger_checkpoints.signed(row, public))}


def run_checkpoint(session: Session, run_id: int, finished_at: datetime | None) -> Any:
    """``{seq, hash}`` of the checkpoint covering a clearing run (None if none yet).

    The checkpoint made for the run, else the first one made after it finished.
    """
    row = ledger_checkpoints.covering(session, f"clearing_run:{run_id}")
    if row is None and finished_at is not None:
        row = ledger_checkpoints.first_after(session, finished_at)
    return None if row is None else {"id": row.seq, "seq": row.seq, "hash": row.hash}


def trust_anchors(session: Session, extra: list[str] | None = None) -> list[str]:
    """Public keys the exchange trusts: its own key's, and any given (e.g. --public-key)."""
    anchors = list(extra or [])
    ring: KeyRing | None = session.info.get(INFO_KEY)
    if not anchors and ring is not None:
        try:
            key = ring.load()
        except SigningKeyError as exc:  # verify anyway; the checkpoint's own key is used
            log.warning("cannot load the signing key to pin it: %s", exc)
            key = None
        if key is not None:
            anchors.append(public_key_text(key))
    return anchors


def check(
    session: Session, checkpoint: SignedCheckpoint, anchors: list[str]
) -> list[ledger_checkpoints.Violation]:
    """Violations of the ledger and signature against ``checkpoint`` (in the caller's snapshot)."""
    from ledger.signing import trusted_keys

    records = ledger_checkpoints.as_key_records(ledger_checkpoints.key_records(session))
    if not anchors and checkpoint.public_key is not None:
        anchors = [checkpoint.public_key]  # nothing pinned: the checkpoint's own key
    return ledger_checkpoints.check_against_ledger(
        session, checkpoint, trusted_keys(anchors, records)
    )


def interval_checkpoint(factory: sessionmaker[Session]) -> int | None:
    """The periodic checkpoint: only when some chain head moved since the last one."""
    return checkpoint_after_settlement(factory, "schedule", only_if_changed=True)


def install_checkpoint_job(app: Flask, scheduler: BaseScheduler) -> None:
    """Every ``CHECKPOINT_INTERVAL_SECONDS``: a checkpoint if anything changed."""
    scheduler.add_job(
        interval_checkpoint,
        "interval",
        seconds=app.config.get("CHECKPOINT_INTERVAL_SECONDS", DEFAULT_INTERVAL_SECONDS),
        id="ledger-checkpoint",
        name="ledger checkpoint",
        kwargs={"factory": app.extensions["exchange.db"]["sessions"]},
        replace_existing=True,
    )


def read_public_key(text: str) -> str:
    """A public key given as PEM (SubjectPublicKeyInfo) or base64 raw bytes -> base64 raw."""
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
    from cryptography.hazmat.primitives.serialization import load_pem_public_key

    from ledger.signing import key_id_of

    text = text.strip()
    if text.startswith("-----BEGIN"):
        try:
            key = load_pem_public_key(text.encode("ascii"))
        except ValueError as exc:
            raise SigningKeyError(f"not a PEM public key: {exc}") from None
        if not isinstance(key, Ed25519PublicKey):
            raise SigningKeyError("not an Ed25519 public key")
        return public_key_text(key)
    try:
        key_id_of(text)
    except ValueError:
        raise SigningKeyError("a public key is PEM or base64 of 32 raw bytes") from None
    return text


def load_checkpoint_args(
    checkpoint_file: Any, public_key_files: Any
) -> tuple[SignedCheckpoint | None, list[str]]:
    """Parse ``--checkpoint FILE`` and ``--public-key FILE`` options (ClickException if bad)."""
    import json

    import click

    from ledger.signing import checkpoint_from_json

    checkpoint = None
    if checkpoint_file is not None:
        try:
            checkpoint = checkpoint_from_json(json.loads(checkpoint_file.read()))
        except ValueError as exc:  # json.JSONDecodeError is a ValueError
            raise click.BadParameter(str(exc), param_hint="--checkpoint") from None
    try:
        anchors = [read_public_key(f.read()) for f in public_key_files]
    except SigningKeyError as exc:
        raise click.BadParameter(str(exc), param_hint="--public-key") from None
    return checkpoint, anchors


CHECKPOINT_PREFIX = "checkpoint_"


def job_checkpoint(session: Session, param: Any) -> SignedCheckpoint | None:
    """The checkpoint a verification job checks against: ``"latest"`` stored, or an upload."""
    from ledger.signing import checkpoint_from_json

    if param is None:
        return None
    if param == "latest":
        row = ledger_checkpoints.latest(session)
        session.rollback()
        if row is None:
            return None
        return ledger_checkpoints.signed(
            row, ledger_checkpoints.public_keys(session).get(row.key_id)
        )
    return checkpoint_from_json(param)


def job_result(checkpoint: SignedCheckpoint | None, report: VerifyReport, source: Any) -> Any:
    """The checkpoint part of a verification job's result (None when there was none)."""
    if checkpoint is None:
        return None if source is None else {"source": source, "seq": None, "ok": True}
    found = [v.to_dict() for v in report.violations if v.check.startswith(CHECKPOINT_PREFIX)]
    return {
        "source": "latest" if source == "latest" else "uploaded",
        "seq": checkpoint.statement.seq,
        "hash": checkpoint.hash,
        "key_id": checkpoint.statement.key_id,
        "created_at": checkpoint.statement.created_at,
        "ok": not found,
        "violations": found[:100],
        "count": len(found),
    }


def uploaded_checkpoint(upload: Any) -> tuple[Any, str | None]:
    """A checkpoint file from a form: ("latest", None) if none, (JSON, None) or (None, why)."""
    import json

    from ledger.signing import checkpoint_from_json

    if upload is None or not upload.filename:
        return "latest", None
    raw = upload.read(2 * 1024 * 1024 + 1)
    if len(raw) > 2 * 1024 * 1024:
        return None, "the checkpoint file is larger than 2 MiB"
    try:
        data = json.loads(raw.decode("utf-8"))
        checkpoint_from_json(data)
    except (UnicodeDecodeError, ValueError) as exc:
        return None, f"not a checkpoint as the API returns it: {exc}"
    return data, None
