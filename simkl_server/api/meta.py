"""What the server says about itself: its OpenAPI document."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from simkl_server.openapi import document_bytes

# Assembled from its fragments once, when the URL table is built, not on the first request.
DOCUMENT = document_bytes()


async def openapi(request: Request) -> Response:
    """GET /openapi.json: this server's own OpenAPI document."""
    return Response(DOCUMENT, media_type="application/json")


ROUTES = [Route("/openapi.json", openapi, methods=["GET"])]
