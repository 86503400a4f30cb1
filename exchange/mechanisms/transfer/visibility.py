"""Who sees a transfer: the one rule (成交公示 for approved ones, private negotiation).

Approved transfers (active, completed, and those that went into default after
approval) are public: parties, volume, term, price. Everything before approval
(proposed, accepted, reviewed) and what never got there (rejected, withdrawn, or
in default before approval) is visible only to its two parties (a league's users, an
enterprise's representatives) and the regulator.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlalchemy import Select, and_, or_

from exchange.models import Role, Transfer, TransferStatus

if TYPE_CHECKING:
    from exchange.identity.actor import Actor

PUBLIC_STATUSES = (TransferStatus.ACTIVE, TransferStatus.COMPLETED, TransferStatus.DEFAULTED)
"""Statuses of published transfers (``defaulted`` only once it was approved)."""


def is_public(status: TransferStatus, approved: bool) -> bool:
    """Whether a transfer in ``status`` (``approved``: it passed four eyes) is published."""
    return status in PUBLIC_STATUSES and approved


def public_clause() -> Any:
    """:func:`is_public` in SQL."""
    return and_(Transfer.status.in_(PUBLIC_STATUSES), Transfer.approved_at.is_not(None))


def may_see(viewer: Actor, parties: tuple[str, ...], public: bool) -> bool:
    """Published: everyone. Otherwise: the parties and the regulator."""
    if public or viewer.role is Role.REGULATOR:
        return True
    return viewer.party is not None and viewer.party in parties


def restrict(query: Select[Any], viewer: Actor) -> Select[Any]:
    """``query`` over transfers limited, in SQL, to those ``viewer`` may see."""
    if viewer.role is Role.REGULATOR:
        return query
    public = public_clause()
    if viewer.party:
        mine = or_(Transfer.seller == viewer.party, Transfer.buyer == viewer.party)
        return query.where(or_(public, mine))
    return query.where(public)
