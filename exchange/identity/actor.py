"""Who acts: the :class:`Actor` behind a request, job or command, and the anonymous visitor."""

from __future__ import annotations

from dataclasses import dataclass

from exchange.errors import ExchangeError
from exchange.extensions import READ_METHODS
from exchange.models.identity import Role


@dataclass(frozen=True)
class Actor:
    """The user behind the current request (or an anonymous visitor)."""

    username: str
    role: Role | None = None
    league_code: str | None = None
    user_id: int | None = None
    auth: str | None = None  # "token", "session" or None (anonymous)
    token_id: int | None = None
    participant: str | None = None
    """A representative's enterprise (a league user's is its league, ``league_code``)."""
    rights: str | None = None
    """A representative's rights (``exchange.models.identity.Rights``)."""

    @property
    def party(self) -> str | None:
        """The participant this actor acts for by itself: its league or its enterprise."""
        if self.role is Role.LEAGUE:
            return self.league_code
        if self.role is Role.REPRESENTATIVE:
            return self.participant
        return None

    @property
    def authenticated(self) -> bool:
        """True for a logged-in user or a valid API token."""
        return self.role is not None


ANONYMOUS = Actor(username="anonymous")


class Unauthorized(ExchangeError):
    """No valid credentials were given."""

    status = 401
    code = "unauthorized"


__all__ = ["ANONYMOUS", "READ_METHODS", "Actor", "Role", "Unauthorized"]
