"""Passwords: argon2id hashes (argon2-cffi's defaults, RFC 9106's second recommendation)."""

from __future__ import annotations

from functools import cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

MIN_CHARS = 8
MAX_CHARS = 1024  # hashing is deliberately slow; a megabyte "password" would be a weapon
_HASHER = PasswordHasher()


class PasswordError(ValueError):
    """A password that may not be set."""


@cache
def _dummy_hash() -> str:
    """Checked when the account has no usable hash, so a missing user costs what a wrong
    password does and the time taken does not tell which names exist. Made on first need: at
    import it would cost every process (each CLI command, each server) a deliberately slow hash."""
    return _HASHER.hash("simkl-server: no such account")


def hash_password(password: str) -> str:
    """The argon2 hash to store for a new password."""
    if not MIN_CHARS <= len(password) <= MAX_CHARS:
        raise PasswordError(f"a password needs {MIN_CHARS} to {MAX_CHARS} characters")
    return _HASHER.hash(password)


def verify(password: str, stored: str | None) -> bool:
    """Whether the password matches the stored hash (always False without one)."""
    if len(password) > MAX_CHARS:
        return False
    # Asked for whether or not the account has a hash: the first check of a process pays for
    # making it either way, so not even that one tells a missing name from a wrong password.
    dummy = _dummy_hash()
    try:
        return _HASHER.verify(stored or dummy, password) and stored is not None
    except (VerificationError, InvalidHashError):
        return False
