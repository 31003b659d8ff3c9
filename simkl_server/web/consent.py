"""The consent pages of both OAuth flows: `/oauth/authorize` (AUTH V1) and `/oauth2/authorize`
(AUTH V2). GET checks the request and shows the app's name with Allow and Deny; the POST
checks it again (nothing in the form is trusted) and redirects with a code, or the refusal.

A request whose client or redirect URI cannot be trusted is refused on the spot, never
redirected (no open redirect): an HTML page for a browser, the JSON error otherwise.
"""

from __future__ import annotations

from collections.abc import Mapping
from urllib.parse import urlencode

import orjson
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from simkl_server.api._http import base_url, services
from simkl_server.domain import oauth, oauth2
from simkl_server.domain.oauth import Authorization, AuthorizeRefused
from simkl_server.domain.oauth2 import AuthorizeRedirect
from simkl_server.web._pages import (
    SECURITY_HEADERS,
    FormRefused,
    Page,
    form,
    page,
    redirect,
    sign_in_first,
)

V1_FIELDS = ("response_type", "client_id", "redirect_uri", "state", "code_challenge",
             "code_challenge_method", "app-name", "app-version")  # fmt: skip
V2_FIELDS = ("response_type", "client_id", "redirect_uri", "state", "code_challenge",
             "code_challenge_method", "scope")  # fmt: skip
SCOPE_TEXT = {
    "public": "read and update your ratings, lists and watch history",
    "media:read": "read your ratings, lists and watch history",
    "media:read media:write": "read and update your ratings, lists and watch history",
}


def _value(fields: Mapping[str, str], name: str) -> str | None:
    return fields.get(name) or None


async def _check(version: int, fields: Mapping[str, str], request: Request) -> Authorization:
    store = services(request).store
    if version == 1:
        return await oauth.check_authorize(
            store,
            client_id=_value(fields, "client_id"),
            response_type=_value(fields, "response_type"),
            redirect_uri=_value(fields, "redirect_uri"),
            state=_value(fields, "state"),
            code_challenge=_value(fields, "code_challenge"),
            code_challenge_method=_value(fields, "code_challenge_method"),
        )
    return await oauth2.check_authorize(
        store,
        client_id=_value(fields, "client_id"),
        redirect_uri=_value(fields, "redirect_uri"),
        response_type=_value(fields, "response_type"),
        code_challenge=_value(fields, "code_challenge"),
        code_challenge_method=_value(fields, "code_challenge_method"),
        scope=fields.get("scope"),
        state=_value(fields, "state"),
    )


def _refused(current: Page, version: int, refusal: AuthorizeRefused) -> Response:
    """400, never a redirect: a page for a browser, the JSON error for a program."""
    if "text/html" in current.request.headers.get("accept", ""):
        return current.render(
            "error.html",
            status=400,
            title="This sign-in request cannot be completed",
            message=refusal.message,
            error_id=refusal.error,
        )
    if version == 1:
        body = {"error": refusal.error, "code": 400, "message": refusal.message}
    else:
        body = {"error": refusal.error, "error_description": refusal.message}
    return Response(orjson.dumps(body), 400, SECURITY_HEADERS, "application/json")


def _back_to_client(
    request: Request, authorization: Authorization, params: dict[str, str]
) -> Response:
    """302 to the app's redirect URI with the answer (V2 adds `iss`, RFC 9207)."""
    if authorization.state is not None:
        params["state"] = authorization.state
    if authorization.app.is_v2:
        params["iss"] = base_url(request)
    uri = authorization.redirect_uri or "/"
    separator = "&" if "?" in uri else "?"
    return RedirectResponse(
        f"{uri}{separator}{urlencode(params)}",
        status_code=302,
        headers={"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"},
    )


async def _consent_page(request: Request, version: int) -> Response:
    current = await page(request)
    fields = dict(request.query_params)
    try:
        authorization = await _check(version, fields, request)
    except AuthorizeRefused as refusal:
        return _refused(current, version, refusal)
    except AuthorizeRedirect as failure:
        return _back_to_client(
            request,
            failure.authorization,
            {"error": failure.error, "error_description": failure.description},
        )
    if current.user is None:
        return sign_in_first(request)
    names = V1_FIELDS if version == 1 else V2_FIELDS
    return current.render(
        "consent.html",
        app=authorization.app,
        scope=SCOPE_TEXT.get(authorization.scope, authorization.scope),
        fields={name: fields[name] for name in names if name in fields},
        action=request.url.path,
    )


async def _decide(request: Request, version: int) -> Response:
    current = await page(request)
    if current.user is None:
        return sign_in_first(request)
    try:
        fields = await form(request, current)
        authorization = await _check(version, fields, request)
    except (FormRefused, AuthorizeRefused, AuthorizeRedirect) as refusal:
        return _refusal(current, version, refusal)
    if fields.get("decision") != "allow":
        if version == 1:  # Simkl's V1 never reports a denial to the app: home page
            return redirect("/")
        return _back_to_client(request, authorization, {"error": "access_denied"})
    code = await oauth.issue_code(
        services(request).store, authorization, user_id=current.user.user_id
    )
    if authorization.redirect_uri is None:  # PKCE with no registered URI: show the code
        return current.render("code.html", app=authorization.app, code=code)
    return _back_to_client(request, authorization, {"code": code})


def _refusal(
    current: Page, version: int, refusal: FormRefused | AuthorizeRefused | AuthorizeRedirect
) -> Response:
    if isinstance(refusal, FormRefused):
        return current.render(
            "error.html", status=403, title="Not authorized", message=str(refusal)
        )
    if isinstance(refusal, AuthorizeRefused):
        return _refused(current, version, refusal)
    return _back_to_client(current.request, refusal.authorization, {"error": refusal.error})


async def authorize_v1(request: Request) -> Response:
    """GET /oauth/authorize: AUTH V1's consent page (PKCE S256 or plain, optional)."""
    return await _consent_page(request, 1)


async def decide_v1(request: Request) -> Response:
    """POST /oauth/authorize: Allow (redirect with `code` and `state`) or Deny (home page)."""
    return await _decide(request, 1)


async def authorize_v2(request: Request) -> Response:
    """GET /oauth2/authorize: AUTH V2's consent page (PKCE S256 mandatory)."""
    return await _consent_page(request, 2)


async def decide_v2(request: Request) -> Response:
    """POST /oauth2/authorize: Allow (`code`, `state`, `iss`) or Deny (`access_denied`)."""
    return await _decide(request, 2)


ROUTES = [
    Route("/oauth/authorize", authorize_v1, methods=["GET"]),
    Route("/oauth/authorize", decide_v1, methods=["POST"]),
    Route("/oauth2/authorize", authorize_v2, methods=["GET"]),
    Route("/oauth2/authorize", decide_v2, methods=["POST"]),
]
