"""Connected apps: every grant the signed-in user gave, and revoking one (its tokens get 401
from the next request on)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from simkl_server.api._http import services
from simkl_server.domain import grants
from simkl_server.web._pages import FormRefused, Page, form, page, redirect, sign_in_first
from simkl_server.web.consent import SCOPE_TEXT


async def _render(current: Page, *, error: str | None = None, status: int = 200) -> Response:
    assert current.user is not None
    found = await grants.connected(services(current.request).store, user_id=current.user.user_id)
    return current.render(
        "connected.html", status=status, grants=found, scopes=SCOPE_TEXT, error=error
    )


async def connected_page(request: Request) -> Response:
    """GET /connected: the apps this user connected."""
    current = await page(request)
    if current.user is None:
        return sign_in_first(request)
    return await _render(current)


async def revoke(request: Request) -> Response:
    """POST /connected/{grant_id}/revoke: disconnect one app."""
    current = await page(request)
    if current.user is None:
        return sign_in_first(request)
    try:
        await form(request, current)
        grant_id = int(request.path_params["grant_id"])
        await grants.revoke(
            services(request).store, user_id=current.user.user_id, grant_id=grant_id
        )
    except FormRefused as exc:
        return await _render(current, error=str(exc), status=403)
    except (ValueError, grants.GrantNotFound):
        return await _render(current, error="No such connection.", status=404)
    return redirect("/connected")


ROUTES = [
    Route("/connected", connected_page, methods=["GET"]),
    Route("/connected/{grant_id}/revoke", revoke, methods=["POST"]),
]
