"""Four-eyes approval: one user reviews, a different one approves; either may reject.

Generic over the thing approved: a *subject* is a short string naming it
(``transfer:12``; later ``allocation:7``, ``market-change:3``, an admin acting
for another user). The subject's own service asks here before it changes state
and decides what approval means for it (a transfer settles); this module only
records the steps and enforces the rule:

- ``review`` once, by a user of an approving role, while nothing was rejected;
- ``approve`` once, after the review, by a *different* user of that role
  (the same user is refused, whatever they try);
- ``reject`` once, with a reason, before approval, by a user of that role.

Each step is one append-only row of ``approvals`` (unique per subject and
step, so two concurrent reviewers cannot both succeed: the second insert
fails). Services never commit; the caller's unit of work does.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from exchange.errors import Conflict, Forbidden, InvalidInput
from exchange.identity.actor import Actor
from exchange.models import Approval, ApprovalStep, Role
from exchange.models.base import utcnow

MAX_REASON = 500


@dataclass(frozen=True)
class FourEyes:
    """The approval rule of one kind of subject: which roles may review and approve."""

    roles: tuple[Role, ...] = (Role.REGULATOR,)


@dataclass(frozen=True)
class ApprovalState:
    """Where a subject stands: its review, approval and rejection steps (or None)."""

    review: Approval | None
    approve: Approval | None
    reject: Approval | None

    @property
    def approved(self) -> bool:
        """Reviewed and approved by two different users, and not rejected."""
        return self.approve is not None and self.reject is None


def history(session: Session, subject: str) -> Sequence[Approval]:
    """Every step recorded for ``subject``, oldest first."""
    return session.scalars(
        select(Approval).where(Approval.subject == subject).order_by(Approval.id)
    ).all()


def state(session: Session, subject: str) -> ApprovalState:
    """The steps of ``subject`` so far."""
    steps = {a.step: a for a in history(session, subject)}
    return ApprovalState(
        steps.get(ApprovalStep.REVIEW),
        steps.get(ApprovalStep.APPROVE),
        steps.get(ApprovalStep.REJECT),
    )


def _same_user(actor: Actor, step: Approval) -> bool:
    if actor.user_id is not None and step.user_id is not None:
        return actor.user_id == step.user_id
    return actor.username == step.username


def _check_role(rule: FourEyes, actor: Actor) -> None:
    if actor.role not in rule.roles:
        raise Forbidden(f"this needs the role {' or '.join(r.value for r in rule.roles)}")


def _record(
    session: Session, subject: str, step: ApprovalStep, actor: Actor, reason: str | None = None
) -> Approval:
    row = Approval(
        subject=subject,
        step=step,
        user_id=actor.user_id,
        username=actor.username,
        reason=reason,
        created_at=utcnow(),
    )
    try:
        with session.begin_nested():
            session.add(row)
            session.flush()
    except IntegrityError:
        message = f"{subject} already has a {step.value} step"
        raise Conflict(message, code="approval_exists") from None
    return row


def review(session: Session, subject: str, actor: Actor, rule: FourEyes = FourEyes()) -> Approval:
    """The first pair of eyes: record ``actor``'s review of ``subject``."""
    _check_role(rule, actor)
    current = state(session, subject)
    if current.reject is not None:
        raise Conflict(f"{subject} was rejected", code="approval_rejected")
    if current.review is not None:
        raise Conflict(f"{subject} is already reviewed", code="approval_exists")
    return _record(session, subject, ApprovalStep.REVIEW, actor)


def approve(session: Session, subject: str, actor: Actor, rule: FourEyes = FourEyes()) -> Approval:
    """The second pair of eyes: a user other than the reviewer approves ``subject``."""
    _check_role(rule, actor)
    current = state(session, subject)
    if current.reject is not None:
        raise Conflict(f"{subject} was rejected", code="approval_rejected")
    if current.review is None:
        raise Conflict(f"{subject} must be reviewed before it is approved", code="not_reviewed")
    if current.approve is not None:
        raise Conflict(f"{subject} is already approved", code="approval_exists")
    if _same_user(actor, current.review):
        raise Forbidden(
            f"four eyes: {actor.username} reviewed {subject}; a different user must approve it",
            code="same_user",
        )
    return _record(session, subject, ApprovalStep.APPROVE, actor)


def reject(
    session: Session, subject: str, actor: Actor, reason: str, rule: FourEyes = FourEyes()
) -> Approval:
    """Refuse ``subject`` before it is approved; ``reason`` is required."""
    _check_role(rule, actor)
    text = (reason or "").strip()
    if not text or len(text) > MAX_REASON:
        raise InvalidInput(f"give a reason of 1-{MAX_REASON} characters", field="reason")
    current = state(session, subject)
    if current.approve is not None:
        raise Conflict(f"{subject} is already approved", code="approval_exists")
    if current.reject is not None:
        raise Conflict(f"{subject} was already rejected", code="approval_rejected")
    return _record(session, subject, ApprovalStep.REJECT, actor, text)


__all__ = ["ApprovalState", "FourEyes", "approve", "history", "reject", "review", "state"]
