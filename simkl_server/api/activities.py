"""/sync/activities."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from simkl_server.api._http import services
from simkl_server.api.auth import require_user
from simkl_server.domain.activities import read_activities
from simkl_server.wire.activities import activities_body


async def activities(request: Request) -> Response:
    """GET /sync/activities: every timestamp bucket, null where nothing happened yet; POST is
    accepted too, as older clients send it (spec §7)."""
    caller = await require_user(request)
    buckets = await read_activities(services(request).store, user_id=caller.user_id)
    return Response(activities_body(buckets), media_type="application/json")


ROUTES = [Route("/sync/activities", activities, methods=["GET", "POST"])]
