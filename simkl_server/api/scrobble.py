"""/scrobble/start, /scrobble/pause, /scrobble/stop, and the paused playbacks under
/sync/playback."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from simkl_server.api._http import JSONResponse, query_params, query_value, read_body, services
from simkl_server.api.auth import require_user
from simkl_server.api.learning import learn_policy
from simkl_server.domain.playback import delete_playback, list_playbacks
from simkl_server.domain.scrobble import AlreadyScrobbled, Call, scrobble
from simkl_server.wire.common import parse_json_object
from simkl_server.wire.scrobble import (
    duplicate_stop_body,
    playback_filter,
    playback_id,
    playback_list,
    scrobble_body,
    scrobble_response,
)


async def start(request: Request) -> Response:
    """POST /scrobble/start: 201 `action: start` (id 0); the item's paused playback is cleared."""
    return await _scrobble(request, Call.START)


async def pause(request: Request) -> Response:
    """POST /scrobble/pause: 201 `action: pause` with the resumable playback's id."""
    return await _scrobble(request, Call.PAUSE)


async def stop(request: Request) -> Response:
    """POST /scrobble/stop: 201 `action: scrobble` (marked watched) at 80 % or more, else
    `action: pause`; 409 with `watched_at`/`expires_at` when a stop recorded it within the hour.

    Differs from Simkl: a scrobble colliding with another of the same user waits for it up to
    `scrobble_lock_wait_ms` before answering 400 RATE_LIMIT (Simkl queues them too)."""
    return await _scrobble(request, Call.STOP)


async def checkin(request: Request) -> Response:
    """POST /scrobble/checkin: 201 `action: checkin`; the movie or episode is marked watched on
    its own when its runtime is over (a new check-in or start replaces it; deleting its
    playback cancels it). `progress` is optional and only echoed."""
    return await _scrobble(request, Call.CHECKIN)


async def _scrobble(request: Request, call: Call) -> Response:
    caller = await require_user(request)
    settings, store, _ = services(request)
    document = parse_json_object(await read_body(request, limit=settings.max_body_bytes))
    target, progress = scrobble_body(
        document,
        progress_required=call is not Call.CHECKIN,
        max_title_chars=settings.max_title_chars,
    )
    rewatch = query_value(request.scope["query_string"], "allow_rewatch")
    try:
        outcome = await scrobble(
            store,
            user_id=caller.user_id,
            call=call,
            target=target,
            progress=progress,
            allow_rewatch=rewatch is not None and rewatch.strip().lower() == "yes",
            lock_wait_ms=settings.scrobble_lock_wait_ms,
            learning=learn_policy(settings),
        )
    except AlreadyScrobbled as conflict:
        return JSONResponse(duplicate_stop_body(conflict), status_code=409)
    return JSONResponse(scrobble_response(outcome), status_code=201)


async def playbacks(request: Request) -> Response:
    """GET /sync/playback[/{type}]: the paused playbacks, newest first, one per movie or
    episode, within the plan's retention. A `{type}` other than `movies` or `episodes` reads
    every type (as Simkl's handler does for what is not a type)."""
    caller = await require_user(request)
    settings, store, _ = services(request)
    kind = request.path_params.get("type")
    wanted = playback_filter(
        kind if kind in {"movies", "episodes"} else None, query_params(request)
    )
    rows = await list_playbacks(
        store,
        user_id=caller.user_id,
        wanted=wanted,
        retention_days={
            "free": settings.playback_retention_days_free,
            "pro": settings.playback_retention_days_pro,
            "vip": settings.playback_retention_days_vip,
        },
    )
    return JSONResponse(playback_list(rows))


async def delete(request: Request) -> Response:
    """DELETE /sync/playback/{id}: 204; 404 `empty` for no such playback of this user, 404
    `url_failed` for an id that is not a positive integer."""
    caller = await require_user(request)
    _, store, _ = services(request)
    number = playback_id(request.path_params["id"])
    await delete_playback(store, user_id=caller.user_id, playback_id=number)
    return Response(status_code=204)


ROUTES = [
    Route("/scrobble/start", start, methods=["POST"]),
    Route("/scrobble/pause", pause, methods=["POST"]),
    Route("/scrobble/stop", stop, methods=["POST"]),
    Route("/scrobble/checkin", checkin, methods=["POST"]),
    Route("/sync/playback", playbacks, methods=["GET"]),
    Route("/sync/playback/{type}", playbacks, methods=["GET"]),
    Route("/sync/playback/{id}", delete, methods=["DELETE"]),
]
