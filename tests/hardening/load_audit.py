"""After a load run: account for every order, every hold, every run.

``audit(session, logs, clear)`` returns a list of problems (empty: clean):

- every ``client_order_id`` the exchange accepted is exactly one row of
  ``orders`` with the id it answered, and no load order exists that was not
  answered as accepted (nothing lost, nothing duplicated);
- every order's fills add up to its filled quantity and amount, and its status
  agrees with them; every order whose cancel was answered 200 is cancelled;
- every hold's remaining amount is what its order still reserves (live: the
  remaining quantity, or remaining quantity x limit for a buy; otherwise 0), and
  per escrow account the remaining holds add up to its balance;
- ``ledger.verify`` is clean and every completed clearing run replays exactly.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

import ledger
from exchange.models.trading import (
    LIVE_STATUSES,
    ClearingRun,
    Order,
    OrderStatus,
    RunStatus,
    Side,
    Trade,
)
from exchange.services.replay import replay_run
from ledger.models import Account, Hold
from tests.hardening.workload import CID_PREFIX, ClearLog, LeagueLog


def audit(
    session: Session, logs: list[LeagueLog], clear: ClearLog
) -> tuple[list[str], dict[str, Any]]:
    """``(problems, figures)`` of the database after a load run."""
    problems: list[str] = []
    accepted = {(log.league, cid): oid for log in logs for cid, oid in log.accepted.items()}
    cancelled = {oid for log in logs for oid in log.cancelled}
    for log in logs:
        problems += [
            f"{log.league}: repeat answered differently: {m}" for m in log.repeat_mismatches
        ]
        problems += [f"{log.league}: {cid} never answered" for cid in log.unresolved]

    orders = session.scalars(
        select(Order).where(Order.client_order_id.like(f"{CID_PREFIX}%"))
    ).all()
    rows: dict[tuple[str, str], list[Order]] = defaultdict(list)
    for order in orders:
        rows[(order.league_code, order.client_order_id)].append(order)
    for key, found in rows.items():
        if len(found) > 1:
            problems.append(f"duplicated order {key}: {[o.id for o in found]}")
        if key not in accepted:
            problems.append(f"order {found[0].id} {key} exists but was never answered as accepted")
    for key, order_id in accepted.items():
        stored = rows.get(key)
        if not stored:
            problems.append(f"accepted order {key} (id {order_id}) is lost")
        elif stored[0].id != order_id:
            problems.append(f"accepted order {key} answered id {order_id}, stored {stored[0].id}")

    fills: dict[int, list[int]] = defaultdict(lambda: [0, 0])
    for order_id, quantity, amount in session.execute(
        select(Trade.order_id, func.sum(Trade.quantity), func.sum(Trade.amount)).group_by(
            Trade.order_id
        )
    ):
        fills[order_id] = [int(quantity), int(amount)]
    holds = {h.id: h for h in session.scalars(select(Hold))}
    status_counts: dict[str, int] = defaultdict(int)
    for order in orders:
        status_counts[order.status.value] += 1
        quantity, amount = fills.get(order.id, [0, 0])
        if (quantity, amount) != (order.filled_quantity, order.filled_amount):
            problems.append(
                f"order {order.id}: fills {quantity}/{amount} but order says "
                f"{order.filled_quantity}/{order.filled_amount}"
            )
        expected_status = {
            OrderStatus.FILLED: order.filled_quantity == order.quantity,
            OrderStatus.OPEN: order.filled_quantity == 0,
            OrderStatus.PARTIALLY_FILLED: 0 < order.filled_quantity < order.quantity,
            OrderStatus.CANCELLED: order.filled_quantity < order.quantity,
            OrderStatus.EXPIRED: order.filled_quantity < order.quantity,
        }[order.status]
        if not expected_status:
            problems.append(
                f"order {order.id}: status {order.status.value} with "
                f"{order.filled_quantity} of {order.quantity} filled"
            )
        if order.id in cancelled and order.status is not OrderStatus.CANCELLED:
            problems.append(
                f"order {order.id}: cancel answered 200 but status {order.status.value}"
            )
        hold = holds.get(order.hold_id) if order.hold_id is not None else None
        if hold is None:
            problems.append(f"order {order.id} has no hold")
            continue
        remaining = order.quantity - order.filled_quantity
        if order.status in LIVE_STATUSES:
            want = remaining if order.side is Side.SELL else remaining * order.limit_price
        else:
            want = 0
        if hold.remaining != want:
            problems.append(
                f"order {order.id} ({order.status.value}): hold {hold.id} keeps {hold.remaining}, "
                f"the order reserves {want}"
            )

    escrow: dict[int, int] = defaultdict(int)
    for hold in holds.values():
        escrow[hold.escrow_account_id] += hold.remaining
    for account in session.scalars(select(Account).where(Account.kind == "escrow")):
        if escrow.get(account.id, 0) != account.balance:
            problems.append(
                f"escrow {account.owner}/{account.asset}: balance {account.balance}, "
                f"open holds {escrow.get(account.id, 0)}"
            )

    report = ledger.verify(session)
    problems += [f"verify: {v.message}" for v in report.violations]
    runs = session.execute(
        select(ClearingRun.id, ClearingRun.status, ClearingRun.failure_reason)
    ).all()
    replayed = 0
    for run_id, status, reason in runs:
        if status is RunStatus.COMPLETED:
            replay = replay_run(session, run_id)
            replayed += 1
            problems += [f"replay of run {run_id}: {d}" for d in replay.differences]
        else:
            problems.append(f"run {run_id} is {status.value}: {reason}")
    missing_runs = set(clear.runs) - {r[0] for r in runs}
    problems += [f"run {r} answered to the trigger is not stored" for r in sorted(missing_runs)]
    figures = {
        "orders": len(orders),
        "order_statuses": dict(sorted(status_counts.items())),
        "filled_volume": sum(q for q, _a in fills.values()),
        "fills": len(fills),
        "runs": len(runs),
        "runs_replayed": replayed,
        "runs_with_volume": session.scalar(
            select(func.count()).select_from(ClearingRun).where(ClearingRun.volume > 0)
        ),
        "verify_ok": report.ok,
    }
    return problems, figures
