"""Every error path answers in the Simkl envelope: our own errors, the router's 404 and 405,
a client that hung up mid-body, a database that is busy or away (503), and anything unexpected
(one log line and a request id, never the details)."""

from __future__ import annotations

import logging
import secrets

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response
from starlette.routing import Match
from starlette.types import Receive, Scope, Send

from simkl_server.api._http import realm
from simkl_server.errors import (
    InsufficientScope,
    InternalError,
    OAuth2Error,
    RateLimited,
    ServiceUnavailable,
    SimklError,
    UrlFailed,
    WrongMethod,
    WrongParameter,
)
from simkl_server.storage.base import DatabaseBusy, DatabaseUnavailable
from simkl_server.wire.errors import error_body, oauth2_error_body

log = logging.getLogger("simkl_server")
_HTTP_ERRORS: dict[int, type[SimklError]] = {404: UrlFailed, 405: WrongMethod}
_SHOWN_CHARS = 200  # of a client-sent path or error text in a log line
# Seconds a client should wait before retrying: a busy SQLite file frees up quickly, a
# database that went away takes longer to come back.
RETRY_BUSY_S = 1
RETRY_UNAVAILABLE_S = 5


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


async def _database_unavailable(request: Request, exc: Exception) -> Response:
    """503 with Retry-After: the database is busy (another process holds SQLite's lock) or
    does not answer; the reason goes to the log in one line."""
    busy = isinstance(exc, DatabaseBusy)
    log.warning("%s %s: %s", request.method, shown(request.url.path), exc)
    message = "The database is busy; try again shortly" if busy else "The database does not answer"
    if _is_oauth2(request.url.path):  # RFC 6749's code for a server that cannot serve now
        oauth2 = OAuth2Error("temporarily_unavailable", message, status=503)
        response = Response(oauth2_error_body(oauth2), 503, media_type="application/json")
    else:
        response = error_response(ServiceUnavailable(message))
    response.headers["Retry-After"] = str(RETRY_BUSY_S if busy else RETRY_UNAVAILABLE_S)
    return response


def _is_oauth2(path: str) -> bool:
    return path.startswith("/oauth2/")


async def _unexpected(request: Request, exc: Exception) -> Response:
    """Last resort for a failure in EdgeMiddleware itself (which answers the rest)."""
    request_id = log_failure(request.method, request.url.path, exc)
    response = internal_error_response(request_id, request.url.path)
    if _is_oauth2(request.url.path):  # outside EdgeMiddleware, which adds it for the rest
        response.headers.update({"Cache-Control": "no-store", "Pragma": "no-cache"})
    return response


def log_failure(method: str, path: str, exc: BaseException) -> str:
    """Log an unexpected failure in one line with a new request id (the traceback only at
    debug level) and return the id."""
    request_id = secrets.token_hex(8)
    log.error(
        "request %s failed: %s %s: %s: %s",
        request_id,
        method,
        shown(path),
        type(exc).__name__,
        shown(str(exc)),
    )
    log.debug("request %s traceback", request_id, exc_info=exc)
    return request_id


def internal_error_response(request_id: str, path: str) -> Response:
    """500 internal naming the request id (in the message and X-Request-Id), in the
    envelope of the path (RFC 6749's under /oauth2/), closing the connection so a keep-alive
    client's next request goes on a fresh one."""
    message = f"Internal server error (request id {request_id})"
    if _is_oauth2(path):
        body = oauth2_error_body(OAuth2Error("server_error", message, status=500))
        response = Response(body, 500, media_type="application/json")
    else:
        response = error_response(InternalError(message))
    response.headers["X-Request-Id"] = request_id
    response.headers["Connection"] = "close"
    return response


def shown(text: str) -> str:
    """Client-sent text as a log line may show it: cut short, control characters escaped."""
    cut = text if len(text) <= _SHOWN_CHARS else text[:_SHOWN_CHARS] + "..."
    return cut if cut.isprintable() else cut.encode("unicode_escape").decode("ascii")


async def answer_failure(scope: Scope, receive: Receive, send: Send, exc: Exception) -> None:
    """Answer what escaped the routes: 500 with a request id, logged in one line (if the
    answer had already started, the server closes the connection instead)."""
    path = scope.get("path", "-")
    request_id = log_failure(scope.get("method", "-"), path, exc)
    try:
        await internal_error_response(request_id, path)(scope, receive, send)
    except RuntimeError:
        log.debug("request %s: the answer had already started", request_id)


def install_error_handlers(app: Starlette) -> None:
    """Answer every error in the envelope, overriding the framework's own bodies."""
    app.add_exception_handler(SimklError, _simkl_error)
    app.add_exception_handler(OAuth2Error, _oauth2_error)
    app.add_exception_handler(HTTPException, _http_error)
    app.add_exception_handler(ClientDisconnect, _client_gone)
    app.add_exception_handler(DatabaseUnavailable, _database_unavailable)
    app.add_exception_handler(Exception, _unexpected)
