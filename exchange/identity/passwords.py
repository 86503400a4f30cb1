"""Password hashing with werkzeug (scrypt), never stored or logged in clear."""

from __future__ import annotations

from werkzeug.security import check_password_hash, generate_password_hash

MIN_PASSWORD_LENGTH = 8
MAX_PASSWORD_LENGTH = 256
# werkzeug's method string; tests may lower the cost, production keeps the default.
HASH_METHOD = "scrypt"

# Compared against when the user does not exist, so that a wrong username
# costs as much time as a wrong password.
_DUMMY_HASH = generate_password_hash("not-a-real-password-0123456789")


def hash_password(password: str) -> str:
    """A salted scrypt hash of ``password``."""
    return generate_password_hash(password, method=HASH_METHOD)


def check_password(password_hash: str | None, password: str) -> bool:
    """True if ``password`` matches; always spends the time of one hash check."""
    if not password_hash:
        check_password_hash(_DUMMY_HASH, password)
        return False
    return check_password_hash(password_hash, password)
