"""Accounts in a browser: signing up and in (argon2 checks off the event loop, attempts
rate-limited per account and per address), sessions kept in the database, signing out.

A session's cookie value is random and stored as its hash; signing in always starts a new
session, so an identifier planted before sign-in is worth nothing after (no fixation).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from simkl_server.domain import auth, limits, passwords
from simkl_server.domain.tokens import random_token, token_hash
from simkl_server.storage.base import Store, WriteTx

SESSION_DAYS = 30
SESSION_MS = SESSION_DAYS * 86_400_000


class SignInFailed(Exception):
    """A wrong name or password (which one is not told)."""


class SignUpClosed(Exception):
    """This server lets only its administrator create accounts."""


@dataclass(frozen=True, slots=True)
class SignedIn:
    """Who a browser session belongs to."""

    user_id: int
    username: str


async def sign_up(store: Store, *, username: str, password: str, allowed: bool) -> str:
    """Create an account with a password and sign it in; the new session's cookie value."""
    if not allowed:
        raise SignUpClosed
    user_id = await auth.create_user(store, username=username, password=password)
    return await _new_session(store, user_id)


async def sign_in(store: Store, *, username: str, password: str, address: str) -> str:
    """Check a password (at most so many wrong ones per account and address); the new
    session's cookie value."""
    checks = ((limits.SIGN_INS_PER_ACCOUNT, username[:128]), (limits.SIGN_INS_PER_ADDRESS, address))
    await limits.refuse_if_over(store.read, store.clock.now_ms(), *checks)
    account = await store.read.accounts.find_account(username)
    stored = None if account is None else account.password_hash
    if account is None or not await asyncio.to_thread(passwords.verify, password, stored):
        await limits.count_failure(store, *checks)
        raise SignInFailed
    await limits.clear(store, limits.SIGN_INS_PER_ACCOUNT, username[:128])
    return await _new_session(store, account.id)


async def _new_session(store: Store, user_id: int) -> str:
    value = random_token()

    async def work(tx: WriteTx) -> None:
        await tx.sessions.purge_expired(now=tx.now_ms)
        await tx.sessions.create(
            session_hash=token_hash(value),
            user_id=user_id,
            now=tx.now_ms,
            expires_at=tx.now_ms + SESSION_MS,
        )

    await store.transaction(work)
    return value


async def signed_in(store: Store, cookie: str | None) -> SignedIn | None:
    """The user of a live session cookie."""
    if not cookie or len(cookie) > 200:
        return None
    found = await store.read.sessions.user(token_hash(cookie), now=store.clock.now_ms())
    return None if found is None else SignedIn(*found)


async def sign_out(store: Store, cookie: str | None) -> None:
    """End a session (nothing happens for an unknown one)."""
    if cookie:
        await store.transaction(lambda tx: tx.sessions.delete(token_hash(cookie)))
