"""Catalog lookups a client makes without a user: /search/id, /search/{type}, /search/file,
/search/random and /redirect. They need a known app (`client_id`), never a token."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from simkl_server.api._http import JSONResponse, query_params, read_body, services
from simkl_server.api.auth import client_id_of
from simkl_server.api.errors import error_response
from simkl_server.domain import search
from simkl_server.errors import UrlFailed, WrongMethod
from simkl_server.wire.common import parse_json_object
from simkl_server.wire.search import (
    SEARCH_TYPES,
    file_request,
    file_response,
    id_lookup,
    pagination_headers,
    random_request,
    random_response,
    redirect_location,
    redirect_request,
    search_id_response,
    search_query,
    search_response,
)


async def _app(request: Request) -> None:
    await search.require_app(services(request).store, client_id_of(request))


async def search_id(request: Request) -> Response:
    """GET /search/id: `[record]` for the first id that resolves (simkl, then the fixed
    order), or a title (and year) that names exactly one item; `[]` otherwise."""
    await _app(request)
    lookup = id_lookup(query_params(request))
    item = await search.find_by_ids(services(request).store, lookup)
    return JSONResponse(search_id_response(item))


async def search_text(request: Request) -> Response:
    """GET /search/{type}: items of `movie`, `tv` or `anime` whose title holds every word of
    `q` (case, accents and punctuation ignored), best first, paginated (`page` ≤ 20, `limit`
    ≤ 50, silently clamped).

    Differs from Simkl: only the titles the catalog holds are searched (no alternative
    titles), `extended=full` adds what the catalog has (`url`, `ep_count`, `status`,
    `rank: null`), and an unknown type answers 404 url_failed."""
    if request.path_params["type"] in ("file", "random"):  # their POST routes lose to this one
        refused = error_response(WrongMethod())
        refused.headers["Allow"] = "POST"
        return refused
    await _app(request)
    media_type = SEARCH_TYPES.get(request.path_params["type"])
    if media_type is None:
        raise UrlFailed
    text, page, limit, full = search_query(query_params(request))
    page, limit = search.clamp_page(page, limit)
    found = await search.search_titles(
        services(request).store, media_type, text, page=page, limit=limit
    )
    return JSONResponse(
        search_response(found, media_type, full=full), headers=pagination_headers(found)
    )


async def search_file(request: Request) -> Response:
    """POST /search/file: the movie, show or episode a file name or path names (parsed with
    guessit); `null` without a `file`, `[]` for no match; a body that is not a JSON object
    is 400 wrong_parameter.

    Differs from Simkl: an episode's `ids` hold its TVDB id when the catalog has one (the
    catalog keeps no simkl ids of episodes)."""
    await _app(request)
    settings, store, _ = services(request)
    asked = file_request(parse_json_object(await read_body(request, limit=settings.max_body_bytes)))
    if asked is None:
        return JSONResponse(None)
    return JSONResponse(file_response(await search.match_file(store, *asked)))


async def search_random(request: Request) -> Response:
    """POST /search/random: a random item `{simkl_id, simkl_url}`, filters from the
    query or a JSON body; a list with `limit`; `{"error": "not_found"}` (200) for none.

    Differs from Simkl: genre, country, rank and rating filters are accepted and ignored (the
    catalog has no such facts); without `type` every type may be picked."""
    await _app(request)
    settings, store, _ = services(request)
    document = parse_json_object(await read_body(request, limit=settings.max_body_bytes))
    wanted, limit, service = random_request(query_params(request), document)
    items = await search.random_items(store, wanted, limit or 1)
    return JSONResponse(random_response(items, many=limit is not None, service=service))


async def redirect(request: Request) -> Response:
    """GET /redirect: 301 to the item's simkl.com page (its episode's with `season` or
    `episode`), the tweet intent with `to=twitter`, 302 to the page marked watched with
    `to=watched`; `Cache-Control: no-store` always.

    Differs from Simkl: `to=trailer` points at the item's page (the catalog has no
    trailers); nothing matched points at simkl.com's search for the title; an unknown `to`
    is 400 wrong_parameter."""
    await _app(request)
    params = query_params(request)
    target, lookup, season, episode = redirect_request(params)
    item = await search.find_by_ids(services(request).store, lookup)
    location = redirect_location(
        target,
        item,
        params,
        season=season,
        episode=episode,
        client_id=client_id_of(request) or "",
    )
    status = 302 if target == "watched" and item is not None else 301
    return Response(status_code=status, headers={"Location": location, "Cache-Control": "no-store"})


ROUTES = [
    Route("/search/id", search_id, methods=["GET"]),
    Route("/search/file", search_file, methods=["POST"]),
    Route("/search/random", search_random, methods=["POST"]),
    Route("/search/{type}", search_text, methods=["GET"]),
    Route("/redirect", redirect, methods=["GET"]),
]
