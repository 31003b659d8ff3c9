"""/sync/watched."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from simkl_server.api._http import JSONResponse, query_params, read_body, services
from simkl_server.api.auth import require_user
from simkl_server.domain.watched import lookup_watched
from simkl_server.wire.common import parse_json
from simkl_server.wire.watched import extended_flags, watched_questions, watched_response


async def watched(request: Request) -> Response:
    """POST /sync/watched: 200 with, for each item asked about, whether it is in the library,
    on which list and when last watched (`extended`: counts and episodes).

    Differs from Simkl: an empty array answers `[]`, not a bare `null`, which strict clients
    reject. More items than `max_batch_items` are refused (400 max_items)."""
    caller = await require_user(request)
    settings, store, _ = services(request)
    document = parse_json(await read_body(request, limit=settings.max_body_bytes), empty=[])
    flags = extended_flags(query_params(request).get("extended"))
    asked = watched_questions(document, max_items=settings.max_batch_items, flags=flags)
    answers = await lookup_watched(
        store,
        user_id=caller.user_id,
        questions=[question for _, question in asked],
        episodes=bool(flags & {"counters", "episodes"}),
    )
    return JSONResponse(watched_response(asked, answers, flags))


ROUTES = [Route("/sync/watched", watched, methods=["POST"])]
