"""Developer apps: register one (name, redirect URIs, kind, AUTH V1 or V2), see its client_id
and, once, its client_secret; list and delete your apps."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from simkl_server.api._http import services
from simkl_server.domain import auth
from simkl_server.domain.models import AppKind, NewApp
from simkl_server.web._pages import FormRefused, Page, form, page, redirect, sign_in_first

KIND_LABELS = {
    AppKind.SERVER: "Server apps & services (has a client_secret)",
    AppKind.PUBLIC: "Mobile, desktop & browser apps (no secret, PKCE)",
    AppKind.DEVICE: "TV, devices & command line (no secret, no redirect URI)",
}


async def _render(
    current: Page, *, created: NewApp | None = None, error: str | None = None, status: int = 200
) -> Response:
    assert current.user is not None
    apps = await services(current.request).store.read.accounts.owned_apps(current.user.user_id)
    return current.render(
        "apps.html", status=status, apps=apps, created=created, error=error, kinds=KIND_LABELS
    )


async def apps_page(request: Request) -> Response:
    """GET /apps: your apps and the form to register one."""
    current = await page(request)
    if current.user is None:
        return sign_in_first(request)
    return await _render(current)


async def create(request: Request) -> Response:
    """POST /apps: register an app; its secret is shown on this answer only."""
    current = await page(request)
    if current.user is None:
        return sign_in_first(request)
    try:
        fields = await form(request, current)
        created = await auth.create_app(
            services(request).store,
            name=fields.get("name", ""),
            redirect_uris=fields.get("redirect_uris", "").splitlines(),
            kind=AppKind(fields.get("kind", "")),
            auth_version=2 if fields.get("auth") == "v2" else 1,
            owner_id=current.user.user_id,
        )
    except FormRefused as exc:
        return await _render(current, error=str(exc), status=403)
    except (auth.AccountError, ValueError) as exc:
        return await _render(current, error=str(exc), status=400)
    return await _render(current, created=created, status=201)


async def delete(request: Request) -> Response:
    """POST /apps/{client_id}/delete: delete one of your apps; its tokens stop working."""
    current = await page(request)
    if current.user is None:
        return sign_in_first(request)
    try:
        await form(request, current)
    except FormRefused as exc:
        return await _render(current, error=str(exc), status=403)
    client_id = request.path_params["client_id"]
    owner = current.user.user_id
    store = services(request).store
    if not await store.transaction(lambda tx: tx.accounts.delete_app(client_id, owner_id=owner)):
        return await _render(current, error="No such app of yours.", status=404)
    return redirect("/apps")


ROUTES = [
    Route("/apps", apps_page, methods=["GET"]),
    Route("/apps", create, methods=["POST"]),
    Route("/apps/{client_id}/delete", delete, methods=["POST"]),
]
