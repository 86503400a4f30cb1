"""Signed checkpoints of every chain head, stored and checked by the ledger.

A checkpoint states every chain's head (name, seq, hash), the time, a reference
(what triggered it) and the previous checkpoint's hash, signed with Ed25519. Once
published, it lets anyone prove later that the ledger still holds everything it
held then: a chain behind a checkpoint, or a different journal at the stated
sequence, is a violation (see docs/ledger.md, "Checkpoints").

The caller passes the private key (loading it is the exchange's business: it is
never stored in the database) and owns the transaction, as everywhere in ``ledger``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import func, select, text, tuple_
from sqlalchemy.orm import Session

from ledger.checkpoint_models import Checkpoint, SigningKey
from ledger.hashing import GENESIS, format_timestamp
from ledger.models import Chain, Journal
from ledger.signing import (
    ChainHead,
    CheckpointStatement,
    KeyRecord,
    SignedCheckpoint,
    TrustedKey,
    key_id_of,
    key_statement,
    parse_statement,
    public_key_text,
    sign,
    signature_problems,
)
from ledger.verify_report import Violation

# Serialises checkpoint writers on PostgreSQL (SQLite writers are serialised anyway).
_LOCK_KEY = 0x4C45444745524350  # "LEDGERCP"
CHECKPOINT_CHECKS = ("checkpoint_signature", "checkpoint_behind", "checkpoint_head")


def chain_heads(session: Session) -> tuple[ChainHead, ...]:
    """The stored head of every chain, by name."""
    rows = session.execute(select(Chain.name, Chain.seq, Chain.head_hash))
    return tuple(sorted(ChainHead(name, seq, head) for name, seq, head in rows if seq > 0))


def signed(row: Checkpoint, public_key: str | None = None) -> SignedCheckpoint:
    """A stored checkpoint as a value."""
    return SignedCheckpoint(parse_statement(row.statement), row.hash, row.signature, public_key)


def latest(session: Session) -> Checkpoint | None:
    """The newest stored checkpoint."""
    return session.scalar(select(Checkpoint).order_by(Checkpoint.seq.desc()).limit(1))


def get(session: Session, seq: int) -> Checkpoint | None:
    """The stored checkpoint with this sequence number."""
    return session.get(Checkpoint, seq)


def list_checkpoints(session: Session, *, since: int = 0, limit: int = 100) -> list[Checkpoint]:
    """Checkpoints with ``seq > since``, oldest first."""
    query = select(Checkpoint).where(Checkpoint.seq > since).order_by(Checkpoint.seq).limit(limit)
    return list(session.scalars(query))


def covering(session: Session, reference: str) -> Checkpoint | None:
    """The first checkpoint made for ``reference`` (e.g. ``clearing_run:12``)."""
    query = (
        select(Checkpoint)
        .where(Checkpoint.reference == reference)
        .order_by(Checkpoint.seq)
        .limit(1)
    )
    return session.scalar(query)


def key_records(session: Session) -> list[SigningKey]:
    """Every registered public key, oldest first."""
    return list(session.scalars(select(SigningKey).order_by(SigningKey.created_at)))


def as_key_records(rows: Iterable[SigningKey]) -> list[KeyRecord]:
    """Stored keys as values for :func:`ledger.signing.trusted_keys`."""
    return [KeyRecord(r.statement, r.signature, r.predecessor_signature) for r in rows]


def public_keys(session: Session) -> dict[str, str]:
    """key id -> base64 public key of every registered key."""
    return {r.key_id: r.public_key for r in key_records(session)}


def register_key(
    session: Session,
    private_key: Ed25519PrivateKey,
    *,
    predecessor: Ed25519PrivateKey | str | None = None,
    now: datetime | None = None,
) -> SigningKey:
    """Record ``private_key``'s public key, signed by itself and (if given) its predecessor.

    ``predecessor`` is the old private key (it countersigns) or only its base64
    public key (when the old private key is lost). Idempotent for a known key.
    """
    public = public_key_text(private_key)
    existing = session.get(SigningKey, key_id_of(public))
    if existing is not None:
        return existing
    created = format_timestamp(now or datetime.now(UTC))
    old_public = (
        public_key_text(predecessor) if isinstance(predecessor, Ed25519PrivateKey) else predecessor
    )
    statement = key_statement(public, created, old_public)
    row = SigningKey(
        key_id=key_id_of(public),
        public_key=public,
        created_at=datetime.fromisoformat(created),
        predecessor=None if old_public is None else key_id_of(old_public),
        statement=statement,
        signature=sign(private_key, statement),
        predecessor_signature=(
            sign(predecessor, statement) if isinstance(predecessor, Ed25519PrivateKey) else None
        ),
    )
    session.add(row)
    session.flush()
    return row


def create_checkpoint(
    session: Session,
    private_key: Ed25519PrivateKey,
    *,
    reference: str,
    only_if_changed: bool = False,
    now: datetime | None = None,
) -> Checkpoint | None:
    """Sign and store a checkpoint of every chain head (None: nothing changed, if asked)."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _LOCK_KEY})
    previous = latest(session)
    heads = chain_heads(session)
    if only_if_changed and set(heads) == (
        set() if previous is None else set(parse_statement(previous.statement).heads)
    ):
        return None
    public = public_key_text(private_key)
    if session.get(SigningKey, key_id_of(public)) is None:
        register_key(session, private_key, now=now)
    moment = now or datetime.now(UTC)
    statement = CheckpointStatement(
        seq=1 if previous is None else previous.seq + 1,
        created_at=format_timestamp(moment),
        reference=reference,
        prev_hash=GENESIS if previous is None else previous.hash,
        key_id=key_id_of(public),
        heads=heads,
    )
    body = statement.text()
    row = Checkpoint(
        seq=statement.seq,
        created_at=datetime.fromisoformat(statement.created_at),
        reference=reference,
        prev_hash=statement.prev_hash,
        key_id=statement.key_id,
        statement=body,
        hash=statement.digest(),
        signature=sign(private_key, body),
    )
    session.add(row)
    session.flush()
    return row


