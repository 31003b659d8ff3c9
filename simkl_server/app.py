"""create_app(): routes, the Simkl error envelope on every error path, and the store's lifespan."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from importlib import resources

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response
from starlette.routing import Match, Route
from starlette.types import ASGIApp, Receive, Scope, Send

from simkl_server.api import activities, ratings, users
from simkl_server.api.context import ApiContext
from simkl_server.api.http import query_value
from simkl_server.clock import Clock, SystemClock
from simkl_server.config import Settings
from simkl_server.errors import InternalError, SimklError, UrlFailed, WrongMethod, WrongParameter
from simkl_server.storage.base import Store
from simkl_server.storage.engine import open_driver
from simkl_server.storage.store import SqlStore
from simkl_server.wire.errors import error_body

log = logging.getLogger("simkl_server")
_HTTP_ERRORS: dict[int, type[SimklError]] = {404: UrlFailed, 405: WrongMethod}


def error_response(error: SimklError) -> Response:
    """The Simkl envelope with the error's status."""
    return Response(error_body(error), status_code=error.status, media_type="application/json")


async def _simkl_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, SimklError)
    return error_response(exc)


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    kind = _HTTP_ERRORS.get(exc.status_code, WrongParameter)
    response = error_response(kind())
    if exc.status_code == 405:  # RFC 9110: a 405 names the methods that are allowed
        response.headers["Allow"] = _allowed_methods(request)
    return response


def _allowed_methods(request: Request) -> str:
    """Every method some route takes on this path (Starlette's own header names only the
    first matching route's, and /sync/ratings has a route per method)."""
    methods: set[str] = set()
    for route in request.app.routes:
        match, _ = route.matches(request.scope)
        if match is not Match.NONE:
            methods |= getattr(route, "methods", None) or set()
    return ", ".join(sorted(methods))


async def _client_gone(request: Request, exc: Exception) -> Response:
    """The client hung up before its body was complete: nothing was applied, and nobody is
    left to read an answer (not an error of ours, so no traceback in the log)."""
    return error_response(WrongParameter("The connection closed before the body was complete"))


async def _unexpected(request: Request, exc: Exception) -> Response:
    log.exception("unhandled error on %s %s", request.method, request.url.path)
    return error_response(InternalError())


class EdgeMiddleware:
    """Accepts a trailing slash on every route, and logs apps that omit app-name, app-version
    or User-Agent (accepted: legacy clients send none) once per app and process, not per call."""

    _MAX_REMEMBERED = 10_000

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self._reported: set[tuple[str, str]] = set()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Normalise the path, note missing identification, pass the request on."""
        if scope["type"] == "http":
            path: str = scope["path"]
            if len(path) > 1 and path.endswith("/"):
                scope["path"] = path.rstrip("/") or "/"
            if log.isEnabledFor(logging.INFO):
                self._note_identification(scope)
        await self.app(scope, receive, send)

    def _note_identification(self, scope: Scope) -> None:
        query: bytes = scope.get("query_string", b"")
        has_agent = any(name == b"user-agent" for name, _ in scope["headers"])
        if has_agent and b"app-name=" in query and b"app-version=" in query:
            return  # the common case, decided without parsing anything
        headers = dict(scope["headers"])
        missing = [name for name in ("app-name", "app-version") if not query_value(query, name)]
        if not has_agent:
            missing.append("User-Agent")
        if not missing:
            return
        client = query_value(query, "client_id") or headers.get(b"simkl-api-key", b"").decode(
            "latin-1"
        )
        key = (client, ",".join(missing))
        if key in self._reported or len(self._reported) >= self._MAX_REMEMBERED:
            return
        self._reported.add(key)
        log.info(
            "client_id %r calls without %s (accepted; not logged again for this app)",
            client or "(none)",
            ", ".join(missing),
        )


def _openapi_route() -> Route:
    document = resources.files("simkl_server").joinpath("openapi/openapi.json").read_bytes()

    async def openapi(request: Request) -> Response:
        """GET /openapi.json: this server's own OpenAPI document."""
        return Response(document, media_type="application/json")

    return Route("/openapi.json", openapi, methods=["GET"])


async def open_store(settings: Settings, clock: Clock) -> SqlStore:
    """Open the database the settings name."""
    driver = await open_driver(settings.database_url, pool_size=settings.pg_pool_size)
    return SqlStore(driver, clock, inline_batch_items=settings.inline_batch_items)


def create_app(
    settings: Settings | None = None, *, store: Store | None = None, clock: Clock | None = None
) -> Starlette:
    """The ASGI app; it opens its own store unless one is given (tests share theirs)."""
    settings = settings or Settings()
    clock = clock or SystemClock()
    context = ApiContext(settings, clock, store)

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        if store is not None:
            app.state.store = store
            yield
            return
        opened = await open_store(settings, clock)
        context.attach(opened)
        app.state.store = opened
        try:
            yield
        finally:
            context.attach(None)
            await opened.close()

    routes = [
        *ratings.routes(context),
        *activities.routes(context),
        *users.routes(context),
        _openapi_route(),
    ]
    app = Starlette(
        routes=routes,
        lifespan=lifespan,
        exception_handlers={
            SimklError: _simkl_error,
            HTTPException: _http_error,
            ClientDisconnect: _client_gone,
            Exception: _unexpected,
        },
    )
    app.router.redirect_slashes = False
    app.add_middleware(EdgeMiddleware)
    return app
