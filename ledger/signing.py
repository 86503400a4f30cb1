"""Canonical forms of checkpoints and key statements; Ed25519 signing and trust (pure).

No database here: values in, values out. See docs/ledger.md, "Checkpoints", for the
forms an auditor re-implements:

checkpoint statement (UTF-8, lines joined by ``\\n``, no trailing newline)::

    checkpoint-v1|<seq>|<created_at>|<reference>|<prev_hash>|<key_id>
    <chain>|<seq>|<head hash>          one line per chain, sorted by code point

key statement::

    key-v1|<key_id>|<public key>|<created_at>|<predecessor key_id>|<predecessor public key>

``key_id = hex(sha256(raw 32-byte public key))``; public keys and signatures are
standard base64 (with padding) of the raw bytes; the signature is Ed25519 over the
statement's UTF-8 bytes; ``hash = hex(sha256(statement))``.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from ledger.hashing import GENESIS

CHECKPOINT_VERSION = "checkpoint-v1"
KEY_VERSION = "key-v1"
HEX64 = frozenset("0123456789abcdef")


@dataclass(frozen=True, slots=True, order=True)
class ChainHead:
    """The last journal of one chain: its sequence number and hash."""

    name: str
    seq: int
    head: str


@dataclass(frozen=True, slots=True)
class CheckpointStatement:
    """What a checkpoint states; :meth:`text` is what is hashed and signed."""

    seq: int
    created_at: str
    reference: str
    prev_hash: str
    key_id: str
    heads: tuple[ChainHead, ...]

    def text(self) -> str:
        """The canonical statement."""
        header = (
            f"{CHECKPOINT_VERSION}|{self.seq}|{self.created_at}|{self.reference}|"
            f"{self.prev_hash}|{self.key_id}"
        )
        lines = sorted(f"{h.name}|{h.seq}|{h.head}" for h in self.heads)
        return "\n".join([header, *lines])

    def digest(self) -> str:
        """``hex(sha256(text))``: the checkpoint's hash (the next one's ``prev_hash``)."""
        return sha256_hex(self.text())


@dataclass(frozen=True, slots=True)
class SignedCheckpoint:
    """A statement with its claimed hash, signature and (optionally) embedded public key."""

    statement: CheckpointStatement
    hash: str
    signature: str
    public_key: str | None = None


@dataclass(frozen=True, slots=True)
class KeyRecord:
    """A key statement with the signature of the key itself and of its predecessor."""

    statement: str
    signature: str
    predecessor_signature: str | None = None


@dataclass(frozen=True, slots=True)
class KeyFields:
    """The fields of a key statement."""

    key_id: str
    public_key: str
    created_at: str
    predecessor: str | None
    predecessor_public_key: str | None


@dataclass(frozen=True, slots=True)
class TrustedKey:
    """A key the verifier trusts, and until when (the time its successor took over)."""

    key_id: str
    public_key: str
    valid_until: str | None = None


def sha256_hex(text: str) -> str:
    """Lower-case hex SHA-256 of the UTF-8 text."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def raw_public_key(key: Ed25519PrivateKey | Ed25519PublicKey) -> bytes:
    """The 32 raw bytes of a public key."""
    public = key.public_key() if isinstance(key, Ed25519PrivateKey) else key
    return public.public_bytes(Encoding.Raw, PublicFormat.Raw)


def public_key_text(key: Ed25519PrivateKey | Ed25519PublicKey) -> str:
    """Base64 of the raw public key."""
    return base64.b64encode(raw_public_key(key)).decode("ascii")


def key_id_of(public_key: str) -> str:
    """``hex(sha256(raw public key))`` from the base64 form; ValueError if malformed."""
    return hashlib.sha256(_b64(public_key, 32)).hexdigest()


def sign(private_key: Ed25519PrivateKey, text: str) -> str:
    """Base64 Ed25519 signature of the UTF-8 text."""
    return base64.b64encode(private_key.sign(text.encode("utf-8"))).decode("ascii")


