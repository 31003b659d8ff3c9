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


class UnauthorizedClient(SimklError):
    """An AUTH V2 client_id on an AUTH V1 endpoint."""

    error = "unauthorized_client"
    status = 400
    default_message = "This client_id is an OAuth 2.0 app: use the /oauth2/ endpoints"


class UserTokenFailed(SimklError):
    """The bearer token is missing, unknown, revoked or belongs to another app."""

    error = "user_token_failed"
    status = 401
    default_message = "Your access token is missing, wrong or revoked"


class InvalidToken(UserTokenFailed):
    """An AUTH V2 app's access token is unknown, revoked or past its 7 days."""

    error = "invalid_token"
    default_message = "Access token is invalid or has expired"


class UserTokenRequired(UserTokenFailed):
    """An AUTH V2 app called a user endpoint without any access token."""

    error = "user_token_required"
    default_message = "This client_id requires a user access token on every request"


class SecretError(SimklError):
    """POST /oauth/token: a wrong client_secret, or PKCE verification failed."""

    error = "secret_error"
    status = 401
    default_message = "Wrong Secret"


class GrantError(SimklError):
    """POST /oauth/token: the code is unknown, expired, already used or another app's."""

    error = "grant_error"
    status = 401
    default_message = "Bad code provided."


class Forbidden(SimklError):
    """Understood, but the caller may not do it."""

    error = "forbidden"
    status = 403
    default_message = "Forbidden"


class MissingField(Forbidden):
    """POST /oauth/token: a required field is missing (Simkl answers 403 there, not 400)."""

    error = "empty_field"
    default_message = "A required field is missing"


class RedirectFailed(Forbidden):
    """A redirect URL that is not registered for the app."""

    error = "redirect_failed"
    default_message = (
        "Invalid redirect_uri. This value must match a URL registered with the API Key."
    )


class InsufficientScope(Forbidden):
    """An AUTH V2 token without media:write attempted a write."""

    error = "insufficient_scope"
    default_message = 'This action requires the "media:read media:write" scope'


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


class RateLimited(SimklError):
    """Too many attempts of one kind from one client or address; `retry_after` in seconds."""

    error = "rate_limit"
    status = 429
    default_message = "Too many attempts: wait before trying again"

    def __init__(self, message: str | None = None, *, retry_after: int = 60) -> None:
        super().__init__(message)
        self.retry_after = retry_after


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


class IdNotFound(SimklError):
    """A scrobble names an item (or episode) the catalog does not have."""

    error = "id_err"
    status = 404
    default_message = "Item not found"


class ScrobbleLocked(SimklError):
    """Another scrobble of the same user is running (Simkl's 20-second lock): `400`, not 429."""

    error = "RATE_LIMIT"
    status = 400
    default_message = "Another scrobble of this user is in progress; try again shortly"


class PlaybackNotFound(SimklError):
    """A numeric playback id that is none of the user's playbacks."""

    error = "empty"
    status = 404
    default_message = "No playback session with this id"


class OAuth2Error(Exception):
    """An /oauth2/* refusal in the RFC 6749 §5.2 envelope: `{"error", "error_description"}`."""

    def __init__(self, error: str, description: str, *, status: int = 400) -> None:
        super().__init__(description)
        self.error = error
        self.description = description
        self.status = status
        # A failed HTTP Basic client authentication names the scheme to retry with.
        self.basic_challenge = False


class IdError(SimklError):
    """A detail endpoint's id that cannot be a Simkl id."""

    error = "id_err"
    status = 404
    default_message = "The requested item ID or URL does not exist"


class EmptyId(SimklError):
    """An episode list asked for without the parent's id."""

    error = "empty_id"
    status = 400
    default_message = "Provide the Simkl ID of the show or anime in the path"
