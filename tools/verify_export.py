#!/usr/bin/env python3
"""Verify a ledger export against a signed checkpoint, with nothing of the exchange.

    python tools/verify_export.py EXPORT.jsonl CHECKPOINT.json [--public-key FILE] [--json]

EXPORT.jsonl is the output of ``exchange export-ledger --format jsonl``: one journal
with its postings per line, then one line per account, hold, chain head and signing
key (each with a ``record`` field). CHECKPOINT.json is a checkpoint as
``GET /api/v1/ledger/checkpoints/latest`` returns it.

It recomputes every journal hash and chain link, every balance, hold and the
conservation rule, checks the checkpoint's Ed25519 signature and that every chain
still reaches the checkpoint's heads, and prints the verdict in the same words as
``exchange verify-ledger --checkpoint``: exit 0 when clean, 1 on any violation,
2 when the input cannot be read.

Standard library and ``cryptography`` only, on purpose: this file imports nothing
of the project, so an auditor can read it alone. The canonical forms it relies on
are documented in docs/ledger.md.
"""

from __future__ import annotations

import argparse
import base64
import binascii
import hashlib
import json
import sys
from collections import defaultdict
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    PublicFormat,
    load_pem_public_key,
)

GENESIS = "0" * 64
ISSUANCE, CLEARING, ESCROW = "issuance", "clearing", "escrow"
MAX_VIOLATIONS = 10_000

Key = tuple[str, str, str]  # (kind, owner, asset)


class Report:
    """Violations in the product's shape: check, message and where."""

    def __init__(self) -> None:
        self.violations: list[dict[str, Any]] = []
        self.truncated = False
        self.journals = self.postings = self.accounts = self.holds = 0
        self.chains: dict[str, dict[str, Any]] = {}
        self.assets: dict[str, dict[str, int]] = {}
        self.checkpoint: dict[str, Any] = {}

    def add(self, check: str, message: str, **where: Any) -> None:
        if len(self.violations) >= MAX_VIOLATIONS:
            self.truncated = True
            return
        item = {"check": check, "message": message}
        item.update({k: v for k, v in where.items() if v is not None})
        self.violations.append(item)

    @property
    def ok(self) -> bool:
        return not self.violations


# --------------------------------------------------------------------- canonical forms


def timestamp(value: str) -> str:
    """ISO 8601 from the export -> ``YYYY-MM-DDTHH:MM:SS.ffffffZ`` (UTC)."""
    moment = datetime.fromisoformat(value.replace("Z", "+00:00")).astimezone(UTC)
    return moment.isoformat(timespec="microseconds")[:26] + "Z"


def journal_text(journal: dict[str, Any]) -> str:
    """The canonical form of a journal (version 1) that its hash covers."""
    header = "|".join(
        [
            "v1",
            journal["chain"],
            str(journal["seq"]),
            journal["prev_hash"],
            journal["kind"],
            journal["reference"],
            journal["actor"],
            timestamp(journal["created_at"]),
        ]
    )
    lines = sorted(posting_line(p) for p in journal["postings"])
    return "\n".join([header, *lines])


def posting_line(p: dict[str, Any]) -> str:
    hold = "" if p.get("hold_id") is None else str(p["hold_id"])
    return f"{p['asset']}|{p['account_kind']}|{p['owner']}|{p['amount']}|{hold}"


def checkpoint_text(cp: dict[str, Any]) -> str:
    """The canonical checkpoint statement (what is hashed and signed)."""
    header = "|".join(
        [
            "checkpoint-v1",
            str(cp["seq"]),
            cp["created_at"],
            cp["reference"],
            cp["prev_hash"],
            cp["key_id"],
        ]
    )
    lines = sorted(f"{c['name']}|{c['seq']}|{c['head']}" for c in cp["chains"])
    return "\n".join([header, *lines])


def sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def b64(value: str, size: int) -> bytes:
    raw = base64.b64decode(value.encode("ascii"), validate=True)
    if len(raw) != size:
        raise ValueError(f"expected {size} bytes")
    return raw


def key_id(public_key: str) -> str:
    return hashlib.sha256(b64(public_key, 32)).hexdigest()


