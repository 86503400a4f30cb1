"""Demo users (one per league, a regulator, an auditor, an admin) and their credentials file.

FOR THE DEMO ONLY: the passwords are known to everyone who reads this file,
and the credentials file holds working API tokens in clear.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from exchange.data import demo_enterprises, demo_registry
from exchange.identity import service
from exchange.models import League, Role, User, utcnow

DEMO_TOKEN_DAYS = 30
WARNING = (
    "DEMO ONLY. Known passwords and working API tokens of the demo users of a local "
    "exchange. Never use these users, passwords or this file in production."
)


def demo_users() -> list[tuple[str, Role, str | None]]:
    """(username, role, league) of every demo user: the league users are named by league code."""
    users: list[tuple[str, Role, str | None]] = [
        (league["code"], Role.LEAGUE, league["code"]) for league in demo_registry.LEAGUES
    ]
    users += [("regulator", Role.REGULATOR, None), ("auditor", Role.AUDITOR, None)]
    users += [("admin", Role.ADMIN, None)]
    return users


def demo_representatives() -> list[tuple[str, str, str]]:
    """(username, enterprise, rights) of every demo representative (synthetic enterprises)."""
    return [
        (username, enterprise["code"], rights)
        for enterprise in demo_enterprises.ENTERPRISES
        for username, rights in demo_enterprises.representatives(enterprise)
    ]


def demo_password(username: str) -> str:
    """The known demo password of a demo user, e.g. ``demo-ordos``."""
    return f"demo-{username}"


def _credentials_valid(session: Session, path: Path) -> bool:
    """True if ``path`` lists every demo user (and the representative of every demo
    enterprise that exists) with a token that still works."""
    try:
        users = json.loads(path.read_text(encoding="utf-8"))["users"]
        names = [u[0] for u in demo_users()] + [
            r[0] for r in demo_representatives() if session.get(League, r[1]) is not None
        ]  # the representatives seeded: those of the demo enterprises that exist
        for username in names:
            actor = service.resolve_token(session, users[username]["token"])
            if actor.username != username:
                return False
    except (OSError, ValueError, KeyError, TypeError, service.TokenRefused):
        return False
    return True


def _write_private(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` atomically, readable by the owner only."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".demo-credentials-")
    try:
        os.fchmod(fd, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _seed_representatives(session: Session) -> dict[str, dict[str, Any]]:
    """Representatives of the demo enterprises that exist, with tokens."""
    entries: dict[str, dict[str, Any]] = {}
    for username, enterprise, rights in demo_representatives():
        if session.get(League, enterprise) is None:
            continue
        password = demo_password(username)
        user = service.create_user(
            session, username=username, role=Role.REPRESENTATIVE, password=password,
            participant_code=enterprise, rights=rights,
        )  # fmt: skip
        new = service.create_token(session, user.id, days=DEMO_TOKEN_DAYS, name="demo")
        entries[username] = {
            "role": Role.REPRESENTATIVE.value,
            "participant": enterprise,
            "rights": rights,
            "league": None,
            "password": password,
            "token": new.secret,
            "token_expires_at": new.token.expires_at.isoformat(),
        }
    return entries


def seed_identity(session: Session, credentials_path: str | Path) -> str | None:
    """Create the demo users and tokens, and write their credentials file, on a database
    without users.

    Never touches an existing user (no password reset, no reactivation, no new
    token): if any user exists, it only says whether the credentials file still
    works, and how to make tokens if not. Returns a line for the CLI, or None
    if nothing needed saying.
    """
    path = Path(credentials_path)
    if session.scalar(select(func.count()).select_from(User)):
        if _credentials_valid(session, path):
            return None
        return (
            f"users: the database has users already, so no demo user was created or changed; "
            f"{path} is missing or its tokens no longer work. Make a token for an existing user "
            f"with `exchange create-token <username>` (new users: `exchange create-user`)."
        )
    entries: dict[str, dict[str, Any]] = {}
    for username, role, league in demo_users():
        password = demo_password(username)
        user = service.create_user(
            session, username=username, role=role, league_code=league, password=password
        )
        new = service.create_token(session, user.id, days=DEMO_TOKEN_DAYS, name="demo")
        entries[username] = {
            "role": user.role.value,
            "league": user.league_code,
            "password": password,
            "token": new.secret,
            "token_expires_at": new.token.expires_at.isoformat(),
        }
    entries.update(_seed_representatives(session))
    document = {
        "warning": WARNING,
        "generated_at": utcnow().isoformat(),
        "login_url": "/login",
        "api_header": "Authorization: Bearer <token>",
        "users": entries,
    }
    _write_private(path, json.dumps(document, ensure_ascii=False, indent=2) + "\n")
    return f"users: {len(entries)} demo users with tokens; credentials in {path}"
