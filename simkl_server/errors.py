"""Errors that carry Simkl's `error` id, HTTP status and message; the app renders them as-is."""

from __future__ import annotations

from typing import ClassVar


class SimklError(Exception):
    """Base of every error a client may see; rendered as {"error", "code", "message"}."""

    error: ClassVar[str] = "internal"
    status: ClassVar[int] = 500
    default_message: ClassVar[str] = "Internal server error"

    def __init__(self, message: str | None = None) -> None:
        self.message = message or self.default_message
        super().__init__(self.message)


class WrongParameter(SimklError):
    """A field has a value or type that is not accepted."""

    error = "wrong_parameter"
    status = 400
    default_message = "A parameter has a wrong value"


class EmptyField(SimklError):
    """A required field is missing."""

    error = "empty_field"
    status = 400
    default_message = "A required field is missing"


class MaxItems(SimklError):
    """A batch carries more items than the server accepts in one request."""

    error = "max_items"
    status = 400
    default_message = "Too many items in one request"


class UserTokenFailed(SimklError):
    """The bearer token is missing, unknown, revoked or belongs to another app."""

    error = "user_token_failed"
    status = 401
    default_message = "Your access token is missing, wrong or revoked"


class UrlFailed(SimklError):
    """No route matches the URL."""

    error = "url_failed"
    status = 404
    default_message = "URL not found"


class WrongMethod(SimklError):
    """The route exists but not for this HTTP method."""

    error = "wrong_method"
    status = 405
    default_message = "Method not allowed on this URL"


class ClientIdFailed(SimklError):
    """The client_id is missing or unknown."""

    error = "client_id_failed"
    status = 412
    default_message = "Your client_id is wrong. Try another one"


class BodyTooLarge(SimklError):
    """The request body exceeds the configured size limit."""

    error = "body_too_large"
    status = 413
    default_message = "Request body is too large"


class HeadersTooLarge(SimklError):
    """The request line and headers exceed the configured size limit."""

    error = "headers_too_large"
    status = 431
    default_message = "Request headers are too large"


class RequestTimeout(SimklError):
    """The client took too long to send its request."""

    error = "request_timeout"
    status = 408
    default_message = "The request was not received in time"


class ServiceUnavailable(SimklError):
    """The server cannot do its work right now: its database does not answer."""

    error = "service_unavailable"
    status = 503
    default_message = "The service is unavailable; try again later"


class InternalError(SimklError):
    """An unexpected failure; the details go to the log, never to the client."""
