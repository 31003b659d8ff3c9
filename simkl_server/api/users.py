"""/users/settings."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from simkl_server.api.context import ApiContext
from simkl_server.api.deps import require_user
from simkl_server.api.http import JSONResponse
from simkl_server.errors import UserTokenFailed
from simkl_server.wire.users import settings_response


def routes(ctx: ApiContext) -> list[Route]:
    """The user settings route."""

    async def settings(request: Request) -> Response:
        """GET or POST /users/settings (the OpenAPI says GET; older clients POST): 200.

        Differs from Simkl: profile fields this server does not keep are blank."""
        caller = await require_user(ctx.store, request)
        profile = await ctx.store.user_profile(caller.user_id)
        if profile is None:
            raise UserTokenFailed
        return JSONResponse(settings_response(profile))

    return [Route("/users/settings", settings, methods=["GET", "POST"])]