def signature_ok(public_key: str, text: str, signature: str) -> bool:
    try:
        Ed25519PublicKey.from_public_bytes(b64(public_key, 32)).verify(
            b64(signature, 64), text.encode("utf-8")
        )
    except (ValueError, binascii.Error, InvalidSignature):
        return False
    return True


# --------------------------------------------------------------------- reading


def read_export(lines: Iterable[str]) -> dict[str, list[dict[str, Any]]]:
    """Journals and state rows of an export, by kind of record."""
    parts: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            item = json.loads(line)
        except json.JSONDecodeError as exc:
            raise ValueError(f"export line {number}: not JSON ({exc})") from None
        parts[item.get("record", "journal")].append(item)
    return parts


def read_public_key(text: str) -> str:
    text = text.strip()
    if text.startswith("-----BEGIN"):
        key = load_pem_public_key(text.encode("ascii"))
        if not isinstance(key, Ed25519PublicKey):
            raise ValueError("--public-key: not an Ed25519 key")
        raw = key.public_bytes(Encoding.Raw, PublicFormat.Raw)
        return base64.b64encode(raw).decode("ascii")
    key_id(text)
    return text


# --------------------------------------------------------------------- the checks


def check_journals(
    report: Report,
    journals: list[dict[str, Any]],
    accounts: dict[Key, dict[str, Any]],
    holds: dict[int, dict[str, Any]],
) -> tuple[dict[Key, int], dict[int, int], list[tuple[str, int, int, str, str]]]:
    """Per journal: accounts, running balances, holds, balance per asset, hash."""
    sums: dict[Key, int] = defaultdict(int)
    hold_sums: dict[int, int] = defaultdict(int)
    went_negative: set[Key] = set()
    links: list[tuple[str, int, int, str, str]] = []
    for j in sorted(journals, key=lambda j: j["id"]):
        report.journals += 1
        jid = j["id"]
        per_asset: dict[str, int] = defaultdict(int)
        for p in j["postings"]:
            report.postings += 1
            key = (p["account_kind"], p["owner"], p["asset"])
            account = accounts.get(key)
            if account is None:
                report.add(
                    "unknown_account",
                    f"journal {jid}: posting on unknown account {key}",
                    journal_id=jid,
                )
                continue
            aid, amount = account["id"], p["amount"]
            per_asset[p["asset"]] += amount
            sums[key] += amount
            exempt = key[0] in (ISSUANCE, CLEARING)
            if sums[key] < 0 and not exempt and key not in went_negative:
                went_negative.add(key)
                report.add(
                    "negative_balance",
                    f"account {aid} went below zero at journal {jid}",
                    journal_id=jid,
                    account_id=aid,
                    expected=0,
                    found=sums[key],
                )
            hold_id = p.get("hold_id")
            if hold_id is not None:
                hold = holds.get(hold_id)
                if hold is None or hold["escrow_key"] != key:
                    report.add(
                        "hold",
                        f"journal {jid}: posting names hold {hold_id}, which is not a hold "
                        f"on account {aid}",
                        journal_id=jid,
                        hold_id=hold_id,
                        account_id=aid,
                    )
                else:
                    hold_sums[hold_id] += amount
        if not j["postings"]:
            report.add("empty_journal", f"journal {jid} has no postings", journal_id=jid)
        for asset, total in per_asset.items():
            if total:
                report.add(
                    "unbalanced_journal",
                    f"journal {jid} does not balance in {asset}",
                    journal_id=jid,
                    asset=asset,
                    expected=0,
                    found=total,
                )
        computed = sha256(journal_text(j))
        if computed != j["hash"]:
            report.add(
                "journal_hash",
                f"journal {jid} ({j['chain']} #{j['seq']}): content does not match its hash",
                journal_id=jid,
                chain=j["chain"],
                expected=computed,
                found=j["hash"],
            )
        links.append((j["chain"], j["seq"], jid, j["prev_hash"], j["hash"]))
    return sums, hold_sums, links


