"""AUTH V2's JSON endpoints: the device flow, the token endpoint, revocation and the RFC 8414
discovery document. Every `/oauth2/*` answer, errors included, is `no-store` (EdgeMiddleware)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from simkl_server.api._http import JSONResponse, base_url, client_address, read_body, services
from simkl_server.api.oauth import token_body_limit, verification_uri
from simkl_server.domain import oauth2
from simkl_server.errors import OAuth2Error, SimklError
from simkl_server.wire.oauth2 import (
    credentials,
    device_response,
    metadata,
    token_request,
    token_response,
    v2_parameters,
)


async def _parameters(request: Request) -> dict[str, str | None]:
    """The body's parameters; even an oversized body is refused in RFC 6749's envelope."""
    try:
        body = await read_body(request, limit=token_body_limit(request))
    except SimklError as exc:
        raise OAuth2Error("invalid_request", exc.message, status=exc.status) from None
    return v2_parameters(body, request.headers.get("content-type"))


async def device(request: Request) -> Response:
    """POST /oauth2/device: RFC 8628 device authorization (no secret; `scope` defaults to
    media:read)."""
    found = await _parameters(request)
    started = await oauth2.start_device(
        services(request).store,
        client_id=found.get("client_id"),
        scope=found.get("scope"),
        address=client_address(request),
    )
    return JSONResponse(device_response(started, verification_uri(request)))


async def token(request: Request) -> Response:
    """POST /oauth2/token: authorization code (PKCE S256), refresh (sliding 180 days, the old
    access token dies) or device-code polling.

    Differs from Simkl: a device code the user declined on /pin answers `access_denied`
    (RFC 8628 §3.5) instead of `authorization_pending` until it expires."""
    found = await _parameters(request)
    tokens = await oauth2.token(
        services(request).store,
        credentials(found, request.headers.get("authorization")),
        token_request(found),
    )
    return JSONResponse(token_response(tokens))


async def revoke(request: Request) -> Response:
    """POST /oauth2/revoke: RFC 7009, always 200 with an empty body once the client is
    authenticated; either token of a grant ends the whole grant."""
    found = await _parameters(request)
    await oauth2.revoke(
        services(request).store,
        credentials(found, request.headers.get("authorization")),
        token=found.get("token"),
    )
    return Response(status_code=200)


async def discovery(request: Request) -> Response:
    """GET /.well-known/oauth-authorization-server: RFC 8414 metadata of AUTH V2."""
    return JSONResponse(metadata(base_url(request)))


ROUTES = [
    Route("/oauth2/device", device, methods=["POST"]),
    Route("/oauth2/token", token, methods=["POST"]),
    Route("/oauth2/revoke", revoke, methods=["POST"]),
    Route("/.well-known/oauth-authorization-server", discovery, methods=["GET"]),
]
