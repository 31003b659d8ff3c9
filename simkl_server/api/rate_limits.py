"""Simkl's request limits, when the rate_limits setting is on: each access token (or the
client_id, for a request without one) gets 10 GETs and 1 write a second; past that, 429
rate_limit with Retry-After. Counted in the database, so every server process shares them.
Not installed when the setting is off."""

from __future__ import annotations

from starlette.types import ASGIApp, Receive, Scope, Send

from simkl_server.api.access import identity
from simkl_server.api.errors import error_response
from simkl_server.domain import limits
from simkl_server.domain.tokens import token_hash
from simkl_server.errors import RateLimited

_READS = frozenset({"GET", "HEAD"})
# Not the API: pages, the control plane, health checks and preflights go unlimited.
_API_PREFIXES = ("/sync/", "/users/", "/oauth/", "/oauth2/", "/search/", "/scrobble/",
                 "/movies", "/tv", "/anime", "/ratings", "/redirect")  # fmt: skip


class RateLimitMiddleware:
    """Counts each API request against its token's (or app's) one-second window."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Refuse a request over its limit; pass the others on."""
        if scope["type"] != "http" or scope["method"] == "OPTIONS" or not _is_api(scope["path"]):
            await self.app(scope, receive, send)
            return
        who = _caller(scope)
        if who is not None:
            limit = limits.API_GETS if scope["method"] in _READS else limits.API_WRITES
            try:
                await limits.count_request(scope["app"].services.store, limit, who)
            except RateLimited as exc:
                response = error_response(exc)
                response.headers["Retry-After"] = str(exc.retry_after)
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)


def _is_api(path: str) -> bool:
    return path.startswith(_API_PREFIXES)


def _caller(scope: Scope) -> str | None:
    """`token:<hash>` for a bearer token, else `client:<client_id>`, else None (refused with
    412 anyway)."""
    for name, value in scope["headers"]:
        if name == b"authorization":
            scheme, _, token = value.decode("latin-1").partition(" ")
            if scheme.lower() == "bearer" and token.strip():
                return f"token:{token_hash(token.strip())}"
    client_id = identity(scope).client_id
    return None if not client_id else f"client:{client_id}"
