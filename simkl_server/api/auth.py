"""Who is calling: the app (client_id) and, on user endpoints, the user (bearer token)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from starlette.types import Receive, Scope, Send

from simkl_server.api._http import query_value, services
from simkl_server.domain.auth import authenticate, refusal
from simkl_server.domain.models import Caller
from simkl_server.errors import SimklError
from simkl_server.storage.base import CredentialChanged, request_credentials

Endpoint = Callable[[Request], Awaitable[Response]]


def client_id_of(request: Request) -> str | None:
    """`?client_id=` (preferred) or the `simkl-api-key` header."""
    value = query_value(request.scope["query_string"], "client_id") or request.headers.get(
        "simkl-api-key"
    )
    # No credential holds NUL, and PostgreSQL text cannot even be compared with one: a value
    # carrying it counts as absent (the same goes for the bearer token).
    return value if value is None or "\x00" not in value else None


def bearer_token(request: Request) -> str | None:
    """The token of an `Authorization: Bearer ...` header."""
    header = request.headers.get("authorization")
    if header is None:
        return None
    scheme, _, token = header.partition(" ")
    token = token.strip()
    return token if scheme.lower() == "bearer" and token and "\x00" not in token else None


def is_write(request: Request) -> bool:
    """What AUTH V2 scopes judge by shape (Simkl's rule): a GET or HEAD without a body reads,
    anything else writes."""
    if request.method not in ("GET", "HEAD"):
        return True
    headers = request.headers
    return headers.get("content-length", "0") not in ("0", "") or "transfer-encoding" in headers


async def require_user(request: Request) -> Caller:
    """The app and user behind a request to a user endpoint (412, 401 or 403 otherwise)."""
    return await authenticate(
        services(request).store,
        client_id=client_id_of(request),
        token=bearer_token(request),
        needs_write=is_write(request),
    )


def credentials_checked(route: Route) -> Route:
    """The route, with its request's deferred authentication (an answer from the credential
    cache) settled before any answer leaves: by the request's first transaction or a read
    that returns the auth stamp, else after the handler; a credential that stopped holding
    meanwhile turns the answer into the 401 it now earns, an error answer included."""
    return Route(route.path, _Checked(route.endpoint), methods=route.methods, name=route.name)


class _Checked:
    """An endpoint as the ASGI app of its route. Its errors go on to the app's exception
    middleware, which answers them with the same handlers: Starlette's own wrapper for a
    function endpoint would catch them with those handlers once more, at a few wrapped
    calls a request."""

    __slots__ = ("_endpoint",)

    def __init__(self, endpoint: Endpoint) -> None:
        self._endpoint = endpoint

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Answer the request."""
        request = Request(scope, receive, send)
        store = services(request).store
        with request_credentials():
            try:
                try:
                    response = await self._endpoint(request)
                except SimklError:
                    await store.settle()  # a refusal must not hide that the token is gone
                    raise
                await store.settle()
            except CredentialChanged as changed:
                raise refusal(changed, now=store.clock.now_ms()) from None
        await response(scope, receive, send)
