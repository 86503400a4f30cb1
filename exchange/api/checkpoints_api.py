"""Public, signed checkpoints of the ledger and the keys that sign them (anonymous reads).

``GET /api/v1/ledger/checkpoints[?since=SEQ&limit=N]`` (oldest first),
``GET /api/v1/ledger/checkpoints/latest``, ``GET /api/v1/ledger/checkpoints/<seq>`` and
``GET /api/v1/ledger/public-key``. A checkpoint reveals chain names, sequence
numbers and hashes only: no amounts, accounts or references of journals.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate

from exchange.checkpointing import key_ring, to_json
from exchange.errors import InvalidInput, NotFound
from exchange.extensions import db
from ledger import checkpoints as ledger_checkpoints
from ledger.signing import key_id_of, public_key_text, trusted_keys

MAX_SEQ = 2**63 - 1

blp = Blueprint(
    "checkpoints", __name__, url_prefix="/api/v1/ledger", description="Signed ledger checkpoints"
)


class CheckpointQuerySchema(Schema):
    since = fields.String(
        load_default="0",
        validate=validate.Length(1, 40),
        metadata={
            "description": "A sequence number (checkpoints after it) or an ISO 8601 time "
            "(checkpoints made after it; UTC if no offset).",
            "example": "12",
        },
    )
    limit = fields.Integer(load_default=100, validate=validate.Range(1, 1000))


def parse_since(raw: str) -> int | datetime:
    """``since`` as a sequence number or an aware time; 422 naming the field otherwise."""
    if raw.isascii() and raw.isdigit():
        if int(raw) > MAX_SEQ:
            raise InvalidInput(f"since: at most {MAX_SEQ}", field="since")
        return int(raw)
    try:
        moment = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        raise InvalidInput("since: a sequence number or an ISO 8601 time", field="since") from None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment


class ChainHeadSchema(Schema):
    name = fields.String()
    seq = fields.Integer()
    head = fields.String()


class CheckpointSchema(Schema):
    id = fields.Integer()
    seq = fields.Integer()
    created_at = fields.String(metadata={"description": "UTC, YYYY-MM-DDTHH:MM:SS.ffffffZ"})
    reference = fields.String()
    prev_hash = fields.String()
    key_id = fields.String()
    chains = fields.List(fields.Nested(ChainHeadSchema))
    hash = fields.String()
    signature = fields.String(metadata={"description": "Ed25519, base64"})
    public_key = fields.String(allow_none=True, metadata={"description": "raw, base64"})
    statement = fields.String(metadata={"description": "the signed canonical text"})


class CheckpointListSchema(Schema):
    checkpoints = fields.List(fields.Nested(CheckpointSchema))


class KeySchema(Schema):
    key_id = fields.String()
    algorithm = fields.String()
    public_key = fields.String()
    public_key_pem = fields.String()
    valid_from = fields.String()
    valid_until = fields.String(allow_none=True)
    current = fields.Boolean()
    predecessor = fields.String(allow_none=True)
    statement = fields.String()
    signature = fields.String()
    predecessor_signature = fields.String(allow_none=True)


class KeysSchema(Schema):
    current = fields.String(allow_none=True, metadata={"description": "key id signing now"})
    current_public_key = fields.String(allow_none=True, metadata={"description": "base64"})
    keys = fields.List(fields.Nested(KeySchema))


@blp.route("/checkpoints")
class Checkpoints(MethodView):
    @blp.arguments(CheckpointQuerySchema, location="query")
    @blp.response(200, CheckpointListSchema)
    def get(self, query: dict[str, Any]) -> dict[str, Any]:
        """Signed checkpoints, oldest first (public)."""
        session = db.session
        since = parse_since(query["since"])
        if isinstance(since, datetime):
            rows = ledger_checkpoints.list_checkpoints_after(session, since, limit=query["limit"])
        else:
            rows = ledger_checkpoints.list_checkpoints(session, since=since, limit=query["limit"])
        return {"checkpoints": [to_json(row, session) for row in rows]}


@blp.route("/checkpoints/latest")
class LatestCheckpoint(MethodView):
    @blp.response(200, CheckpointSchema)
    def get(self) -> dict[str, Any]:
        """The newest signed checkpoint (public); 404 before the first one."""
        row = ledger_checkpoints.latest(db.session)
        if row is None:
            raise NotFound("no checkpoint yet", code="no_checkpoint")
        return to_json(row, db.session)


@blp.route("/checkpoints/<int:seq>")
class CheckpointBySeq(MethodView):
    @blp.response(200, CheckpointSchema)
    def get(self, seq: int) -> dict[str, Any]:
        """One signed checkpoint by its sequence number (public)."""
        row = ledger_checkpoints.get(db.session, seq)
        if row is None:
            raise NotFound(f"no checkpoint {seq}", code="no_checkpoint")
        return to_json(row, db.session)


@blp.route("/public-key")
class PublicKeys(MethodView):
    @blp.response(200, KeysSchema)
    def get(self) -> dict[str, Any]:
        """Every checkpoint signing key with its validity; ``current`` signs now (public)."""
        rows = ledger_checkpoints.key_records(db.session)
        validity = trusted_keys(
            [r.public_key for r in rows], ledger_checkpoints.as_key_records(rows)
        )
        try:
            key = key_ring(_app()).load()
        except Exception:  # a broken key file is the operator's problem, not the reader's
            key = None
        current = None if key is None else key_id_of(public_key_text(key))
        return {
            "current": current,
            "current_public_key": None if key is None else public_key_text(key),
            "keys": [
                {
                    "key_id": r.key_id,
                    "algorithm": "Ed25519",
                    "public_key": r.public_key,
                    "public_key_pem": _pem(r.public_key),
                    "valid_from": r.statement.split("|")[3],
                    "valid_until": validity[r.key_id].valid_until if r.key_id in validity else None,
                    "current": r.key_id == current,
                    "predecessor": r.predecessor,
                    "statement": r.statement,
                    "signature": r.signature,
                    "predecessor_signature": r.predecessor_signature,
                }
                for r in rows
            ],
        }


def _app() -> Any:
    from flask import current_app

    return current_app._get_current_object()  # type: ignore[attr-defined]


def _pem(public_key: str) -> str:
    import base64

    raw = base64.b64decode(public_key)
    pem = Ed25519PublicKey.from_public_bytes(raw).public_bytes(
        Encoding.PEM, PublicFormat.SubjectPublicKeyInfo
    )
    return pem.decode("ascii")
