"""/sync/history and /sync/history/remove."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from simkl_server.api._http import JSONResponse, query_value, read_body, services
from simkl_server.api.auth import require_user
from simkl_server.api.learning import learn_policy
from simkl_server.domain import history
from simkl_server.domain.kinds import Wrapper
from simkl_server.wire.common import parse_json_object, sync_items
from simkl_server.wire.history import history_inputs, history_response, remove_response


async def add(request: Request) -> Response:
    """POST /sync/history: 201 with the items put on a list, the episodes newly watched, each
    applied item's resulting status, and the unmatched items; with `allow_rewatch=yes`, PRO
    and VIP accounts record rewatch sessions.

    Differs from Simkl: a batch over `max_batch_items` is refused (400 max_items); in learn
    mode unknown items with a well-formed external id are learned instead of not_found."""
    caller = await require_user(request)
    settings, store, _ = services(request)
    document = parse_json_object(await read_body(request, limit=settings.max_body_bytes))
    items = sync_items(
        document,
        max_items=settings.max_batch_items,
        episodes=True,
        max_title_chars=settings.max_title_chars,
    )
    outcome = await history.add_history(
        store,
        user_id=caller.user_id,
        inputs=history_inputs(items),
        skip_auto_watching=_yes(request, "skip_auto_watching"),
        allow_rewatch=_yes(request, "allow_rewatch"),
        learning=learn_policy(settings),
    )
    return JSONResponse(history_response(outcome), status_code=201)


async def remove(request: Request) -> Response:
    """POST /sync/history/remove: 201 with the items taken out of the library, the episodes
    unmarked, and the unmatched items; items under `anime[]` are ignored, as Simkl does.

    Differs from Simkl: a batch over `max_batch_items` is refused (400 max_items)."""
    caller = await require_user(request)
    settings, store, _ = services(request)
    document = parse_json_object(await read_body(request, limit=settings.max_body_bytes))
    items = sync_items(
        document,
        max_items=settings.max_batch_items,
        episodes=True,
        wrappers=(Wrapper.MOVIES, Wrapper.SHOWS),
        max_title_chars=settings.max_title_chars,
    )
    outcome = await history.remove_history(store, user_id=caller.user_id, items=items)
    return JSONResponse(remove_response(outcome), status_code=201)


def _yes(request: Request, name: str) -> bool:
    value = query_value(request.scope["query_string"], name)
    return value is not None and value.strip().lower() == "yes"


ROUTES = [
    Route("/sync/history/remove", remove, methods=["POST"]),
    Route("/sync/history", add, methods=["POST"]),
]
