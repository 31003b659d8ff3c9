"""Detail records: /movies/{id}, /tv/{id}, /anime/{id} and the episode lists /tv/episodes/{id}
and /anime/episodes/{id}, with the fields the catalog has. A known app, no token."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from simkl_server.api._http import JSONResponse, services
from simkl_server.api.auth import client_id_of
from simkl_server.domain import search
from simkl_server.domain.kinds import MediaType
from simkl_server.errors import EmptyId, IdError
from simkl_server.wire.search import catalog_id, detail_response, episodes_response


async def _item_id(request: Request) -> int | None:
    await search.require_app(services(request).store, client_id_of(request))
    return catalog_id(request.path_params.get("id", ""))


async def movie(request: Request) -> Response:
    """GET /movies/{id}: the movie's record; `[]` for an unknown id, 404 id_err for one that
    is not a simkl id.

    Differs from Simkl: only the fields the catalog has (title, year, ids, poster, runtime,
    released); `extended` is accepted and changes nothing, as Simkl documents."""
    item_id = await _item_id(request)
    if item_id is None:
        raise IdError
    item = await search.item_of_type(services(request).store, item_id, MediaType.MOVIE)
    return JSONResponse(detail_response(item))


async def _detail(request: Request, media_type: MediaType) -> Response:
    if request.path_params["id"] == "episodes":
        raise EmptyId  # `/tv/episodes/` without its id (the trailing slash is dropped first)
    item_id = await _item_id(request)
    if item_id is None:
        return JSONResponse([])
    item = await search.item_of_type(services(request).store, item_id, media_type)
    return JSONResponse(detail_response(item))


async def show(request: Request) -> Response:
    """GET /tv/{id}: the show's record, `[]` for an unknown id.

    Differs from Simkl: only the fields the catalog has (title, year, ids, poster, runtime,
    first_aired, status, total_episodes)."""
    return await _detail(request, MediaType.SHOW)


async def anime(request: Request) -> Response:
    """GET /anime/{id}: the anime's record, `[]` for an unknown id.

    Differs from Simkl: only the fields the catalog has (as /tv/{id}, plus anime_type)."""
    return await _detail(request, MediaType.ANIME)


async def _episodes(request: Request, media_type: MediaType) -> Response:
    item_id = await _item_id(request)
    store = services(request).store
    found = await search.episodes_of(store, item_id, media_type) if item_id else None
    listed = found[1] if found is not None else None
    return JSONResponse(episodes_response(listed, media_type, store.clock.now_ms()))


async def show_episodes(request: Request) -> Response:
    """GET /tv/episodes/{id}: the show's episodes by season and number, specials last; `[]`
    for an unknown show; 400 empty_id without an id.

    Differs from Simkl: episodes carry the fields the catalog has (no description or image;
    `ids` holds the TVDB id when known, the catalog keeps no simkl ids of episodes)."""
    return await _episodes(request, MediaType.SHOW)


async def anime_episodes(request: Request) -> Response:
    """GET /anime/episodes/{id}: the anime's episodes (no `season`), specials last, with the
    TVDB numbering when mapped; `[]` for an unknown anime; 400 empty_id without an id.

    Differs from Simkl: as /tv/episodes/{id}."""
    return await _episodes(request, MediaType.ANIME)


ROUTES = [
    Route("/movies/{id}", movie, methods=["GET"]),
    Route("/tv/episodes/{id}", show_episodes, methods=["GET"]),
    Route("/anime/episodes/{id}", anime_episodes, methods=["GET"]),
    Route("/tv/{id}", show, methods=["GET"]),
    Route("/anime/{id}", anime, methods=["GET"]),
]
