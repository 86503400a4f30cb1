"""The action log: every state-changing request, with who, what, when, from where, outcome.

Written after the response is built, in a transaction of its own, so that an
entry survives a request whose own work was rolled back (a refused or failed
request is logged as well as a successful one). Read it with
``GET /api/v1/action-log`` (auditors, regulators, admins).

Anonymous requests that were refused (no or bad credentials, CSRF failures,
failed logins) are logged within a budget per client address and in total
(``ACTION_LOG_ANONYMOUS_*``); beyond it they are only counted
(``exchange_action_log_dropped_total``) and written to the request log, so
nobody without credentials can grow the table without limit. Requests with a
made-up HTTP method never get here (``exchange.http_methods``).
"""

from __future__ import annotations

from flask import Flask, current_app, g, request
from flask.wrappers import Response
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from exchange.identity import service
from exchange.identity.actor import ANONYMOUS, READ_METHODS, Actor
from exchange.identity.security import anonymous_log_allowed
from exchange.models import utcnow
from exchange.observability import metrics
from exchange.uow import new_unit_of_work


def _actor() -> Actor:
    actor: Actor | None = g.get("actor")
    return actor or ANONYMOUS


def log_in_unit_of_work(session: Session, status: int) -> None:
    """Write this request's entry in the view's own unit of work, as answering ``status``.

    The hot paths (order entry and cancel) call it inside their ``unit_of_work``, so
    the request commits once, its entry with its work. If the response ends with
    another status (it failed after the commit), the after-request hook logs that
    too, in a transaction of its own; a refused request is rolled back and logged
    there as always.
    """
    if request.method in READ_METHODS:
        return
    actor = _actor()
    _record(session, actor, _auth_of(actor), status)
    g.action_logged_status = status


def _auth_of(actor: Actor) -> str | None:
    return actor.auth or ("invalid-token" if g.get("auth_failure") else None)


def _log_request(response: Response) -> Response:
    """``after_request``: append the request to the action log (unsafe methods only)."""
    if request.method in READ_METHODS:
        return response
    if g.get("action_logged_status") == response.status_code:
        return response  # written with the request's work (``log_in_unit_of_work``)
    # Whatever the request left uncommitted is discarded at teardown anyway; end it
    # now so that the log's own transaction never waits for the request's locks.
    pending: Session | None = g.get("db_session")
    if pending is not None and pending.in_transaction():
        try:
            pending.rollback()
        except SQLAlchemyError:  # the connection died: nothing of it can be pending
            pending.invalidate()
    actor = _actor()
    # Anyone can send anonymous refused requests: logged within a budget only.
    refused_anonymous = not actor.authenticated and response.status_code >= 400
    if refused_anonymous and not anonymous_log_allowed(request.remote_addr):
        metrics.anonymous_log_dropped()
        return response
    auth = _auth_of(actor)
    factory: sessionmaker[Session] = current_app.extensions["exchange.db"]["sessions"]
    try:
        with new_unit_of_work(factory) as session:
            _record(session, actor, auth, response.status_code)
    except Exception:  # the response stands; the failure is loud in the logs
        current_app.logger.exception("could not write the action log")
    return response


def _record(session: Session, actor: Actor, auth: str | None, status: int) -> None:
    service.record_action(
        session,
        at=utcnow(),
        user_id=actor.user_id,
        username=actor.username,
        role=actor.role.value if actor.role else None,
        league_code=actor.league_code,
        auth=auth,
        token_id=actor.token_id,
        method=request.method[:10],
        path=request.path[:2000],
        endpoint=(request.endpoint or "")[:200] or None,
        status=status,
        remote_addr=(request.remote_addr or "")[:64] or None,
    )


def record_cli_action(session: Session, command: str) -> None:
    """Log an administrative command run from the ``exchange`` console script."""
    service.record_action(
        session,
        at=utcnow(),
        username="cli",
        auth="cli",
        method="CLI",
        path=command[:2000],
        endpoint=None,
        status=0,
        remote_addr=None,
    )


def init_action_log(app: Flask) -> None:
    """Log every state-changing request of ``app``."""
    app.after_request(_log_request)
