"""Passwords: argon2id hashes (argon2-cffi's defaults, RFC 9106's second recommendation)."""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

MIN_CHARS = 8
MAX_CHARS = 1024  # hashing is deliberately slow; a megabyte "password" would be a weapon
_HASHER = PasswordHasher()
# Checked when the account has no usable hash, so a missing user costs what a wrong password
# does and the time taken does not tell which names exist.
_DUMMY_HASH = _HASHER.hash("simkl-server: no such account")


class PasswordError(ValueError):
    """A password that may not be set."""


def hash_password(password: str) -> str:
    """The argon2 hash to store for a new password."""
    if not MIN_CHARS <= len(password) <= MAX_CHARS:
        raise PasswordError(f"a password needs {MIN_CHARS} to {MAX_CHARS} characters")
    return _HASHER.hash(password)


def verify(password: str, stored: str | None) -> bool:
    """Whether the password matches the stored hash (always False without one)."""
    if len(password) > MAX_CHARS:
        return False
    try:
        return _HASHER.verify(stored or _DUMMY_HASH, password) and stored is not None
    except (VerificationError, InvalidHashError):
        return False
