"""The /pin page: a signed-in user types (or follows a link with) a PIN or device code, sees
which app asks and for what, and allows or declines it."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from simkl_server.api._http import client_address, services
from simkl_server.domain import pin
from simkl_server.errors import RateLimited
from simkl_server.web._pages import FormRefused, Page, form, page, sign_in_first
from simkl_server.web.consent import SCOPE_TEXT

MAX_CODE_CHARS = 32
_UNKNOWN = "No code like that is waiting: check it, or ask the app for a new one."
_TOO_MANY = "Too many wrong codes. Wait a few minutes, then try again."


def _entry(
    current: Page, *, code: str = "", error: str | None = None, status: int = 200
) -> Response:
    return current.render("pin.html", status=status, code=code[:MAX_CODE_CHARS], error=error)


async def pin_page(request: Request) -> Response:
    """GET /pin[?user_code=]: the code entry form, pre-filled from the link if given."""
    current = await page(request)
    if current.user is None:
        return sign_in_first(request)
    return _entry(current, code=request.query_params.get("user_code", ""))


async def enter(request: Request) -> Response:
    """POST /pin: the code as typed; the consent question for its app."""
    current = await page(request)
    if current.user is None:
        return sign_in_first(request)
    try:
        typed = (await form(request, current)).get("user_code", "")[:MAX_CODE_CHARS]
        approval = await pin.pending_approval(
            services(request).store,
            typed=typed,
            user_id=current.user.user_id,
            address=client_address(request),
        )
    except FormRefused as exc:
        return _entry(current, error=str(exc), status=403)
    except pin.UnknownCode:
        return _entry(current, code=typed, error=_UNKNOWN, status=404)
    except RateLimited:
        return _entry(current, error=_TOO_MANY, status=429)
    return current.render(
        "pin_confirm.html",
        app=approval.app,
        code=approval.code.user_code,
        scope=SCOPE_TEXT.get(approval.code.scope, approval.code.scope),
    )


async def decide(request: Request) -> Response:
    """POST /pin/decide: Allow or Deny; after Allow a PIN's registered `redirect` is followed."""
    current = await page(request)
    if current.user is None:
        return sign_in_first(request)
    try:
        fields = await form(request, current)
        approval = await pin.decide(
            services(request).store,
            typed=fields.get("user_code", "")[:MAX_CODE_CHARS],
            user_id=current.user.user_id,
            allowed=fields.get("decision") == "allow",
            address=client_address(request),
        )
    except FormRefused as exc:
        return _entry(current, error=str(exc), status=403)
    except pin.UnknownCode:
        return _entry(current, error=_UNKNOWN, status=404)
    except RateLimited:
        return _entry(current, error=_TOO_MANY, status=429)
    allowed = fields.get("decision") == "allow"
    if allowed and approval.code.redirect is not None:  # registered for the app: no open redirect
        return RedirectResponse(approval.code.redirect, status_code=303)
    return current.render("pin_done.html", app=approval.app, allowed=allowed)


ROUTES = [
    Route("/pin", pin_page, methods=["GET"]),
    Route("/pin", enter, methods=["POST"]),
    Route("/pin/decide", decide, methods=["POST"]),
]
