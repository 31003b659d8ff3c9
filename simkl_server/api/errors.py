"""Every error path answers in the Simkl envelope: our own errors, the router's 404 and 405,
a client that hung up mid-body, and anything unexpected (logged, never shown)."""

from __future__ import annotations

import logging

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response
from starlette.routing import Match

from simkl_server.api._http import realm
from simkl_server.errors import (
    InsufficientScope,
    InternalError,
    OAuth2Error,
    RateLimited,
    SimklError,
    UrlFailed,
    WrongMethod,
    WrongParameter,
)
from simkl_server.wire.errors import error_body, oauth2_error_body

log = logging.getLogger("simkl_server")
_HTTP_ERRORS: dict[int, type[SimklError]] = {404: UrlFailed, 405: WrongMethod}


def error_response(error: SimklError) -> Response:
    """The Simkl envelope with the error's status."""
    return Response(error_body(error), status_code=error.status, media_type="application/json")


async def _simkl_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, SimklError)
    response = error_response(exc)
    if exc.status == 401:  # RFC 6750 §3, as Simkl sends it
        response.headers["WWW-Authenticate"] = (
            f'Bearer realm="{realm(request)}", error="{exc.error}"'
        )
    elif isinstance(exc, InsufficientScope):
        response.headers["WWW-Authenticate"] = (
            'Bearer error="insufficient_scope", scope="media:read media:write"'
        )
    elif isinstance(exc, RateLimited):
        response.headers["Retry-After"] = str(exc.retry_after)
    return response


async def _oauth2_error(request: Request, exc: Exception) -> Response:
    """RFC 6749 §5.2's envelope; a failed HTTP Basic client authentication names Basic."""
    assert isinstance(exc, OAuth2Error)
    response = Response(
        oauth2_error_body(exc), status_code=exc.status, media_type="application/json"
    )
    if exc.basic_challenge:
        response.headers["WWW-Authenticate"] = 'Basic realm="oauth2"'
    return response


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    kind = _HTTP_ERRORS.get(exc.status_code, WrongParameter)
    response = error_response(kind())
    if exc.status_code == 405:  # RFC 9110: a 405 names the methods that are allowed
        response.headers["Allow"] = _allowed_methods(request)
    return response


def _allowed_methods(request: Request) -> str:
    """Every method some route takes on this path (Starlette's own header names only the
    first matching route's, and /sync/ratings has a route per method)."""
    methods: set[str] = set()
    for route in request.app.routes:
        match, _ = route.matches(request.scope)
        if match is not Match.NONE:
            methods |= getattr(route, "methods", None) or set()
    return ", ".join(sorted(methods))


async def _client_gone(request: Request, exc: Exception) -> Response:
    """The client hung up before its body was complete: nothing was applied, and nobody is
    left to read an answer (not an error of ours, so no traceback in the log)."""
    return error_response(WrongParameter("The connection closed before the body was complete"))


async def _unexpected(request: Request, exc: Exception) -> Response:
    log.exception("unhandled error on %s %s", request.method, request.url.path)
    if request.url.path.startswith("/oauth2/"):  # that path's envelope, no-store included
        response = await _oauth2_error(
            request, OAuth2Error("server_error", InternalError.default_message, status=500)
        )
        response.headers.update({"Cache-Control": "no-store", "Pragma": "no-cache"})
        return response
    return error_response(InternalError())


def install_error_handlers(app: Starlette) -> None:
    """Answer every error in the envelope, overriding the framework's own bodies."""
    app.add_exception_handler(SimklError, _simkl_error)
    app.add_exception_handler(OAuth2Error, _oauth2_error)
    app.add_exception_handler(HTTPException, _http_error)
    app.add_exception_handler(ClientDisconnect, _client_gone)
    app.add_exception_handler(Exception, _unexpected)