def check_chains(
    report: Report, links: list[tuple[str, int, int, str, str]], heads: dict[str, tuple[int, str]]
) -> None:
    """Gapless sequences, links to the predecessor, stored heads = last journals."""
    last: dict[str, tuple[int, str]] = {}
    for chain, seq, jid, prev_hash, stored in sorted(links, key=lambda x: (x[0], x[1], x[2])):
        before_seq, before_hash = last.get(chain, (0, GENESIS))
        if seq == before_seq:
            report.add(
                "chain_duplicate",
                f"journal {jid}: {chain} #{seq} appears twice",
                journal_id=jid,
                chain=chain,
                expected=before_seq + 1,
                found=seq,
            )
        elif seq != before_seq + 1:
            report.add(
                "chain_gap",
                f"{chain}: journals #{before_seq + 1}..#{seq - 1} are missing "
                f"(before journal {jid})",
                journal_id=jid,
                chain=chain,
                expected=before_seq + 1,
                found=seq,
            )
        if prev_hash != before_hash and seq == before_seq + 1:
            report.add(
                "chain_link",
                f"journal {jid} ({chain} #{seq}): prev_hash is not the hash of #{before_seq}",
                journal_id=jid,
                chain=chain,
                expected=before_hash,
                found=prev_hash,
            )
        last[chain] = (seq, stored)
    for chain in sorted(set(heads) | set(last)):
        expected = last.get(chain, (0, GENESIS))
        found = heads.get(chain)
        report.chains[chain] = {"seq": expected[0], "head": expected[1]}
        if found != expected:
            report.add(
                "chain_head",
                f"{chain}: the stored head is not the last journal of the chain",
                chain=chain,
                expected=f"#{expected[0]} {expected[1]}",
                found="missing" if found is None else f"#{found[0]} {found[1]}",
            )


def check_state(
    report: Report,
    accounts: dict[Key, dict[str, Any]],
    holds: dict[int, dict[str, Any]],
    sums: dict[Key, int],
    hold_sums: dict[int, int],
) -> None:
    """Stored balances and holds against the postings, then conservation."""
    for key, account in sorted(accounts.items(), key=lambda kv: kv[1]["id"]):
        aid, balance = account["id"], account["balance"]
        kind, owner, asset = key
        name = f"{kind}:{owner}/{asset}"
        if sums.get(key, 0) != balance:
            report.add(
                "balance",
                f"account {aid} ({name}): stored balance differs from its postings",
                account_id=aid,
                asset=asset,
                expected=sums.get(key, 0),
                found=balance,
            )
        if balance < 0 and kind != ISSUANCE:
            report.add(
                "negative_balance",
                f"account {aid} ({name}) has a negative stored balance",
                account_id=aid,
                asset=asset,
                expected=0,
                found=balance,
            )
    open_by_escrow: dict[Key, int] = defaultdict(int)
    for hold_id, hold in sorted(holds.items()):
        computed = hold_sums.get(hold_id, 0)
        escrow = accounts.get(hold["escrow_key"], {}).get("id")
        open_by_escrow[hold["escrow_key"]] += hold["remaining"]
        if computed != hold["remaining"]:
            report.add(
                "hold",
                f"hold {hold_id}: remaining differs from its escrow postings",
                hold_id=hold_id,
                account_id=escrow,
                expected=computed,
                found=hold["remaining"],
            )
        if not 0 <= computed <= hold["amount"]:
            report.add(
                "hold",
                f"hold {hold_id}: postings leave {computed} of {hold['amount']} held",
                hold_id=hold_id,
                expected=hold["amount"],
                found=computed,
            )
    for key, account in sorted(accounts.items(), key=lambda kv: kv[1]["id"]):
        if key[0] == ESCROW and open_by_escrow.get(key, 0) != account["balance"]:
            report.add(
                "escrow",
                f"escrow account {account['id']} ({key[1]}/{key[2]}) differs from its open holds",
                account_id=account["id"],
                asset=key[2],
                expected=open_by_escrow.get(key, 0),
                found=account["balance"],
            )
    check_conservation(report, accounts)


def check_conservation(report: Report, accounts: dict[Key, dict[str, Any]]) -> None:
    """Per asset: issued (minus the issuance balance) = what every other account holds."""
    totals: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for (kind, _owner, asset), account in accounts.items():
        totals[asset][kind] += account["balance"]
    for asset in sorted(totals):
        by_kind = totals[asset]
        issued = -by_kind.get(ISSUANCE, 0)
        held = sum(v for k, v in by_kind.items() if k != ISSUANCE)
        report.assets[asset] = {
            "issued": issued,
            **{k: v for k, v in sorted(by_kind.items()) if k != ISSUANCE},
        }
        if issued != held:
            report.add(
                "conservation",
                f"{asset}: issued {issued} but accounts hold {held}",
                asset=asset,
                expected=issued,
                found=held,
            )
        if by_kind.get(CLEARING, 0):
            report.add(
                "clearing_not_flat",
                f"{asset}: the clearing account holds {by_kind[CLEARING]} between runs",
                asset=asset,
                expected=0,
                found=by_kind[CLEARING],
            )


