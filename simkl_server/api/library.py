"""/sync/all-items: the user's library, by type and status."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from simkl_server.api._http import admit_large, encode_read, large_read, query_params, services
from simkl_server.api.auth import require_user
from simkl_server.domain.library import read_library
from simkl_server.wire.library import all_items_parts, all_items_request


async def all_items(request: Request) -> Response:
    """GET /sync/all-items[/{type}[/{status}]]: every row the path and `date_from` select,
    rendered as `extended` and the other flags ask; `{}` when nothing matches. Read and
    rendered off the event loop unless small: a library may hold many thousands of items.

    Differs from Simkl: the episode rows one read may list are capped by a setting."""
    caller = await require_user(request)
    parsed = all_items_request(
        request.path_params.get("type"), request.path_params.get("status"), query_params(request)
    )
    settings, store, _ = services(request)
    with large_read():
        read = await read_library(
            store,
            user_id=caller.user_id,
            query=parsed.query,
            view=parsed.view,
            max_episodes=settings.max_read_episodes,
        )
        await admit_large(request, len(read.rows))
        return await encode_read(lambda done: all_items_parts(parsed, done), read)


ROUTES = [
    Route("/sync/all-items", all_items, methods=["GET"]),
    Route("/sync/all-items/{type}", all_items, methods=["GET"]),
    Route("/sync/all-items/{type}/{status}", all_items, methods=["GET"]),
]
