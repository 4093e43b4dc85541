"""Password hashes (argon2id) and their check, in constant time whether the user exists or not."""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

HASHER = PasswordHasher()
# checked when the name is unknown, so a wrong name costs as long as a wrong password
_DUMMY = HASHER.hash("no such user: this hash is never matched")
MIN_LENGTH = 10


class WeakPassword(ValueError):
    """A password too short to keep."""


def hash_password(password: str) -> str:
    if len(password) < MIN_LENGTH:
        raise WeakPassword(f"a password has at least {MIN_LENGTH} characters")
    return HASHER.hash(password)


def verify(stored: str | None, password: str) -> bool:
    """Whether ``password`` matches ``stored`` (``None``: no password; still costs a check)."""
    try:
        return HASHER.verify(stored or _DUMMY, password) and stored is not None
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False