def trusted_keys(anchors: list[str], records: list[dict[str, Any]]) -> dict[str, tuple[str, Any]]:
    """key id -> (public key, valid until) from pinned keys and signed key statements."""
    trusted = {key_id(a): a for a in anchors}
    valid = []
    for r in records:
        parts = r["statement"].split("|")
        if len(parts) != 6 or parts[0] != "key-v1":
            continue
        _v, kid, public, created, old, old_public = parts
        try:
            if key_id(public) != kid or (old and key_id(old_public) != old):
                continue
        except (ValueError, binascii.Error):
            continue
        if signature_ok(public, r["statement"], r["signature"]):
            valid.append((kid, public, created, old, old_public, r))
    changed = True
    while changed:
        changed = False
        for kid, public, _created, old, old_public, r in valid:
            if not old:
                continue
            if kid in trusted and old not in trusted:
                trusted[old] = old_public
                changed = True
            elif (
                old in trusted
                and kid not in trusted
                and r.get("predecessor_signature")
                and signature_ok(old_public, r["statement"], r["predecessor_signature"])
            ):
                trusted[kid] = public
                changed = True
    until: dict[str, str] = {}
    for kid, _public, created, old, _old_public, _r in valid:
        if old in trusted and kid in trusted and (old not in until or created < until[old]):
            until[old] = created
    return {k: (pub, until.get(k)) for k, pub in trusted.items()}


def check_checkpoint(
    report: Report,
    cp: dict[str, Any],
    journals: list[dict[str, Any]],
    anchors: list[str],
    key_records: list[dict[str, Any]],
) -> None:
    """The checkpoint's signature, then every chain against the heads it states."""
    seq, kid = cp["seq"], cp["key_id"]
    statement = checkpoint_text(cp)
    pinned = bool(anchors)
    if not anchors and cp.get("public_key"):
        anchors = [cp["public_key"]]  # nothing pinned: the key the checkpoint names
    trusted = trusted_keys(anchors, key_records)
    report.checkpoint = {"seq": seq, "hash": cp["hash"], "key_id": kid, "pinned": pinned}

    def bad(message: str) -> None:
        report.add("checkpoint_signature", message, expected=kid)

    if sha256(statement) != cp["hash"]:
        bad(f"checkpoint {seq}: its content does not match its hash")
    if kid not in trusted:
        bad(f"checkpoint {seq}: signed by key {kid[:16]}…, which is not a trusted key")
    else:
        public, valid_until = trusted[kid]
        if not signature_ok(public, statement, cp["signature"]):
            bad(f"checkpoint {seq}: the signature is not valid under key {kid[:16]}…")
        if valid_until is not None and cp["created_at"] > valid_until:
            bad(
                f"checkpoint {seq}: signed at {cp['created_at']} by key {kid[:16]}…, "
                f"retired at {valid_until}"
            )
    last_seq: dict[str, int] = defaultdict(int)
    hash_at: dict[tuple[str, int], str] = {}
    for j in journals:
        last_seq[j["chain"]] = max(last_seq[j["chain"]], j["seq"])
        hash_at[(j["chain"], j["seq"])] = j["hash"]
    for head in sorted(cp["chains"], key=lambda c: c["name"]):
        name, want = head["name"], head["seq"]
        have = last_seq.get(name, 0)
        if have < want:
            report.add(
                "checkpoint_behind",
                f"{name}: the ledger ends at #{have} but checkpoint {seq} covers #{want}: "
                f"journals #{have + 1}..#{want} are missing",
                chain=name,
                expected=want,
                found=have,
            )
        elif hash_at.get((name, want)) != head["head"]:
            report.add(
                "checkpoint_head",
                f"{name} #{want}: the journal does not hash to the head stated by checkpoint {seq}",
                chain=name,
                expected=head["head"],
                found=hash_at.get((name, want)) or "missing",
            )


