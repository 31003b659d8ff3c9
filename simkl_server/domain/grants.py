"""Grants: what a user approved for an app, the tokens that carry it, and ending it.

AUTH V1: one grant per (app, user) and one token, derived from the server key, so every flow
(PIN, code, the command line) returns the same token until the grant is revoked. AUTH V2: a new
grant per authorization, with a 7-day access token and a sliding 180-day refresh token.
"""

from __future__ import annotations

from simkl_server.domain.models import Grant, frozen
from simkl_server.domain.tokens import (
    ACCESS_PREFIX,
    REFRESH_PREFIX,
    V1_SCOPE,
    Keys,
    random_token,
    token_hash,
)
from simkl_server.storage.base import Store, WriteTx

DAY_MS = 86_400_000
ACCESS_TOKEN_MS = 7 * DAY_MS
REFRESH_TOKEN_MS = 180 * DAY_MS
V1_EXPIRES_IN = 157_680_000  # five years, in seconds: Simkl's sentinel


class GrantNotFound(LookupError):
    """No live grant of that user with that id."""


@frozen
class TokenSet:
    """An AUTH V2 token response's credentials."""

    access_token: str
    refresh_token: str
    scope: str
    expires_in: int = ACCESS_TOKEN_MS // 1000


async def v1_token(tx: WriteTx, keys: Keys, *, app_id: int, user_id: int) -> str:
    """The (app, user) pair's AUTH V1 token, granting (or granting again) if needed."""
    grant = await tx.grants.find_v1(app_id=app_id, user_id=user_id)
    generation = 0 if grant is None else grant.generation
    if grant is None:
        grant_id = await tx.grants.create_v1(app_id=app_id, user_id=user_id, now=tx.now_ms)
    else:
        grant_id = grant.id
        if grant.revoked_at is not None:
            await tx.grants.renew_v1(grant_id, now=tx.now_ms)
    token = keys.v1_token(app_id=app_id, user_id=user_id, generation=generation)
    await tx.grants.add_token(
        token_hash=token_hash(token),
        grant_id=grant_id,
        app_id=app_id,
        user_id=user_id,
        scope=V1_SCOPE,
        expires_at=None,
        now=tx.now_ms,
    )
    return token


async def new_v2_grant(tx: WriteTx, *, app_id: int, user_id: int, scope: str) -> TokenSet:
    """A new, independent AUTH V2 grant and its first pair of tokens."""
    refresh = random_token(REFRESH_PREFIX)
    grant_id = await tx.grants.create_v2(
        app_id=app_id,
        user_id=user_id,
        scope=scope,
        refresh_hash=token_hash(refresh),
        refresh_expires_at=tx.now_ms + REFRESH_TOKEN_MS,
        now=tx.now_ms,
    )
    access = await _access_token(tx, grant_id, app_id=app_id, user_id=user_id, scope=scope)
    return TokenSet(access, refresh, scope)


async def refresh_v2(
    tx: WriteTx, *, grant_id: int, app_id: int, user_id: int, scope: str, refresh: str
) -> TokenSet:
    """A fresh access token for a grant: the previous one dies at once, the refresh token's
    180 days start again."""
    await tx.grants.drop_tokens(grant_id)
    await tx.grants.slide_refresh(grant_id, expires_at=tx.now_ms + REFRESH_TOKEN_MS)
    access = await _access_token(tx, grant_id, app_id=app_id, user_id=user_id, scope=scope)
    return TokenSet(access, refresh, scope)


async def _access_token(
    tx: WriteTx, grant_id: int, *, app_id: int, user_id: int, scope: str
) -> str:
    access = random_token(ACCESS_PREFIX)
    await tx.grants.add_token(
        token_hash=token_hash(access),
        grant_id=grant_id,
        app_id=app_id,
        user_id=user_id,
        scope=scope,
        expires_at=tx.now_ms + ACCESS_TOKEN_MS,
        now=tx.now_ms,
    )
    return access


async def connected(store: Store, *, user_id: int) -> list[Grant]:
    """A user's live grants (the Connected apps page)."""
    return await store.read.grants.of_user(user_id)


async def revoke(store: Store, *, user_id: int, grant_id: int) -> None:
    """End one of the user's grants: every token of it gets 401 from the next request on."""

    async def work(tx: WriteTx) -> None:
        if await tx.grants.owner(grant_id) != user_id:
            raise GrantNotFound(grant_id)
        await tx.grants.revoke(grant_id, now=tx.now_ms)

    await store.transaction(work)
