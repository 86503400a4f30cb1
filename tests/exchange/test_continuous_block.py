"""Block trades: proposed by one league, confirmed by the other, settled DvP, reported apart."""

from __future__ import annotations

from typing import Any

from flask import Flask
from flask.testing import FlaskClient

import ledger
from tests.exchange.continuous_helpers import Auth, funded_market, order
from tests.exchange.trading_helpers import balance, verify_ok


def propose(client: FlaskClient, auth: Auth, league: str, **body: Any) -> Any:
    return client.post("/api/v1/block-trades", json=body, headers=auth("league", league))


def test_block_trade_is_confirmed_settled_and_not_in_the_close(
    demo_registry: Flask, client: FlaskClient, auth: Auth
) -> None:
    app = demo_registry
    mid = funded_market(app, client, auth)
    rights = ledger.market_asset(mid)
    assert order(client, auth, "ordos", mid, "sell", 100, 10_000, "s").status_code == 201
    assert order(client, auth, "baotou", mid, "buy", 100, 10_000, "b").status_code == 201
    proposed = propose(client, auth, "wuhai", market_id=mid, side="sell", counterparty="chifeng",
                       quantity=100_000, price=12_900, client_id="blk-1")  # fmt: skip
    assert proposed.status_code == 201, proposed.get_json()
    block = proposed.get_json()
    assert (block["buyer"], block["seller"], block["status"]) == ("chifeng", "wuhai", "proposed")
    again = propose(client, auth, "wuhai", market_id=mid, side="sell", counterparty="chifeng",
                    quantity=100_000, price=12_900, client_id="blk-1")  # fmt: skip
    assert again.status_code == 200 and again.get_json()["id"] == block["id"]
    own = client.post(
        f"/api/v1/block-trades/{block['id']}/confirm", headers=auth("league", "wuhai")
    )
    assert own.status_code == 403
    stranger = client.post(
        f"/api/v1/block-trades/{block['id']}/confirm", headers=auth("league", "ordos")
    )
    assert stranger.status_code == 404
    done = client.post(
        f"/api/v1/block-trades/{block['id']}/confirm", headers=auth("league", "chifeng")
    )
    assert done.status_code == 200, done.get_json()
    assert done.get_json()["status"] == "confirmed"
    twice = client.post(
        f"/api/v1/block-trades/{block['id']}/confirm", headers=auth("league", "chifeng")
    )
    assert twice.status_code == 409
    assert balance(app, "chifeng", rights)["posted"] == 100_000
    assert balance(app, "wuhai", ledger.CASH)["posted"] == 100_000 * 12_900
    assert balance(app, "chifeng", ledger.CASH)["held"] == 0
    trades = client.get(f"/api/v1/markets/{mid}/trades").get_json()
    assert [t["kind"] for t in trades["trades"]] == ["block", "listed"]
    assert trades["today"]["volume"] == 100  # listed only
    assert trades["today"]["block_volume"] == 100_000
    assert trades["today"]["close"] == 10_000  # the block trade is not in the close
    verify_ok(app)


def test_block_terms_are_checked(demo_registry: Flask, client: FlaskClient, auth: Auth) -> None:
    mid = funded_market(demo_registry, client, auth)
    base = {"market_id": mid, "side": "sell", "counterparty": "chifeng", "client_id": "x"}
    small = propose(client, auth, "wuhai", **base, quantity=99_999, price=10_000)
    assert small.status_code == 422 and "quantity" in str(small.get_json())
    far = propose(client, auth, "wuhai", **base, quantity=100_000, price=13_001)
    assert far.status_code == 422
    assert "7000" in far.get_json()["message"] and "13000" in far.get_json()["message"]
    alone = propose(client, auth, "wuhai", **{**base, "counterparty": "wuhai"},
                    quantity=100_000, price=10_000)  # fmt: skip
    assert alone.status_code == 422


def test_either_party_withdraws_and_a_short_seller_cannot_confirm(
    demo_registry: Flask, client: FlaskClient, auth: Auth
) -> None:
    mid = funded_market(demo_registry, client, auth)
    body = {"market_id": mid, "side": "buy", "counterparty": "chifeng", "quantity": 100_000,
            "price": 10_000}  # fmt: skip
    # baotou buys from chifeng, which holds no rights: confirmation fails, nothing changes
    short = propose(client, auth, "baotou", **body, client_id="b1").get_json()
    refused = client.post(f"/api/v1/block-trades/{short['id']}/confirm",
                          headers=auth("league", "chifeng"))  # fmt: skip
    assert refused.status_code == 409, refused.get_json()
    assert balance(demo_registry, "baotou", ledger.CASH)["held"] == 0
    gone = client.post(f"/api/v1/block-trades/{short['id']}/cancel",
                       headers=auth("league", "chifeng"))  # fmt: skip
    assert gone.status_code == 200 and gone.get_json()["status"] == "cancelled"
    listed = client.get("/api/v1/block-trades", headers=auth("regulator")).get_json()
    assert [b["status"] for b in listed] == ["cancelled"]


def test_a_proposal_is_live_auditors_see_it_once_settled(
    demo_registry: Flask, client: FlaskClient, auth: Auth
) -> None:
    """A proposed block trade is a live quote: its parties and the regulator see it; an
    auditor and other leagues only once it is confirmed (the sealed rule of live orders)."""
    mid = funded_market(demo_registry, client, auth)
    block = propose(client, auth, "wuhai", market_id=mid, side="sell", counterparty="chifeng",
                    quantity=100_000, price=12_900, client_id="blk-live").get_json()  # fmt: skip

    def seen(headers: dict[str, str]) -> list[int]:
        return [b["id"] for b in client.get("/api/v1/block-trades", headers=headers).get_json()]

    assert block["id"] in seen(auth("league", "wuhai"))
    assert block["id"] in seen(auth("league", "chifeng"))
    assert block["id"] in seen(auth("regulator"))
    assert block["id"] not in seen(auth("auditor"))
    assert block["id"] not in seen(auth("league", "ordos"))
    done = client.post(
        f"/api/v1/block-trades/{block['id']}/confirm", headers=auth("league", "chifeng")
    )
    assert done.status_code == 200, done.get_json()
    assert block["id"] in seen(auth("auditor"))
