"""/sync/ratings, /sync/ratings/remove and the ratings read."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from simkl_server.api._http import (
    JSONResponse,
    admit_large,
    encode_read,
    large_read,
    query_params,
    read_body,
    services,
)
from simkl_server.api.auth import require_user
from simkl_server.api.learning import learn_policy
from simkl_server.domain import ratings
from simkl_server.wire.common import parse_json_object, sync_items
from simkl_server.wire.library import library_view
from simkl_server.wire.ratings import (
    add_response,
    rating_inputs,
    ratings_parts,
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

    Differs from Simkl: a batch over `max_batch_items` is refused (400 max_items); in learn
    mode unknown items with a well-formed external id are learned instead of not_found."""
    caller = await require_user(request)
    settings, store, _ = services(request)
    document = parse_json_object(await read_body(request, limit=settings.max_body_bytes))
    items = sync_items(
        document, max_items=settings.max_batch_items, max_title_chars=settings.max_title_chars
    )
    inputs = rating_inputs(items, query_rating=query_params(request).get("rating"))
    outcome = await ratings.add_ratings(
        store, user_id=caller.user_id, inputs=inputs, learning=learn_policy(settings)
    )
    return JSONResponse(add_response(outcome), status_code=201)


async def read(request: Request) -> Response:
    """GET /sync/ratings[/{type}[/{rating}]]; POST is accepted too, as old clients send it."""
    caller = await require_user(request)
    params = query_params(request)
    query = ratings_query(
        request.path_params.get("type"), request.path_params.get("rating"), params.get("date_from")
    )
    settings, store, _ = services(request)
    with large_read():
        read = await ratings.read_ratings(
            store,
            user_id=caller.user_id,
            query=query,
            view=library_view(params),
            max_episodes=settings.max_read_episodes,
        )
        await admit_large(request, len(read.rows))
        return await encode_read(ratings_parts, read)


# Remove first: its path would otherwise read as a type.
ROUTES = [
    Route("/sync/ratings/remove", remove, methods=["POST"]),
    Route("/sync/ratings", add, methods=["POST"]),
    Route("/sync/ratings", read, methods=["GET"]),
    Route("/sync/ratings/{type}", read, methods=["GET", "POST"]),
    Route("/sync/ratings/{type}/{rating}", read, methods=["GET", "POST"]),
]
