"""/sync/ratings, /sync/ratings/remove and the ratings read."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from simkl_server.api._http import JSONResponse, json_in_pieces, read_body, services
from simkl_server.api.auth import require_user
from simkl_server.domain import ratings
from simkl_server.wire.common import parse_json_object, sync_items
from simkl_server.wire.ratings import (
    RatingsDocument,
    add_response,
    rating_inputs,
    ratings_query,
    remove_response,
)


async def remove(request: Request) -> Response:
    """POST /sync/ratings/remove: 201 with matched counts and unmatched echoes.

    Differs from Simkl: a batch over `max_batch_items` is refused (400 max_items)."""
    caller = await require_user(request)
    settings, store, _ = services(request)
    document = parse_json_object(await read_body(request, limit=settings.max_body_bytes))
    items = sync_items(
        document, max_items=settings.max_batch_items, max_title_chars=settings.max_title_chars
    )
    outcome = await ratings.remove_ratings(store, user_id=caller.user_id, items=items)
    return JSONResponse(remove_response(outcome), status_code=201)


async def add(request: Request) -> Response:
    """POST /sync/ratings: 201 with applied counts, statuses and unmatched echoes.

    Differs from Simkl: a batch over `max_batch_items` is refused (400 max_items)."""
    caller = await require_user(request)
    settings, store, _ = services(request)
    document = parse_json_object(await read_body(request, limit=settings.max_body_bytes))
    items = sync_items(
        document, max_items=settings.max_batch_items, max_title_chars=settings.max_title_chars
    )
    inputs = rating_inputs(items, query_rating=request.query_params.get("rating"))
    outcome = await ratings.add_ratings(store, user_id=caller.user_id, inputs=inputs)
    return JSONResponse(add_response(outcome), status_code=201)


async def read(request: Request) -> Response:
    """GET /sync/ratings[/{type}[/{rating}]]; POST is accepted too, as old clients send it."""
    caller = await require_user(request)
    query = ratings_query(
        request.path_params.get("type"),
        request.path_params.get("rating"),
        request.query_params.get("date_from"),
    )
    document = RatingsDocument()  # rendered as the rows are read, off the event loop
    await ratings.read_ratings(
        services(request).store,
        user_id=caller.user_id,
        query=query,
        each_batch=document.add,
        admit=lambda: request.app.large_reads.admit(request.scope),
    )
    return json_in_pieces(document.chunks())


# Remove first: its path would otherwise read as a type.
ROUTES = [
    Route("/sync/ratings/remove", remove, methods=["POST"]),
    Route("/sync/ratings", add, methods=["POST"]),
    Route("/sync/ratings", read, methods=["GET"]),
    Route("/sync/ratings/{type}", read, methods=["GET", "POST"]),
    Route("/sync/ratings/{type}/{rating}", read, methods=["GET", "POST"]),
]
