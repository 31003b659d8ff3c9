"""Who may call: apps (client_id), users and their access tokens; how a request is
authenticated, and what the admin commands create, list, delete and revoke."""

from __future__ import annotations

import re

from simkl_server.clock import new_secret
from simkl_server.domain.kinds import SETTINGS_BUCKET
from simkl_server.domain.models import App, Caller, Grant, User
from simkl_server.errors import ClientIdFailed, UserTokenFailed
from simkl_server.storage.base import Store, WriteTx

_USERNAME = re.compile(r"[A-Za-z0-9_.\-]{1,64}")


class AccountError(Exception):
    """A request the account rules refuse (duplicate user, unknown app, ...)."""


async def authenticate(store: Store, *, client_id: str | None, token: str | None) -> Caller:
    """The app and user behind a request: 412 client_id_failed for a missing or unknown app,
    401 user_token_failed for a missing, unknown or revoked token or one of another app."""
    if not client_id:
        raise ClientIdFailed
    found = await store.read.accounts.authenticate(client_id, token)
    if found is None:
        raise ClientIdFailed
    app_id, user_id = found
    if token is None or user_id is None:
        raise UserTokenFailed
    return Caller(app_id=app_id, user_id=user_id)


async def create_app(store: Store, *, name: str, redirect_uri: str | None = None) -> App:
    """Register an app with a fresh client_id and client_secret."""
    if not name.strip():
        raise AccountError("an app needs a name")

    async def work(tx: WriteTx) -> App:
        return await tx.accounts.create_app(
            name=name.strip(),
            client_id=new_secret(32),
            client_secret=new_secret(32),
            redirect_uri=redirect_uri,
            created_at=tx.now_ms,
        )

    return await store.transaction(work)


async def create_user(store: Store, *, username: str) -> int:
    """Create a user; names are 1-64 letters, digits, `_`, `.` or `-`, and unique. Its
    settings activity starts at its creation time."""
    if not _USERNAME.fullmatch(username):
        raise AccountError(f"invalid username {username!r}: use 1-64 of A-Z a-z 0-9 _ . -")

    async def work(tx: WriteTx) -> int:
        if await tx.accounts.find_user(username) is not None:
            raise AccountError(f"user {username!r} already exists")
        user_id = await tx.accounts.create_user(username=username, created_at=tx.now_ms)
        await tx.activities.touch(user_id, [SETTINGS_BUCKET], at=tx.now_ms)
        return user_id

    return await store.transaction(work)


async def issue_token(store: Store, *, username: str, client_id: str) -> str:
    """The user's access token for that app; the same one again if it already exists."""

    async def work(tx: WriteTx) -> str:
        user_id = await tx.accounts.find_user(username)
        if user_id is None:
            raise AccountError(f"no user named {username!r}")
        app = await tx.accounts.find_app(client_id)
        if app is None:
            raise AccountError(f"no app with client_id {client_id!r}")
        existing = await tx.accounts.token_for(app_id=app.id, user_id=user_id)
        if existing is not None:
            return existing
        token = new_secret(32)
        await tx.accounts.create_token(
            token=token, app_id=app.id, user_id=user_id, created_at=tx.now_ms
        )
        return token

    return await store.transaction(work)


async def list_apps(store: Store) -> list[App]:
    """Every registered app."""
    return await store.read.accounts.list_apps()


async def list_users(store: Store) -> list[User]:
    """Every user."""
    return await store.read.accounts.list_users()


async def list_tokens(store: Store) -> list[Grant]:
    """Every live token."""
    return await store.read.accounts.list_tokens()


async def delete_app(store: Store, *, client_id: str) -> None:
    """Delete an app; every token issued to it stops working."""
    if not await store.transaction(lambda tx: tx.accounts.delete_app(client_id)):
        raise AccountError(f"no app with client_id {client_id!r}")


async def delete_user(store: Store, *, username: str) -> None:
    """Delete a user with their library, ratings, activities and tokens."""
    if not await store.transaction(lambda tx: tx.accounts.delete_user(username)):
        raise AccountError(f"no user named {username!r}")


async def revoke_token(store: Store, *, token: str) -> None:
    """Revoke a live token: the next request with it gets 401."""

    async def work(tx: WriteTx) -> bool:
        return await tx.accounts.revoke_token(token=token, revoked_at=tx.now_ms)

    if not await store.transaction(work):
        raise AccountError("no live token with that value")
