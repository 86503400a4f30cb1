"""Command line: ``python -m matching clear BOOK.json`` (``-`` reads standard input),
``python -m matching clear-joint BOOKS.json`` (markets with bundle orders) and
``python -m matching book COMMANDS.json`` (see :mod:`matching.continuous._cli`).

Prints the clearing result as JSON on standard output. Invalid input: a message on standard
error and exit status 2. The formats are documented in docs/matching.md.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from typing import Any, NoReturn

from ._canon import result_to_json
from ._clear import clear
from ._joint import clear_joint
from ._joint_io import joint_result_to_json, parse_joint
from ._stability import clear_stable, stability_from_json, stable_result_to_json
from ._types import InvalidBook, Link, Order, Rules

EXIT_INVALID = 2

_RULE_KEYS = ("lot", "tick", "price_floor", "price_ceiling", "reference_price")


def parse_book(doc: Any) -> tuple[list[Order], Rules]:
    """Turn the JSON document of the CLI input format into orders and rules."""
    if not isinstance(doc, dict):
        raise InvalidBook("the book must be a JSON object with 'orders' (and 'rules')")
    rules_doc = doc.get("rules", {})
    if rules_doc is None:
        rules_doc = {}
    if not isinstance(rules_doc, dict):
        raise InvalidBook("'rules' must be an object", field="rules")
    orders_doc = doc.get("orders")
    if not isinstance(orders_doc, list):
        raise InvalidBook("'orders' must be a list of orders", field="orders")
    kwargs: dict[str, Any] = {k: rules_doc[k] for k in _RULE_KEYS if k in rules_doc}
    for k in ("lot", "tick", "price_floor"):
        if k in kwargs and kwargs[k] is None:
            del kwargs[k]
    links_doc = rules_doc.get("links")
    zonal = links_doc is not None
    links: list[Link] = []
    if zonal:
        if not isinstance(links_doc, list):
            raise InvalidBook("rules.links must be a list", field="links")
        for i, ld in enumerate(links_doc):
            if not isinstance(ld, dict):
                raise InvalidBook(f"rules.links[{i}] must be an object", field="links")
            for key in ("from", "to"):
                if key not in ld:
                    raise InvalidBook(f"rules.links[{i}]: missing {key!r}", field=f"links.{key}")
            loss = 0 if ld.get("loss") is None else ld["loss"]
            links.append(Link(ld["from"], ld["to"], ld.get("capacity"), loss))
    zones_doc = rules_doc.get("zones")
    if zones_doc is not None and not isinstance(zones_doc, list):
        raise InvalidBook("rules.zones must be a list of zone names", field="rules.zones")
    orders: list[Order] = []
    for i, od in enumerate(orders_doc):
        if not isinstance(od, dict):
            raise InvalidBook(f"orders[{i}] must be an object", field="orders")
        label = f"orders[{i}]" + (f" (id {od['id']!r})" if "id" in od else "")
        for key in ("id", "side", "quantity", "price"):
            if key not in od:
                raise InvalidBook(
                    f"{label}: missing field {key!r}", order_id=od.get("id"), field=key
                )
        orders.append(
            Order(
                od["id"],
                od["side"],
                od["quantity"],
                od["price"],
                od["seq"] if od.get("seq") is not None else i,
                od.get("zone"),
            )
        )
    if zones_doc is not None:
        kwargs["zones"] = tuple(zones_doc)
    elif zonal and not links:
        # "links": [] still asks for zonal clearing: every zone clears on its own
        kwargs["zones"] = tuple(sorted({o.zone for o in orders if o.zone is not None}))
    rules = Rules(links=tuple(links), **kwargs)
    return orders, rules


def _fail(message: str) -> NoReturn:
    print(f"matching: error: {message}", file=sys.stderr)
    raise SystemExit(EXIT_INVALID)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m matching", description="Clear a book of limit orders."
    )
    sub = parser.add_subparsers(dest="command", required=True)
    p_clear = sub.add_parser("clear", help="clear BOOK.json and print the result as JSON")
    p_clear.add_argument("book", help="path of the book (JSON), or - for standard input")
    p_joint = sub.add_parser(
        "clear-joint", help="clear several markets with bundle orders jointly (BOOKS.json)"
    )
    p_joint.add_argument("book", help="path of the joint book (JSON), or - for standard input")
    p_book = sub.add_parser(
        "book", help="replay commands through a continuous order book and print the result"
    )
    p_book.add_argument("file", help="path of the commands (JSON), or - for standard input")
    p_book.add_argument("--depth", type=int, default=5, help="price levels per side (5)")
    p_book.add_argument(
        "--keep-going", action="store_true", help="list refused commands instead of failing"
    )
    args = parser.parse_args(argv)
    if args.command == "book":
        from .continuous._cli import run_book

        if args.depth < 0:
            _fail("--depth must be >= 0")
        return run_book(args.file, keep_going=args.keep_going, depth=args.depth)

    try:
        if args.book == "-":
            text = sys.stdin.read()
        else:
            with open(args.book, encoding="utf-8") as fh:
                text = fh.read()
    except OSError as exc:
        _fail(f"cannot read {args.book}: {exc.strerror or exc}")
    except UnicodeDecodeError as exc:
        _fail(f"{args.book} is not UTF-8: {exc}")
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        _fail(f"invalid JSON: {exc}")
    try:
        if args.command == "clear-joint":
            markets, bundles = parse_joint(doc, parse_book)
            out = joint_result_to_json(clear_joint(markets, bundles))
        elif isinstance(doc, dict) and doc.get("stability") is not None:
            orders, rules = parse_book(doc)
            stability = stability_from_json(doc["stability"])
            out = stable_result_to_json(clear_stable(orders, rules, stability))
        else:
            orders, rules = parse_book(doc)
            out = result_to_json(clear(orders, rules))
    except InvalidBook as exc:
        _fail(exc.message)
    except RecursionError:
        _fail("the book is nested too deeply")
    sys.stdout.write(json.dumps(out) + "\n")
    return 0
