"""What the server says about itself: its OpenAPI document and its health."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from simkl_server import __version__
from simkl_server.api._http import JSONResponse, services
from simkl_server.domain import meta
from simkl_server.openapi import document_bytes
from simkl_server.wire.meta import health_response

# Assembled from its fragments once, when the URL table is built, not on the first request.
DOCUMENT = document_bytes()


async def openapi(request: Request) -> Response:
    """GET /openapi.json: this server's own OpenAPI document."""
    return Response(DOCUMENT, media_type="application/json")


async def health(request: Request) -> Response:
    """GET /health, no credentials: 200 while the database answers, 503 otherwise.

    Differs from Simkl: Simkl has no health endpoint; this one is for load balancers."""
    revision = await meta.schema_revision(services(request).store)
    return JSONResponse(health_response(version=__version__, schema_revision=revision))


ROUTES = [
    Route("/openapi.json", openapi, methods=["GET"]),
    Route("/health", health, methods=["GET"]),
]
