"""/users/settings."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from simkl_server.api._http import JSONResponse, services
from simkl_server.api.auth import require_user
from simkl_server.domain import users
from simkl_server.wire.users import settings_response


async def settings(request: Request) -> Response:
    """GET or POST /users/settings (the OpenAPI says GET; older clients POST): 200.

    Differs from Simkl: profile fields this server does not keep are blank."""
    caller = await require_user(request)
    profile = await users.profile(services(request).store, user_id=caller.user_id)
    return JSONResponse(settings_response(profile))


ROUTES = [Route("/users/settings", settings, methods=["GET", "POST"])]
