"""``python -m matching book FILE|-``: replay a command file through a fresh book.

Input: ``{"rules": {"lot", "tick", "band"}, "commands": [...]}`` (see docs/matching.md).
Output: one line of JSON with the trades, the cancellations, the final depth and the state
hash. Invalid input, or a command the book refuses (unless ``--keep-going``): a message on
standard error and exit status 2.
"""

from __future__ import annotations

import json
import sys
from typing import Any, NoReturn

from .._types import InvalidBook
from ._day import price_band
from ._replay import replay
from ._values import Band, BookRules, Cancel, LimitOrder

EXIT_INVALID = 2
_SUBMIT_KEYS = ("id", "participant", "side", "quantity", "price")


def _band(doc: Any, tick: Any) -> Band | None:
    if doc is None:
        return None
    if not isinstance(doc, dict):
        raise InvalidBook("rules.band must be an object or null", field="rules.band")
    if "reference" in doc or "percent" in doc:
        for key in ("reference", "percent"):
            if key not in doc:
                raise InvalidBook(f"rules.band: missing {key!r}", field=f"rules.band.{key}")
        return price_band(doc["reference"], doc["percent"], tick)
    for key in ("low", "high"):
        if key not in doc:
            raise InvalidBook(f"rules.band: missing {key!r}", field=f"rules.band.{key}")
    return Band(doc["low"], doc["high"])


def parse_commands(doc: Any) -> tuple[BookRules, list[LimitOrder | Cancel]]:
    """Turn the JSON document of ``python -m matching book`` into rules and commands."""
    if not isinstance(doc, dict):
        raise InvalidBook("the input must be a JSON object with 'commands' (and 'rules')")
    rules_doc = doc.get("rules")
    if rules_doc is None:
        rules_doc = {}
    if not isinstance(rules_doc, dict):
        raise InvalidBook("'rules' must be an object", field="rules")
    lot = rules_doc.get("lot", 1)
    tick = rules_doc.get("tick", 1)
    rules = BookRules(lot, tick, None)  # checks lot and tick before the band uses the tick
    rules = BookRules(lot, tick, _band(rules_doc.get("band"), tick))
    cmds_doc = doc.get("commands")
    if not isinstance(cmds_doc, list):
        raise InvalidBook("'commands' must be a list of commands", field="commands")
    commands: list[LimitOrder | Cancel] = []
    for i, cd in enumerate(cmds_doc):
        if not isinstance(cd, dict):
            raise InvalidBook(f"commands[{i}] must be an object", field="commands")
        label = f"commands[{i}]"
        op = cd.get("op")
        keys = _SUBMIT_KEYS if op == "submit" else ("id",)
        if op not in ("submit", "cancel"):
            raise InvalidBook(f"{label}: op must be 'submit' or 'cancel', got {op!r}",
                              field="op")  # fmt: skip
        for key in keys:
            if key not in cd:
                raise InvalidBook(f"{label}: missing field {key!r}", field=key)
        try:
            if op == "cancel":
                commands.append(Cancel(cd["id"]))
            else:
                seq = cd["seq"] if cd.get("seq") is not None else i
                commands.append(LimitOrder(cd["id"], cd["participant"], cd["side"],
                                           cd["quantity"], cd["price"], seq))  # fmt: skip
        except InvalidBook as exc:
            raise InvalidBook(f"{label}: {exc.message}", order_id=exc.order_id,
                              field=exc.field) from None  # fmt: skip
    return rules, commands


def _fail(message: str) -> NoReturn:
    print(f"matching: error: {message}", file=sys.stderr)
    raise SystemExit(EXIT_INVALID)


def _read(path: str) -> Any:
    try:
        if path == "-":
            text = sys.stdin.read()
        else:
            with open(path, encoding="utf-8") as fh:
                text = fh.read()
    except OSError as exc:
        _fail(f"cannot read {path}: {exc.strerror or exc}")
    except UnicodeDecodeError as exc:
        _fail(f"{path} is not UTF-8: {exc}")
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        _fail(f"invalid JSON: {exc}")
    except RecursionError:
        _fail("the input is nested too deeply")


def run_book(path: str, *, keep_going: bool = False, depth: int | None = 5) -> int:
    """The ``book`` subcommand: print the replay of the command file at ``path`` as JSON.
    A refused command fails the run (exit 2) unless ``keep_going``; then it is listed."""
    doc = _read(path)
    try:
        rules, commands = parse_commands(doc)
    except InvalidBook as exc:
        _fail(exc.message)
    result = replay(commands, rules, depth=depth)
    out = result.to_json()
    if not keep_going:
        if result.rejected:
            r = result.rejected[0]
            _fail(f"commands[{r.index}]: {r.message}")
        del out["rejected"]
    sys.stdout.write(json.dumps(out) + "\n")
    return 0
