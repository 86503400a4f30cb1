"""Who may open a page: anonymous visitors go to the login page, other roles get 403."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from flask import redirect, request, url_for
from werkzeug.exceptions import Forbidden

from exchange.api.access import Actor, Role, current_actor

F = TypeVar("F", bound=Callable[..., Any])


def page_actor(*roles: Role) -> Actor | None:
    """The actor if it has one of ``roles``; None if anonymous; 403 for another role."""
    actor = current_actor()
    if not actor.authenticated:
        return None
    if actor.role not in roles:
        raise Forbidden("this page is for the role " + " or ".join(r.value for r in roles))
    return actor


def pages_for(*roles: Role) -> Callable[[F], F]:
    """Decorator: the view runs for ``roles`` only (anonymous: 302 to ``/login?next=``)."""

    def decorate(view: F) -> F:
        @wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            actor = page_actor(*roles)
            if actor is None:
                return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))
            return view(*args, actor=actor, **kwargs)

        return wrapper  # type: ignore[return-value]

    return decorate
