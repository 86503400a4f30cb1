"""API tokens: random, shown once, stored as SHA-256 only."""

from __future__ import annotations

import hashlib
import re
import secrets

TOKEN_PREFIX = "exr_"
# 32 random bytes, base64url: 43 characters after the prefix.
TOKEN_PATTERN = re.compile(r"^exr_[A-Za-z0-9_-]{43}$")


def generate_token() -> str:
    """A new random token, e.g. ``exr_3q2+...`` (256 bits of entropy)."""
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def hash_token(token: str) -> str:
    """The SHA-256 (hex) under which a token is stored and looked up."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def token_prefix(token: str) -> str:
    """The first characters of a token, kept to help people tell their tokens apart."""
    return token[: len(TOKEN_PREFIX) + 6]


def well_formed(token: str) -> bool:
    """True if ``token`` has the shape of a token of this exchange."""
    return TOKEN_PATTERN.fullmatch(token) is not None
