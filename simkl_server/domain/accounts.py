"""Apps, users and access tokens (what the CLI and the demo set-up create)."""

from __future__ import annotations

import re

from simkl_server.clock import Clock, new_secret
from simkl_server.storage.base import AppRecord, Store

_USERNAME = re.compile(r"[A-Za-z0-9_.\-]{1,64}")


class AccountError(Exception):
    """A request the account rules refuse (duplicate user, unknown app, ...)."""


async def create_app(
    store: Store, clock: Clock, *, name: str, redirect_uri: str | None = None
) -> AppRecord:
    """Register an app with a fresh client_id and client_secret."""
    if not name.strip():
        raise AccountError("an app needs a name")
    return await store.create_app(
        name=name.strip(),
        client_id=new_secret(32),
        client_secret=new_secret(32),
        redirect_uri=redirect_uri,
        created_at=clock.now_ms(),
    )


async def create_user(store: Store, clock: Clock, *, username: str) -> int:
    """Create a user; names are 1-64 letters, digits, `_`, `.` or `-`, and unique."""
    if not _USERNAME.fullmatch(username):
        raise AccountError(f"invalid username {username!r}: use 1-64 of A-Z a-z 0-9 _ . -")
    if await store.find_user(username) is not None:
        raise AccountError(f"user {username!r} already exists")
    return await store.create_user(username=username, created_at=clock.now_ms())


async def issue_token(store: Store, clock: Clock, *, username: str, client_id: str) -> str:
    """The user's access token for that app; the same one again if it already exists."""
    user_id = await store.find_user(username)
    if user_id is None:
        raise AccountError(f"no user named {username!r}")
    app = await store.find_app(client_id)
    if app is None:
        raise AccountError(f"no app with client_id {client_id!r}")
    existing = await store.token_for(app_id=app.id, user_id=user_id)
    if existing is not None:
        return existing
    token = new_secret(32)
    await store.create_token(token=token, app_id=app.id, user_id=user_id, created_at=clock.now_ms())
    return token
