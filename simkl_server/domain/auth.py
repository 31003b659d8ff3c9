"""Who may call: how a request is authenticated, and what the admin commands create, list,
delete and revoke (apps, users, tokens)."""

from __future__ import annotations

import asyncio
import re

from simkl_server.clock import new_secret
from simkl_server.domain import grants, passwords, redirects
from simkl_server.domain.kinds import SETTINGS_BUCKET
from simkl_server.domain.models import App, AppKind, Caller, Grant, NewApp, User
from simkl_server.domain.tokens import Keys, grants_write, token_hash
from simkl_server.errors import (
    ClientIdFailed,
    InsufficientScope,
    InvalidToken,
    SimklError,
    UserTokenFailed,
    UserTokenRequired,
)
from simkl_server.storage.base import Authentication, CredentialChanged, Store, WriteTx

_USERNAME = re.compile(r"[A-Za-z0-9_.\-]{1,64}")
MAX_APP_NAME = 100


class AccountError(Exception):
    """A request the account rules refuse (duplicate user, unknown app, ...)."""


async def authenticate(
    store: Store, *, client_id: str | None, token: str | None, needs_write: bool = False
) -> Caller:
    """The app and user behind a request, from one indexed lookup (or this process's cache
    of it): 412 client_id_failed for a missing or unknown app; 401 for a missing, unknown,
    revoked or expired token or one of another app (`user_token_failed`, or for AUTH V2 apps
    `user_token_required` without a token and `invalid_token` with a bad one); 403
    insufficient_scope for a write with a read-only token. A cached answer is checked again
    before the request's answer leaves (see `refusal`)."""
    if not client_id:
        raise ClientIdFailed
    found = await store.authenticate(client_id, None if token is None else token_hash(token))
    return caller_of(
        found, has_token=token is not None, needs_write=needs_write, now=store.clock.now_ms()
    )


def caller_of(
    found: Authentication | None, *, has_token: bool, needs_write: bool, now: int
) -> Caller:
    """The caller an authentication names, or the error it earns."""
    if found is None:
        raise ClientIdFailed
    if found.user_id is None:
        if found.auth_version != 2:
            raise UserTokenFailed
        raise InvalidToken if has_token else UserTokenRequired
    if found.expires_at is not None and found.expires_at <= now:
        raise InvalidToken("Access token has expired")
    can_write = grants_write(found.scope)
    if needs_write and not can_write:
        raise InsufficientScope
    return Caller(app_id=found.app_id, user_id=found.user_id, can_write=can_write)


def refusal(changed: CredentialChanged, *, now: int) -> SimklError:
    """The error for a request whose cached authentication stopped holding while it ran: what
    the fresh lookup earns (a token that now names someone else counts as unknown)."""
    try:
        caller_of(changed.found, has_token=True, needs_write=True, now=now)
    except SimklError as error:
        return error
    return (
        UserTokenFailed()
        if changed.found is None or changed.found.auth_version != 2
        else InvalidToken()
    )


async def create_app(
    store: Store,
    *,
    name: str,
    redirect_uris: list[str] | None = None,
    kind: AppKind = AppKind.SERVER,
    auth_version: int = 1,
    owner_id: int | None = None,
) -> NewApp:
    """Register an app with a fresh client_id (and a client_secret for server apps, shown
    only now: the store keeps its hash)."""
    name = name.strip()
    if not name or len(name) > MAX_APP_NAME:
        raise AccountError(f"an app needs a name of 1-{MAX_APP_NAME} characters")
    if auth_version not in (1, 2):
        raise AccountError("auth version is 1 or 2")
    try:
        uris = redirects.validate(redirect_uris or [])
    except redirects.RedirectUriError as exc:
        raise AccountError(str(exc)) from None
    if kind is AppKind.DEVICE and uris:
        raise AccountError("a device app registers no redirect URI")
    secret = new_secret(32) if kind.has_secret else None

    async def work(tx: WriteTx) -> App:
        return await tx.accounts.create_app(
            name=name,
            client_id=new_secret(32),
            secret_hash=None if secret is None else token_hash(secret),
            redirect_uris=uris,
            kind=kind,
            auth_version=auth_version,
            owner_id=owner_id,
            created_at=tx.now_ms,
        )

    return NewApp(await store.transaction(work), secret)


async def create_user(store: Store, *, username: str, password: str | None = None) -> int:
    """Create a user; names are 1-64 letters, digits, `_`, `.` or `-`, and unique. Its
    settings activity starts at its creation time."""
    if not _USERNAME.fullmatch(username):
        raise AccountError(f"invalid username {username!r}: use 1-64 of A-Z a-z 0-9 _ . -")
    password_hash = None
    if password is not None:
        try:  # argon2 is slow on purpose: off the event loop
            password_hash = await asyncio.to_thread(passwords.hash_password, password)
        except passwords.PasswordError as exc:
            raise AccountError(str(exc)) from None

    return await store.transaction(
        lambda tx: create_user_in(tx, username=username, password_hash=password_hash)
    )


async def create_user_in(tx: WriteTx, *, username: str, password_hash: str | None) -> int:
    """Create a user inside a transaction (the name checked, unique)."""
    if not _USERNAME.fullmatch(username):
        raise AccountError(f"invalid username {username!r}: use 1-64 of A-Z a-z 0-9 _ . -")
    if await tx.accounts.find_user(username) is not None:
        raise AccountError(f"user {username!r} already exists")
    user_id = await tx.accounts.create_user(
        username=username, created_at=tx.now_ms, password_hash=password_hash
    )
    await tx.activities.touch(user_id, [SETTINGS_BUCKET], at=tx.now_ms)
    return user_id


async def issue_token(store: Store, keys: Keys, *, username: str, client_id: str) -> str:
    """The user's AUTH V1 token for that app: the same one every time, until revoked."""

    async def work(tx: WriteTx) -> str:
        user_id = await tx.accounts.find_user(username)
        if user_id is None:
            raise AccountError(f"no user named {username!r}")
        app = await tx.accounts.find_app(client_id)
        if app is None:
            raise AccountError(f"no app with client_id {client_id!r}")
        if app.is_v2:
            raise AccountError("AUTH V2 apps get tokens through /oauth2/ (device or code flow)")
        return await grants.v1_token(tx, keys, app_id=app.id, user_id=user_id)

    return await store.transaction(work)


async def list_apps(store: Store) -> list[App]:
    """Every registered app."""
    return await store.read.accounts.list_apps()


async def list_users(store: Store) -> list[User]:
    """Every user."""
    return await store.read.accounts.list_users()


async def list_grants(store: Store) -> list[Grant]:
    """Every live grant."""
    return await store.read.grants.all_live()


async def delete_app(store: Store, *, client_id: str) -> None:
    """Delete an app; every token issued to it stops working."""
    if not await store.transaction(lambda tx: tx.accounts.delete_app(client_id)):
        raise AccountError(f"no app with client_id {client_id!r}")


async def delete_user(store: Store, *, username: str) -> None:
    """Delete a user with their library, ratings, activities, grants and apps."""
    if not await store.transaction(lambda tx: tx.accounts.delete_user(username)):
        raise AccountError(f"no user named {username!r}")


async def revoke_token(store: Store, *, token: str) -> None:
    """End the grant a live token belongs to: the next request with it gets 401."""

    async def work(tx: WriteTx) -> bool:
        grant_id = await tx.grants.grant_of_any(token_hash(token))
        if grant_id is None:
            return False
        await tx.grants.revoke(grant_id, now=tx.now_ms)
        return True

    if not await store.transaction(work):
        raise AccountError("no live token with that value")
