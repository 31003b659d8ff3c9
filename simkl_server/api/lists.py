"""/sync/add-to-list."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from simkl_server.api._http import JSONResponse, read_body, services
from simkl_server.api.auth import require_user
from simkl_server.api.learning import learn_policy
from simkl_server.domain.lists import add_to_list
from simkl_server.wire.common import parse_json_object, sync_items
from simkl_server.wire.lists import add_to_list_response, list_inputs


async def add(request: Request) -> Response:
    """POST /sync/add-to-list: 201 with every applied item echoed with the list it went to,
    and the unmatched items.

    Differs from Simkl: the official document lists this answer under 200 while its own text
    says 201, as every sync write answers; this server answers 201. A batch over
    `max_batch_items` is refused (400 max_items). In learn mode unknown items with a
    well-formed external id are learned instead of not_found."""
    caller = await require_user(request)
    settings, store, _ = services(request)
    document = parse_json_object(await read_body(request, limit=settings.max_body_bytes))
    inputs = list_inputs(
        sync_items(
            document, max_items=settings.max_batch_items, max_title_chars=settings.max_title_chars
        )
    )
    outcome = await add_to_list(
        store, user_id=caller.user_id, inputs=inputs, learning=learn_policy(settings)
    )
    return JSONResponse(add_to_list_response(outcome), status_code=201)


ROUTES = [Route("/sync/add-to-list", add, methods=["POST"])]
