"""The stack's floor for a cancel: ``../shared/bench/floor_app.py`` plus ``DELETE /orders/<id>``.

The floor's order POST is used as it is. The cancel does the least a cancel of an escrowed
order needs: authenticate the bearer token (one SELECT by its SHA-256), then in one
transaction mark the league's open order cancelled (a conditional UPDATE returning its side,
quantity and price), move its value from escrow back to main (two UPDATEs, the escrow's
conditional), insert two postings, commit. An order that is not the league's is 404, one no
longer open 409 (one more SELECT, only then). ``cancel_floor.py`` beside this file runs it
under gunicorn, as ``intake_floor.py`` runs the floor.
"""

from __future__ import annotations

import hashlib
import os
import sys
from pathlib import Path

from flask import abort, jsonify, request
from sqlalchemy import text

sys.path.insert(0, os.environ.get("FLOOR_DIR", str(Path.cwd().parent / "shared" / "bench")))

import floor_app

app, engine = floor_app.app, floor_app.engine

RELEASE = (
    "update accounts set balance = balance - :v where league = :l and asset = :a"
    " and kind = 'escrow' and balance >= :v returning id",
    "update accounts set balance = balance + :v where league = :l and asset = :a"
    " and kind = 'main' returning id",
)
"""The escrow's release: out of escrow (never below zero), back into main; each its id."""


def setup(leagues: list[str], tokens: list[str]) -> None:
    """The floor's tables, and a status on its orders."""
    floor_app.setup(leagues, tokens)
    with engine.begin() as c:
        c.execute(text("alter table orders add column status text not null default 'open'"))


@app.delete("/orders/<int:order_id>")
def cancel_order(order_id: int):  # type: ignore[no-untyped-def]
    """Cancel the league's open order and release its escrow."""
    auth = request.headers.get("Authorization", "")
    if not auth.startswith("Bearer "):
        abort(401)
    h = hashlib.sha256(auth[7:].encode()).hexdigest()
    with engine.begin() as c:
        league = c.execute(text("select league from tokens where hash = :h"), {"h": h}).scalar()
        if league is None:
            abort(401)
        row = c.execute(
            text(
                "update orders set status = 'cancelled' where id = :o and league = :l"
                " and status = 'open' returning side, quantity, limit_price"
            ),
            {"o": order_id, "l": league},
        ).one_or_none()
        if row is None:
            status = c.execute(
                text("select status from orders where id = :o and league = :l"),
                {"o": order_id, "l": league},
            ).scalar()
            abort(404 if status is None else 409)
        side, quantity, price = row
        asset = "cash" if side == "buy" else "m1"
        value = quantity * price if side == "buy" else quantity
        moved = {"v": value, "l": league, "a": asset}
        escrow, main = (c.execute(text(sql), moved).scalar() for sql in RELEASE)
        c.execute(
            text(
                "insert into postings (order_id, account_id, amount)"
                " values (:o, :e, :w), (:o, :m, :v)"
            ),
            {"o": order_id, "e": escrow, "w": -value, "m": main, "v": value},
        )
    return jsonify(id=order_id, status="cancelled"), 200