def signature_ok(public_key: str, text: str, signature: str) -> bool:
    """True when ``signature`` is the Ed25519 signature of ``text`` under ``public_key``."""
    try:
        key = Ed25519PublicKey.from_public_bytes(_b64(public_key, 32))
        key.verify(_b64(signature, 64), text.encode("utf-8"))
    except (ValueError, InvalidSignature):
        return False
    return True


def key_statement(
    public_key: str, created_at: str, predecessor_public_key: str | None = None
) -> str:
    """The statement introducing ``public_key`` (and naming the key it replaces)."""
    predecessor = "" if predecessor_public_key is None else key_id_of(predecessor_public_key)
    return (
        f"{KEY_VERSION}|{key_id_of(public_key)}|{public_key}|{created_at}|{predecessor}|"
        f"{predecessor_public_key or ''}"
    )


def parse_key_statement(text: str) -> KeyFields:
    """The fields of a key statement; ValueError if it is not one."""
    parts = text.split("|")
    if len(parts) != 6 or parts[0] != KEY_VERSION:
        raise ValueError("not a key-v1 statement")
    _v, key_id, public_key, created_at, predecessor, predecessor_public = parts
    if key_id_of(public_key) != key_id:
        raise ValueError("key id does not match the public key")
    if bool(predecessor) != bool(predecessor_public) or (
        predecessor and key_id_of(predecessor_public) != predecessor
    ):
        raise ValueError("predecessor id does not match its public key")
    return KeyFields(
        key_id, public_key, created_at, predecessor or None, predecessor_public or None
    )


def trusted_keys(anchors: Iterable[str], records: Iterable[KeyRecord]) -> dict[str, TrustedKey]:
    """Keys trusted from the pinned ``anchors`` (public keys) by following key statements.

    A statement signed by a trusted key naming its predecessor makes the predecessor
    trusted until the statement's time (backward); a statement countersigned by a
    trusted predecessor makes the new key trusted (forward). A key's validity ends at
    the time of the first valid statement naming it as predecessor.
    """
    trusted = {key_id_of(a): a for a in anchors}
    valid: list[tuple[KeyFields, KeyRecord]] = []
    for record in records:
        try:
            fields = parse_key_statement(record.statement)
        except ValueError:
            continue
        if signature_ok(fields.public_key, record.statement, record.signature):
            valid.append((fields, record))
    changed = True
    while changed:
        changed = False
        for fields, record in valid:
            old, old_public = fields.predecessor, fields.predecessor_public_key
            if old is None or old_public is None:
                continue
            if fields.key_id in trusted and old not in trusted:
                trusted[old] = old_public
                changed = True
            elif (
                old in trusted
                and fields.key_id not in trusted
                and record.predecessor_signature is not None
                and signature_ok(old_public, record.statement, record.predecessor_signature)
            ):
                trusted[fields.key_id] = fields.public_key
                changed = True
    until: dict[str, str] = {}
    for fields, _record in valid:
        if fields.predecessor in trusted and fields.key_id in trusted:
            previous = until.get(fields.predecessor)
            if previous is None or fields.created_at < previous:
                until[fields.predecessor] = fields.created_at
    return {k: TrustedKey(k, pub, until.get(k)) for k, pub in trusted.items()}


def signature_problems(
    checkpoint: SignedCheckpoint, trusted: Mapping[str, TrustedKey]
) -> list[str]:
    """Why a checkpoint's signature does not hold (empty when it does)."""
    statement = checkpoint.statement
    problems: list[str] = []
    if statement.digest() != checkpoint.hash:
        problems.append(f"checkpoint {statement.seq}: its content does not match its hash")
    key = trusted.get(statement.key_id)
    if key is None:
        problems.append(
            f"checkpoint {statement.seq}: signed by key {statement.key_id[:16]}…, "
            "which is not a trusted key"
        )
        return problems
    if not signature_ok(key.public_key, statement.text(), checkpoint.signature):
        problems.append(
            f"checkpoint {statement.seq}: the signature is not valid under key "
            f"{statement.key_id[:16]}…"
        )
    if key.valid_until is not None and statement.created_at > key.valid_until:
        problems.append(
            f"checkpoint {statement.seq}: signed at {statement.created_at} by key "
            f"{statement.key_id[:16]}…, retired at {key.valid_until}"
        )
    return problems


