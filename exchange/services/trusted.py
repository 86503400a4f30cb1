"""An enterprise's trusted account list (the UK ETS registry's TAL, FACTS.md).

A transfer of an enterprise to a counterparty on its list needs no second
representative. An addition takes effect after a delay (24 hours by default, the
``TRUSTED_ACCOUNT_DELAY_HOURS`` setting), so a stolen token cannot add an account and
use it at once. Additions are made by a representative who may initiate and approve,
or by the regulator; removal takes effect at once.

Auction and continuous orders have no counterparty of the enterprise's choosing (the
clearing house is the counterparty), so the list never exempts an order: an order of a
representative who may only initiate always waits for a second representative.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from exchange.errors import Conflict, Forbidden, InvalidInput, NotFound
from exchange.identity.actor import Actor
from exchange.models import League, ParticipantKind, Rights, Role, TrustedAccount
from exchange.models.base import utcnow

DEFAULT_DELAY_HOURS = 24


def _may_manage(actor: Actor, participant: str) -> None:
    if actor.role is Role.REGULATOR:
        return
    if (
        actor.role is Role.REPRESENTATIVE
        and actor.participant == participant
        and actor.rights == Rights.INITIATE_AND_APPROVE.value
    ):
        return
    raise Forbidden(
        "the trusted list is changed by a representative who may initiate and approve, "
        "or by the regulator"
    )


def entries(session: Session, participant: str) -> Sequence[TrustedAccount]:
    """Current entries (not removed), oldest first; pending ones too."""
    return session.scalars(
        select(TrustedAccount)
        .where(TrustedAccount.participant_code == participant, TrustedAccount.removed_at.is_(None))
        .order_by(TrustedAccount.id)
    ).all()


def add(
    session: Session,
    actor: Actor,
    participant: str,
    counterparty: str,
    *,
    delay_hours: int = DEFAULT_DELAY_HOURS,
) -> TrustedAccount:
    """Put ``counterparty`` on ``participant``'s list, effective after the delay."""
    _may_manage(actor, participant)
    owner = session.get(League, participant)
    if owner is None or owner.kind != ParticipantKind.ENTERPRISE.value:
        raise NotFound(f"no enterprise {participant!r}", field="code")
    if counterparty == participant or session.get(League, counterparty) is None:
        raise InvalidInput("name another existing participant", field="counterparty")
    if any(e.trusted_code == counterparty for e in entries(session, participant)):
        raise Conflict(f"{counterparty} is on the list already", field="counterparty")
    now = utcnow()
    entry = TrustedAccount(
        participant_code=participant,
        trusted_code=counterparty,
        added_by=actor.username,
        added_at=now,
        effective_at=now + timedelta(hours=delay_hours),
    )
    session.add(entry)
    session.flush()
    return entry


def remove(session: Session, actor: Actor, participant: str, counterparty: str) -> TrustedAccount:
    """Take ``counterparty`` off the list at once."""
    _may_manage(actor, participant)
    for entry in entries(session, participant):
        if entry.trusted_code == counterparty:
            entry.removed_at = utcnow()
            return entry
    raise NotFound(f"{counterparty} is not on the list", field="counterparty")


def is_trusted(
    session: Session, participant: str, counterparty: str, now: datetime | None = None
) -> bool:
    """Whether ``counterparty`` is on ``participant``'s list and the delay has passed."""
    moment = now or utcnow()
    return any(
        e.trusted_code == counterparty and e.effective_at <= moment
        for e in entries(session, participant)
    )
