"""``/api/v1/orders`` and clearing runs: order intake, market data, replay audit."""

from __future__ import annotations

from typing import Any

from flask import current_app
from flask.views import MethodView
from flask_smorest import Blueprint
from sqlalchemy.orm import Session

from exchange.api.access import Actor, Role, current_actor, require_roles
from exchange.api.representatives_api import InstructionSchema, pending_response
from exchange.api.trading_schemas import (
    ClearingRunSchema,
    OrderBatchResultSchema,
    OrderBatchSchema,
    OrderCreateSchema,
    OrderPageSchema,
    OrderQuerySchema,
    OrderSchema,
    ReplaySchema,
    RunQuerySchema,
    RunTriggerSchema,
)
from exchange.errors import Forbidden, InvalidInput, NotFound
from exchange.extensions import db
from exchange.identity.action_log import log_in_unit_of_work
from exchange.mechanisms.call_auction import run as clearing
from exchange.mechanisms.call_auction import stats as run_stats
from exchange.models.base import utcnow
from exchange.models.trading import CLIENT_ORDER_KEY, Order, RunTrigger
from exchange.services import (
    instructions,
    order_batches,
    orders,
    participants,
    registry,
    replay,
    visibility,
    windows,
)
from exchange.services.commands import PlaceOrder
from exchange.uow import idempotent_unit_of_work, unit_of_work

blp = Blueprint("trading", __name__, url_prefix="/api/v1", description="Orders and clearing")

RUN_PAGE_SCHEMA = ClearingRunSchema(many=True)
ORDER_CREATE = OrderCreateSchema()  # an instance: webargs builds a class's anew per request


def trading_party(actor: Actor, requested: str | None) -> str:
    """The participant an order is entered or cancelled for: the caller's own league, or
    a representative's enterprise (if its rights let it initiate)."""
    party = actor.party
    if party is None:
        raise InvalidInput("this user is bound to no league", field="league")
    if requested is not None and requested != party:
        raise Forbidden("a user may only trade for their own participant", field="league")
    if actor.role is Role.REPRESENTATIVE and not participants.represents(
        actor, party, participants.INITIATING_RIGHTS
    ):
        raise Forbidden(f"a representative with {actor.rights} rights may not trade")
    return party


def _visible_league(actor: Actor) -> str | None:
    """League users and representatives see their own participant's orders only;
    regulators and auditors see all."""
    return actor.party if actor.role in (Role.LEAGUE, Role.REPRESENTATIVE) else None


@blp.route("/orders")
class Orders(MethodView):
    @blp.arguments(ORDER_CREATE)
    @blp.response(201, OrderSchema)
    @blp.alt_response(200, schema=OrderSchema, description="Repeat of a client_order_id")
    @blp.alt_response(
        202, schema=InstructionSchema, description="Waits for a second representative"
    )
    def post(self, data: dict[str, Any]) -> tuple[Order, int]:
        """Enter a limit order; its rights (sell) or cash (buy) are held at once.

        An enterprise's representative with ``initiate`` only: 202, an instruction that a
        second representative approves (``/api/v1/instructions/<id>/approve``)."""
        actor = require_roles(Role.LEAGUE, Role.REPRESENTATIVE)
        league = trading_party(actor, data.pop("league", None))
        command = PlaceOrder.from_data(data)
        if actor.role is Role.REPRESENTATIVE and instructions.needs_second(db.session, actor):
            with unit_of_work(db.session) as session:
                row = instructions.initiate(session, actor, instructions.ORDER, data)
                log_in_unit_of_work(session, 202)
            return pending_response(row)  # type: ignore[return-value]

        def enter(session: Session) -> orders.PlacedOrder:
            placed = orders.place_order(session, command, league=league, actor=actor.username)
            # one commit: the action log's entry with the order
            log_in_unit_of_work(session, 201 if placed.created else 200)
            return placed

        placed = idempotent_unit_of_work(db.session, enter, key=CLIENT_ORDER_KEY)
        return placed.order, 201 if placed.created else 200

    @blp.arguments(OrderQuerySchema, location="query")
    @blp.response(200, OrderPageSchema)
    def get(self, query: dict[str, Any]) -> dict[str, Any]:
        """Orders, newest first: a league's own; every league's for the regulator.

        Live orders are sealed: auditors see orders only once they have left the book.
        """
        actor = require_roles(Role.LEAGUE, Role.REPRESENTATIVE, Role.REGULATOR, Role.AUDITOR)
        league = _visible_league(actor)
        if league is None:
            league = query.pop("league", None)
        else:
            query.pop("league", None)
        total, items = orders.list_orders(db.session, league=league, viewer=actor, **query)
        return {
            "items": items,
            "page": query["page"],
            "per_page": query["per_page"],
            "total": total,
        }