def verify(
    parts: dict[str, list[dict[str, Any]]], cp: dict[str, Any], anchors: list[str]
) -> Report:
    """Every check of ``exchange verify-ledger --checkpoint`` over an export."""
    report = Report()
    accounts = {(a["kind"], a["owner"], a["asset"]): a for a in parts.get("account", [])}
    holds = {}
    for h in parts.get("hold", []):
        escrow = h["escrow"]
        holds[h["id"]] = {**h, "escrow_key": (escrow["kind"], escrow["owner"], escrow["asset"])}
    report.accounts, report.holds = len(accounts), len(holds)
    journals = parts.get("journal", [])
    sums, hold_sums, links = check_journals(report, journals, accounts, holds)
    heads = {c["name"]: (c["seq"], c["head"]) for c in parts.get("chain", [])}
    check_chains(report, links, heads)
    check_state(report, accounts, holds, sums, hold_sums)
    check_checkpoint(report, cp, journals, anchors, parts.get("signing_key", []))
    return report


def render(report: Report) -> Iterator[str]:
    """The verdict in the words of ``exchange verify-ledger``."""
    for v in report.violations:
        where = ", ".join(f"{k}={val}" for k, val in v.items() if k not in ("check", "message"))
        yield f"VIOLATION {v['check']}: {v['message']} ({where})"
    status = "OK" if report.ok else f"FAILED: {len(report.violations)} violation(s)"
    yield (
        f"ledger {status}; {report.journals} journals, {report.postings} postings, "
        f"{report.accounts} accounts, {len(report.chains)} chains verified"
    )
    for chain, head in sorted(report.chains.items()):
        yield f"  chain {chain}: #{head['seq']} {head['head']}"
    found = [v for v in report.violations if v["check"].startswith("checkpoint_")]
    cp = report.checkpoint
    yield f"checkpoint {cp['seq']} ({cp['hash']}): " + (
        "OK" if not found else f"FAILED: {len(found)} violation(s)"
    )
    if not cp["pinned"]:
        yield (
            f"note: signature checked against the key named in the checkpoint ({cp['key_id']}); "
            "pass --public-key to pin the exchange's published key"
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("export", help="exchange export-ledger --format jsonl output")
    parser.add_argument("checkpoint", help="a checkpoint as the API returns it (JSON)")
    parser.add_argument(
        "--public-key", action="append", default=[], help="trusted key (PEM or base64)"
    )
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    args = parser.parse_args(argv)
    try:
        with open(args.export, encoding="utf-8") as handle:
            parts = read_export(handle)
        with open(args.checkpoint, encoding="utf-8") as handle:
            cp = json.load(handle)
        if isinstance(cp, dict) and "seq" not in cp and cp.get("checkpoints"):
            cp = cp["checkpoints"][-1]  # a page of GET /ledger/checkpoints: its newest
        if not isinstance(cp, dict):
            raise ValueError("checkpoint: a JSON object")
        if parts.get("journal") and not parts.get("account"):
            raise ValueError(
                "the export has no account, hold or chain lines (an older export-ledger?): "
                "export again with exchange export-ledger --format jsonl"
            )
        anchors = []
        for path in args.public_key:
            with open(path, encoding="utf-8") as handle:
                anchors.append(read_public_key(handle.read()))
        for field in ("seq", "created_at", "reference", "prev_hash", "key_id", "chains", "hash"):
            if field not in cp:
                raise ValueError(f"checkpoint: missing field {field!r}")
        report = verify(parts, cp, anchors)
    except (OSError, ValueError, KeyError, TypeError) as exc:
        print(f"cannot verify: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 2
    if args.json:
        print(
            json.dumps(
                {
                    "ok": report.ok,
                    "violations": report.violations,
                    "truncated": report.truncated,
                    "journals": report.journals,
                    "postings": report.postings,
                    "accounts": report.accounts,
                    "holds": report.holds,
                    "chains": report.chains,
                    "assets": report.assets,
                    "checkpoint": report.checkpoint,
                },
                indent=2,
            )
        )
    else:
        for line in render(report):
            print(line)
    return 0 if report.ok else 1


if __name__ == "__main__":
    sys.exit(main())
