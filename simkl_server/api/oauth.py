"""AUTH V1's JSON endpoints: the PIN flow (`/oauth/pin`, its poll) and `POST /oauth/token`."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from simkl_server.api._http import (
    JSONResponse,
    base_url,
    client_address,
    query_value,
    read_body,
    services,
)
from simkl_server.api.auth import client_id_of
from simkl_server.domain import oauth, pin
from simkl_server.errors import WrongParameter
from simkl_server.wire.oauth import (
    ParamError,
    basic_credentials,
    parameters,
    pin_poll,
    pin_started,
    token_request,
    v1_token_response,
)

# Token requests are a few hundred bytes; a stranger's body is capped well below the sync cap.
MAX_TOKEN_BODY = 64 * 1024


def token_body_limit(request: Request) -> int:
    """The largest token-endpoint body: 64 KiB, or the server's own cap if that is lower."""
    return min(MAX_TOKEN_BODY, services(request).settings.max_body_bytes)


def verification_uri(request: Request) -> str:
    """Where a user enters a code: this server's /pin page."""
    return f"{base_url(request)}/pin"


async def request_pin(request: Request) -> Response:
    """GET /oauth/pin: a new 5-character code for an AUTH V1 app (`redirect`: where the /pin
    page sends the user after approving; it must be registered)."""
    redirect = query_value(request.scope["query_string"], "redirect")
    user_code = await pin.start(
        services(request).store,
        client_id=client_id_of(request),
        redirect=redirect or None,
        address=client_address(request),
    )
    return JSONResponse(pin_started(user_code, verification_uri(request)))


async def poll_pin(request: Request) -> Response:
    """GET /oauth/pin/{user_code}: always 200 — pending, "Slow down", the token once, or a
    fresh code when the polled one is gone.

    Differs from Simkl: a client or address polling too many unknown codes gets 429
    rate_limit (guessing codes could otherwise harvest approved tokens)."""
    store, keys = services(request).store, services(request).keys
    outcome = await pin.poll(
        store,
        keys,
        client_id=client_id_of(request),
        user_code=request.path_params["user_code"],
        address=client_address(request),
    )
    return JSONResponse(pin_poll(outcome, verification_uri(request)))


async def token(request: Request) -> Response:
    """POST /oauth/token: an authorization code (with client_secret or PKCE's code_verifier,
    in a form or JSON body, credentials possibly in HTTP Basic) for the AUTH V1 token.

    Differs from Simkl: a request naming no client_id anywhere (body, Basic, query, header) is
    412 client_id_failed, as every other request is, rather than 403 empty_field."""
    body = await read_body(request, limit=token_body_limit(request))
    try:
        found = parameters(body, request.headers.get("content-type"))
        basic = basic_credentials(request.headers.get("authorization"))
        fields = token_request(found, basic, fallback_client_id=client_id_of(request))
    except ParamError as exc:
        raise WrongParameter(f'"{exc.name}" {exc.problem}') from None
    access_token = await oauth.exchange(services(request).store, services(request).keys, fields)
    return JSONResponse(v1_token_response(access_token))


ROUTES = [
    Route("/oauth/pin", request_pin, methods=["GET"]),
    Route("/oauth/pin/{user_code}", poll_pin, methods=["GET"]),
    Route("/oauth/token", token, methods=["POST"]),
]
