"""Browser sessions end when a user's credentials or rights change.

Each user row has a ``session_generation``; a browser session stores the
generation it was started with (in Flask-Login's id, ``"<user id>:<gen>"``,
the documented "alternative id" pattern) and stops authenticating once the
row's generation moved on. It moves on at logout (every session of that user
ends, not only the one that logged out) and whenever the password, the active
flag, the role or the league of the user changes, however the change is made:
a flush listener bumps it, so no code path can forget to.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import event, update
from sqlalchemy.orm import Session, attributes

from exchange.models import User

WATCHED = ("password_hash", "active", "role", "league_code")


def session_id(user_id: int, generation: int) -> str:
    """The id a browser session stores for a user."""
    return f"{user_id}:{generation}"


def parse_session_id(value: str) -> tuple[int, int] | None:
    """``(user id, generation)`` of a stored session id, None if malformed or old-style."""
    user, sep, generation = value.partition(":")
    if not sep or not user.isascii() or not generation.isascii():
        return None
    if not user.isdigit() or not generation.isdigit() or len(user) > 12 or len(generation) > 12:
        return None
    return int(user), int(generation)


def end_sessions(session: Session, user_id: int) -> None:
    """End every browser session of ``user_id`` (in the caller's unit of work)."""
    session.execute(
        update(User)
        .where(User.id == user_id)
        .values(session_generation=User.session_generation + 1)
    )


@event.listens_for(Session, "before_flush")
def _bump_on_change(session: Session, _context: Any, _instances: Any) -> None:
    for obj in session.dirty:
        if not isinstance(obj, User):
            continue
        if any(attributes.get_history(obj, name).has_changes() for name in WATCHED):
            obj.session_generation = (obj.session_generation or 0) + 1
