"""Rate limits on guessing, counted in the database so every server process shares them.

Each limit allows so many failures per key (a client, an address, an account) in a fixed
window. A key over its limit is refused before anything is checked, so a guesser learns
nothing from attempts past the limit. Failures are counted in their own transaction: the
refusal that follows must not roll the count back.
"""

from __future__ import annotations

from dataclasses import dataclass

from simkl_server.errors import RateLimited
from simkl_server.storage.base import Session, Store, WriteTx

MINUTE_MS = 60_000
_MAX_KEY = 200


@dataclass(frozen=True, slots=True)
class Limit:
    """At most `attempts` failures per key within `window_ms`."""

    name: str
    attempts: int
    window_ms: int

    def key(self, who: str) -> str:
        """The counter's key for one client, address or account."""
        return f"{self.name}:{who}"[:_MAX_KEY]


# Unknown PIN or device codes: polled by an app, or typed on the /pin page by a user.
CODE_GUESSES_PER_CLIENT = Limit("code-guesses-client", 60, 15 * MINUTE_MS)
CODE_GUESSES_PER_ADDRESS = Limit("code-guesses-address", 30, 15 * MINUTE_MS)
# New PIN or device codes asked for by one address.
NEW_CODES_PER_ADDRESS = Limit("new-codes-address", 120, 15 * MINUTE_MS)
# Wrong passwords, per account and per address.
SIGN_INS_PER_ACCOUNT = Limit("sign-ins-account", 10, 15 * MINUTE_MS)
SIGN_INS_PER_ADDRESS = Limit("sign-ins-address", 30, 15 * MINUTE_MS)


async def refuse_if_over(session: Session, now: int, *checks: tuple[Limit, str]) -> None:
    """429 rate_limit when any key is already at its limit."""
    for limit, who in checks:
        found = await session.sessions.attempts(limit.key(who), now=now, window_ms=limit.window_ms)
        if found is not None and found[0] >= limit.attempts:
            raise RateLimited(retry_after=_retry_after(limit, found[1], now))


async def count_failure(store: Store, *checks: tuple[Limit, str]) -> None:
    """Count one failure against every key (its own transaction)."""

    async def work(tx: WriteTx) -> None:
        for limit, who in checks:
            await tx.sessions.count_attempt(
                limit.key(who), now=tx.now_ms, window_ms=limit.window_ms
            )

    await store.transaction(work)


async def clear(store: Store, limit: Limit, who: str) -> None:
    """Forget a key's failures (a successful sign-in)."""
    await store.transaction(lambda tx: tx.sessions.clear_attempts(limit.key(who)))


def _retry_after(limit: Limit, window_start: int, now: int) -> int:
    return max(1, (window_start + limit.window_ms - now + 999) // 1000)


# Simkl's documented request limits (off unless the rate_limits setting is on): per access
# token, or per client_id for requests without one, 10 GETs and 1 POST a second.
API_GETS = Limit("api-gets", 10, 1000)
API_WRITES = Limit("api-writes", 1, 1000)


async def count_request(store: Store, limit: Limit, who: str) -> None:
    """Count one request against `who`'s window; 429 rate_limit past the limit (the
    request is counted either way, as Simkl's throttle counts every call)."""

    async def work(tx: WriteTx) -> tuple[int, int]:
        return await tx.sessions.count_attempt(
            limit.key(who), now=tx.now_ms, window_ms=limit.window_ms
        )

    count, window_start = await store.transaction(work)
    if count > limit.attempts:
        raise RateLimited(
            "Too many requests: slow down",
            retry_after=_retry_after(limit, window_start, store.clock.now_ms()),
        )
