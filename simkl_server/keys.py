"""The server's secret key: from the settings, else from a file made on first start.

The key never enters the database, so a database dump alone yields no usable AUTH V1 token,
session or CSRF token. Rotating it (a new value, or deleting the file) changes every AUTH V1
token and signs every browser out; AUTH V2 tokens are random values stored as hashes and
survive.
"""

from __future__ import annotations

import contextlib
import logging
import os
import secrets
import stat
from pathlib import Path

from simkl_server.config import MIN_SECRET_KEY_CHARS, Settings

log = logging.getLogger("simkl_server")


class SecretKeyError(RuntimeError):
    """The key file exists but cannot be used."""


def load_secret_key(settings: Settings) -> bytes:
    """The configured key, or the key file's content (created with mode 0600 if missing)."""
    if settings.secret_key is not None:
        return settings.secret_key.get_secret_value().encode()
    return _read_or_create(settings.key_file)


def _read_or_create(path: Path) -> bytes:
    with contextlib.suppress(FileExistsError):  # made earlier, or by a process starting now
        _create(path)
    key = path.read_text().strip()
    if len(key) < MIN_SECRET_KEY_CHARS:
        raise SecretKeyError(f"secret key file {path} holds fewer than 32 characters")
    if path.stat().st_mode & (stat.S_IRWXG | stat.S_IRWXO):
        log.warning("secret key file %s is readable by other users: chmod 600 it", path)
    return key.encode()


def _create(path: Path) -> None:
    """Write a fresh key beside `path`, then link it into place: a process starting at the
    same moment sees either no file or a complete one, never a half-written key."""
    path.parent.mkdir(parents=True, exist_ok=True)
    draft = path.with_name(f".{path.name}.{secrets.token_hex(4)}")
    descriptor = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(descriptor, "w") as file:
            file.write(secrets.token_hex(32) + "\n")
        os.link(draft, path)
    finally:
        draft.unlink()
    log.info("created the secret key file %s (keep it: AUTH V1 tokens derive from it)", path)
