"""CORS as Simkl answers it (docs /conventions/cors): any origin, `Authorization` allowed,
a preflight answered `204` with an empty body and cached a day, and every answer (errors and
unexpected failures included) readable from a browser."""

from __future__ import annotations

from starlette.datastructures import Headers
from starlette.middleware.cors import CORSMiddleware
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

PREFLIGHT_MAX_AGE_S = 86_400
EXPOSED = (
    "X-RateLimit-Limit",
    "X-RateLimit-Remaining",
    "Retry-After",
    "X-Pagination-Page",
    "X-Pagination-Limit",
    "X-Pagination-Page-Count",
    "X-Pagination-Item-Count",
)


class SimklCors(CORSMiddleware):
    """Starlette's CORS middleware with Simkl's answers to a preflight."""

    def __init__(self, app: ASGIApp) -> None:
        super().__init__(
            app,
            allow_origins=["*"],
            allow_methods=["GET", "POST", "PUT", "DELETE", "OPTIONS"],
            allow_headers=["*"],
            expose_headers=EXPOSED,
            max_age=PREFLIGHT_MAX_AGE_S,
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Requests without `Origin` (every non-browser client) pass straight through: this
        runs before every request, and building Starlette's Headers costs more than a scan."""
        if scope["type"] == "http" and not any(name == b"origin" for name, _ in scope["headers"]):
            await self.app(scope, receive, send)
            return
        await super().__call__(scope, receive, send)

    def preflight_response(self, request_headers: Headers) -> Response:
        """204, no body: the browser, not the server, decides what a preflight allows."""
        headers = dict(self.preflight_headers)
        requested = request_headers.get("access-control-request-headers")
        if requested is not None:
            headers["Access-Control-Allow-Headers"] = requested
        return Response(status_code=204, headers=headers)