@blp.route("/orders/batch")
class OrderBatch(MethodView):
    @blp.arguments(OrderBatchSchema)
    @blp.response(201, OrderBatchResultSchema)
    @blp.alt_response(200, schema=OrderBatchResultSchema, description="Every order was a repeat")
    def post(self, data: dict[str, Any]) -> tuple[dict[str, Any], int]:
        """Enter up to 500 orders in one transaction, all or nothing (same checks as one)."""
        actor = require_roles(Role.LEAGUE)
        league = trading_party(actor, None)
        with unit_of_work(db.session) as session:
            placed = order_batches.place_orders(
                session,
                league=league,
                items=[PlaceOrder.from_data(item) for item in data["orders"]],
                actor=actor.username,
            )
        created = sum(1 for p in placed if p.created)
        body = {
            "created": created,
            "repeated": len(placed) - created,
            "orders": [p.order for p in placed],
        }
        return body, 201 if created else 200


@blp.route("/orders/<int:order_id>")
class OrderById(MethodView):
    @blp.response(200, OrderSchema)
    @blp.alt_response(404, description="No such order (or not yours)")
    def get(self, order_id: int) -> Order:
        """One order with its fills."""
        actor = require_roles(Role.LEAGUE, Role.REPRESENTATIVE, Role.REGULATOR, Role.AUDITOR)
        order = orders.get_order(db.session, order_id, league=_visible_league(actor))
        if not visibility.may_see_order(actor, order.league_code, order.status):
            raise NotFound(f"no order with id {order_id}", field="order_id")
        return order

    @blp.response(200, OrderSchema)
    @blp.alt_response(404, description="No such order (or not yours)")
    @blp.alt_response(409, description="The order is no longer open")
    def delete(self, order_id: int) -> Order:
        """Cancel an open order; its hold is released."""
        actor = require_roles(Role.LEAGUE, Role.REPRESENTATIVE)
        league = trading_party(actor, None)
        with unit_of_work(db.session) as session:
            order = orders.cancel_order(
                session, order_id=order_id, league=league, actor=actor.username
            )
            log_in_unit_of_work(session, 200)  # one commit: the log entry with the cancel
        return order


@blp.route("/markets/<int:market_id>/clearing-runs")
class MarketRuns(MethodView):
    @blp.arguments(RunQuerySchema, location="query")
    @blp.response(200, ClearingRunSchema(many=True))
    def get(self, query: dict[str, Any], market_id: int) -> list[dict[str, Any]]:
        """Past clearing runs of a market (public auction results), newest first.

        Curves only for the regulator (auditors: once no order of the run is live).
        """
        actor = current_actor()
        registry.get_market(db.session, market_id)
        _total, runs = clearing.list_runs(db.session, market_id, **query)
        return [run_stats.run_view(db.session, run, actor) for run in runs]

    @blp.arguments(RunTriggerSchema)
    @blp.response(201, ClearingRunSchema)
    @blp.alt_response(200, schema=ClearingRunSchema, description="The window was already run")
    def post(self, data: dict[str, Any], market_id: int) -> tuple[dict[str, Any], int]:
        """Clear the market now (regulator); one run per (market, window)."""
        actor = require_roles(Role.REGULATOR)
        now = utcnow()
        with unit_of_work(db.session) as session:  # the read ends here; the run is its own
            market = registry.get_market(session, market_id)
            window = data.get("window")
            if window is not None:  # a past window of the market's schedule, nothing else
                window = windows.check_window(market.clearing_schedule, window, now)
        window = window or now
        outcome = clearing.run_clearing(
            current_app.extensions["exchange.db"]["sessions"],
            market_id,
            window,
            trigger=RunTrigger.MANUAL,
            actor=actor.username,
        )
        run = clearing.get_run(db.session, outcome.run_id)
        return run_stats.run_view(db.session, run, actor), 201 if outcome.created else 200


@blp.route("/clearing-runs/<int:run_id>")
class RunById(MethodView):
    @blp.response(200, ClearingRunSchema)
    def get(self, run_id: int) -> dict[str, Any]:
        """One clearing run: prices, volume, bids and bidders; curves as for the list."""
        run = clearing.get_run(db.session, run_id)
        return run_stats.run_view(db.session, run, current_actor())


@blp.route("/clearing-runs/<int:run_id>/replay")
class RunReplay(MethodView):
    @blp.response(200, ReplaySchema)
    @blp.alt_response(409, schema=ReplaySchema, description="The replay found differences")
    def post(self, run_id: int) -> tuple[dict[str, Any], int]:
        """Re-clear the run from its stored snapshot and compare with the record."""
        require_roles(Role.REGULATOR, Role.AUDITOR)
        report = replay.replay_run(db.session, run_id)
        body = {
            "run_id": report.run_id,
            "ok": report.ok,
            "differences": report.differences,
            "book_hash": report.book_hash,
            "result_hash": report.result_hash,
        }
        return body, 200 if report.ok else 409
