"""/sync/activities."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from simkl_server.api.context import ApiContext
from simkl_server.api.deps import require_user
from simkl_server.api.http import JSONResponse
from simkl_server.wire.activities import activities_response


def routes(ctx: ApiContext) -> list[Route]:
    """The activities route."""

    async def activities(request: Request) -> Response:
        """GET /sync/activities: every timestamp bucket, null where nothing happened yet."""
        caller = await require_user(ctx.store, request)
        return JSONResponse(activities_response(await ctx.store.activities(caller.user_id)))

    return [Route("/sync/activities", activities, methods=["GET"])]