def check_against_ledger(
    session: Session, checkpoint: SignedCheckpoint, trusted: Mapping[str, TrustedKey]
) -> list[Violation]:
    """Violations of the ledger (and of the signature) against one checkpoint."""
    found = [
        Violation("checkpoint_signature", problem, expected=checkpoint.statement.key_id)
        for problem in signature_problems(checkpoint, trusted)
    ]
    heads = checkpoint.statement.heads
    names = [h.name for h in heads]
    last_seq: dict[str, int] = {}
    hash_at: dict[tuple[str, int], str] = {}
    for start in range(0, len(heads), 500):
        part = heads[start : start + 500]
        maxima = session.execute(
            select(Journal.chain, func.max(Journal.seq))
            .where(Journal.chain.in_(names[start : start + 500]))
            .group_by(Journal.chain)
        )
        last_seq.update((chain, int(seq)) for chain, seq in maxima)
        rows = session.execute(
            select(Journal.chain, Journal.seq, Journal.hash).where(
                tuple_(Journal.chain, Journal.seq).in_([(h.name, h.seq) for h in part])
            )
        )
        for chain, seq, stored in rows:
            hash_at[(chain, seq)] = stored
    return found + compare_heads(checkpoint.statement.seq, heads, last_seq, hash_at)


def compare_heads(
    checkpoint_seq: int,
    heads: Sequence[ChainHead],
    last_seq: Mapping[str, int],
    hash_at: Mapping[tuple[str, int], str],
) -> list[Violation]:
    """Chains behind the checkpoint, or with another journal at its stated sequence."""
    found: list[Violation] = []
    for head in sorted(heads, key=lambda h: h.name):
        have = last_seq.get(head.name, 0)
        if have < head.seq:
            found.append(
                Violation(
                    "checkpoint_behind",
                    f"{head.name}: the ledger ends at #{have} but checkpoint {checkpoint_seq} "
                    f"covers #{head.seq}: journals #{have + 1}..#{head.seq} are missing",
                    chain=head.name,
                    expected=head.seq,
                    found=have,
                )
            )
            continue
        stored = hash_at.get((head.name, head.seq))
        if stored != head.head:
            found.append(
                Violation(
                    "checkpoint_head",
                    f"{head.name} #{head.seq}: the journal does not hash to the head stated "
                    f"by checkpoint {checkpoint_seq}",
                    chain=head.name,
                    expected=head.head,
                    found=stored or "missing",
                )
            )
    return found


def first_after(session: Session, moment: datetime) -> Checkpoint | None:
    """The first checkpoint made at or after ``moment``."""
    query = (
        select(Checkpoint).where(Checkpoint.created_at >= moment).order_by(Checkpoint.seq).limit(1)
    )
    return session.scalar(query)


def list_checkpoints_after(
    session: Session, moment: datetime, *, limit: int = 100
) -> list[Checkpoint]:
    """Checkpoints made after ``moment``, oldest first."""
    query = (
        select(Checkpoint)
        .where(Checkpoint.created_at > moment)
        .order_by(Checkpoint.seq)
        .limit(limit)
    )
    return list(session.scalars(query))
