"""The contract PDF of a transfer: who may have it, and what goes in it."""

from __future__ import annotations

from sqlalchemy.orm import Session

from exchange.errors import Conflict, ExchangeError, Forbidden
from exchange.identity.actor import Actor
from exchange.mechanisms.transfer import contract
from exchange.models import League, Payment, Role, Transfer, TransferStatus
from exchange.models.base import utcnow
from exchange.services import families
from exchange.services.transfer_views import approval_steps, get_transfer, schedule

APPROVED = (TransferStatus.ACTIVE, TransferStatus.COMPLETED, TransferStatus.DEFAULTED)
STEP_ZH = {"review": "审核", "approve": "批准", "reject": "驳回"}
STATUS_ZH = {
    "proposed": "已提议",
    "accepted": "已接受",
    "reviewed": "已审核",
    "active": "执行中",
    "completed": "已完成",
    "rejected": "已驳回",
    "withdrawn": "已撤回",
    "defaulted": "违约",
    "pending": "待分配",
    "secured": "已冻结",
    "delivered": "已交付",
    "cancelled": "已取消",
}


class ContractUnavailable(ExchangeError):
    """The server cannot write the PDF (no CJK font installed)."""

    status = 503
    code = "contract_unavailable"


def yuan(fen: int) -> str:
    """Fen as yuan with two decimals and thousands separators (``1,234.50``)."""
    sign = "-" if fen < 0 else ""
    whole, cents = divmod(abs(fen), 100)
    return f"{sign}{whole:,}.{cents:02d}"


def contract_pdf(session: Session, transfer_id: int, actor: Actor) -> bytes:
    """The contract of an approved transfer, for its parties and the regulator."""
    transfer = get_transfer(session, transfer_id, actor)
    mine = actor.role is Role.LEAGUE and actor.league_code in transfer.parties
    if not mine and actor.role is not Role.REGULATOR:
        raise Forbidden("the contract is for the two parties and the regulator")
    if transfer.status not in APPROVED or transfer.approved_at is None:
        raise Conflict(
            f"transfer {transfer.id} is {transfer.status.value}: no contract before approval",
            code="transfer_status",
        )
    try:
        return contract.render(contract_data(session, transfer))
    except contract.FontMissing as err:
        raise ContractUnavailable(str(err)) from None


def contract_data(session: Session, transfer: Transfer) -> contract.ContractData:
    """What the contract shows, formatted."""
    market = families.family_markets(session, transfer.market_family)
    unit = market[0].unit if market else "m3"
    parties = []
    for code, zh, en in (
        (transfer.seller, "出让方", "Seller"),
        (transfer.buyer, "受让方", "Buyer"),
    ):
        league = session.get(League, code)
        parties.append(
            contract.Party(
                code, league.name_zh if league else code, league.name_en if league else code, zh, en
            )
        )
    years = transfer.last_year - transfer.first_year + 1
    upfront = transfer.payment is Payment.UPFRONT
    return contract.ContractData(
        number=f"WT-{transfer.id:06d}",
        status=f"{STATUS_ZH[transfer.status.value]} {transfer.status.value}",
        market_family=transfer.market_family,
        unit=unit,
        parties=parties,
        quantity_per_year=transfer.quantity_per_year,
        first_year=transfer.first_year,
        last_year=transfer.last_year,
        price_yuan=yuan(transfer.price),
        total_yuan=yuan(transfer.price * transfer.quantity_per_year * years),
        payment_zh="首年交付时一次付清" if upfront else "逐年随交付支付",
        payment_en="all with the first delivery" if upfront else "yearly, with each delivery",
        years=[
            contract.ContractYear(
                row["year"],
                row["quantity"],
                yuan(row["payment"]),
                row["due"].strftime("%Y-%m-%d"),
                f"{STATUS_ZH[row['status']]} {row['status']}",
                row["journal_hash"],
            )
            for row in schedule(transfer)
        ],
        approvals=[
            contract.ContractStep(
                STEP_ZH[s["step"]],
                s["step"],
                s["username"],
                s["at"].strftime("%Y-%m-%d %H:%M UTC"),
                s["reason"],
            )
            for s in approval_steps(session, transfer)
        ],
        issued_at=utcnow().strftime("%Y-%m-%d %H:%M UTC"),
    )
