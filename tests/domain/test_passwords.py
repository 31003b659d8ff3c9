"""Passwords: checked against their argon2 hashes, and no hashing before a check needs it."""

from __future__ import annotations

import subprocess
import sys

from simkl_server.domain.passwords import hash_password, verify


def test_a_password_matches_only_its_own_hash() -> None:
    stored = hash_password("correct horse")

    assert verify("correct horse", stored)
    assert not verify("wrong horse", stored)


def test_an_account_without_a_hash_matches_no_password() -> None:
    assert not verify("simkl-server: no such account", None)
    assert not verify("correct horse", None)


def test_importing_the_account_rules_hashes_nothing() -> None:
    """Each CLI command and each server process imports them; a hash is slow on purpose."""
    refuse_hashing = (
        "import argon2\n"
        "def refuse(*args, **kwargs):\n"
        "    raise SystemExit('a password was hashed at import')\n"
        "argon2.PasswordHasher.hash = refuse\n"
        "import simkl_server.domain.auth\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", refuse_hashing], capture_output=True, text=True, check=False
    )

    assert done.returncode == 0, done.stderr