def parse_statement(text: str) -> CheckpointStatement:
    """A checkpoint statement from its canonical text; ValueError if malformed."""
    header, *lines = text.split("\n")
    parts = header.split("|")
    if len(parts) != 6 or parts[0] != CHECKPOINT_VERSION:
        raise ValueError("not a checkpoint-v1 statement")
    heads = []
    for line in lines:
        name, seq, head = line.rsplit("|", 2)
        heads.append(ChainHead(name, _int(seq), head))
    return CheckpointStatement(
        _int(parts[1]), parts[2], parts[3], parts[4], parts[5], tuple(sorted(heads))
    )


def checkpoint_from_json(data: Any) -> SignedCheckpoint:
    """A checkpoint as the API returns it (a mapping); ValueError naming what is wrong."""
    if not isinstance(data, Mapping):
        raise ValueError("a checkpoint is a JSON object")
    listed = data.get("checkpoints")
    if "seq" not in data and isinstance(listed, list) and listed:
        data = listed[-1]  # a page of GET /ledger/checkpoints: its newest
        if not isinstance(data, Mapping):
            raise ValueError("a checkpoint is a JSON object")
    try:
        chains = data["chains"]
        if not isinstance(chains, list):
            raise ValueError("chains: a list")
        heads = tuple(
            sorted(
                ChainHead(_str(c["name"]), _json_int(c["seq"]), _hex64(c["head"])) for c in chains
            )
        )
        statement = CheckpointStatement(
            seq=_json_int(data["seq"]),
            created_at=_str(data["created_at"]),
            reference=_str(data["reference"]),
            prev_hash=_hex64(data["prev_hash"]),
            key_id=_hex64(data["key_id"]),
            heads=heads,
        )
        public_key = data.get("public_key")
        return SignedCheckpoint(
            statement,
            _hex64(data["hash"]),
            _str(data["signature"]),
            None if public_key is None else _str(public_key),
        )
    except (KeyError, TypeError) as exc:
        raise ValueError(f"checkpoint: missing or malformed field {exc}") from None


def checkpoint_to_json(checkpoint: SignedCheckpoint) -> dict[str, Any]:
    """The JSON form of a checkpoint (what the API returns and verifiers read)."""
    s = checkpoint.statement
    return {
        "seq": s.seq,
        "created_at": s.created_at,
        "reference": s.reference,
        "prev_hash": s.prev_hash,
        "key_id": s.key_id,
        "chains": [
            {"name": h.name, "seq": h.seq, "head": h.head}
            for h in sorted(s.heads, key=lambda h: h.name)
        ],
        "hash": checkpoint.hash,
        "signature": checkpoint.signature,
        "public_key": checkpoint.public_key,
        "statement": s.text(),
    }


def genesis() -> str:
    """The ``prev_hash`` of the first checkpoint (64 zeros)."""
    return GENESIS


def _b64(value: str, size: int) -> bytes:
    try:
        raw = base64.b64decode(value.encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError, AttributeError):
        raise ValueError("not base64") from None
    if len(raw) != size:
        raise ValueError(f"expected {size} bytes")
    return raw


def _int(value: Any) -> int:
    if isinstance(value, bool):
        raise ValueError("expected an integer")
    if isinstance(value, str):
        if not value.isascii() or not value.isdigit() or (len(value) > 1 and value[0] == "0"):
            raise ValueError(f"not a canonical integer: {value!r}")
        return int(value)
    if not isinstance(value, int) or value < 0:
        raise ValueError("expected a non-negative integer")
    return value


def _json_int(value: Any) -> int:
    if isinstance(value, str):
        raise ValueError("expected a JSON integer, not a string")
    return _int(value)


def _str(value: Any) -> str:
    if not isinstance(value, str) or "|" in value or "\n" in value:
        raise ValueError("expected a string without '|' or newlines")
    return value


def _hex64(value: Any) -> str:
    if not isinstance(value, str) or len(value) != 64 or not set(value) <= HEX64:
        raise ValueError("expected 64 lower-case hex digits")
    return value
