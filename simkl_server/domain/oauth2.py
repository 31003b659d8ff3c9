"""AUTH V2 (RFC 6749, 7636, 8628, 7009): client authentication, the authorize request, the
device flow and the token endpoint's three grants, and revocation.

Client authentication comes first and fails with 401 invalid_client before anything else is
looked at (so it never uses a code up). After it, an authorization code is consumed before any
other check: a failed exchange destroys it.
"""

from __future__ import annotations

from enum import Enum

from simkl_server.domain import grants, limits, pin, redirects
from simkl_server.domain.grants import TokenSet
from simkl_server.domain.models import App, AppKind, AuthCode, UserCode, frozen
from simkl_server.domain.oauth import Authorization, AuthorizeRefused
from simkl_server.domain.tokens import (
    WRITE_SCOPE,
    pkce_matches,
    random_code,
    requested_scope,
    secret_matches,
    token_hash,
)
from simkl_server.errors import OAuth2Error, RateLimited
from simkl_server.storage.base import Store, WriteTx

DEVICE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"
GRANT_TYPES = ("authorization_code", "refresh_token", DEVICE_GRANT)
_NOT_V2 = "This client_id is not enabled for OAuth 2.0"
_BAD_CLIENT = "Client authentication failed"
_BAD_CODE = "Authorization code is invalid, expired, or already used"


class AuthorizeRedirect(Exception):
    """An authorize error sent back to the (trusted) redirect URI as `?error=...`."""

    def __init__(self, authorization: Authorization, error: str, description: str) -> None:
        super().__init__(description)
        self.authorization = authorization
        self.error = error
        self.description = description


@frozen
class ClientCredentials:
    """Who the caller says it is: body fields, or HTTP Basic (`basic` True)."""

    client_id: str | None
    client_secret: str | None
    basic: bool = False


@frozen
class TokenRequest:
    """`POST /oauth2/token`'s grant parameters."""

    grant_type: str | None
    code: str | None = None
    code_verifier: str | None = None
    redirect_uri: str | None = None
    refresh_token: str | None = None
    device_code: str | None = None
    scope: str | None = None


@frozen
class DeviceStart:
    """A new device authorization: the secret polling handle and the code the user types."""

    device_code: str
    user_code: str


class _Poll(Enum):
    PENDING = "authorization_pending"
    SLOW_DOWN = "slow_down"
    EXPIRED = "expired_token"
    DENIED = "access_denied"


_POLL_TEXT = {
    _Poll.PENDING: "The user has not approved this device yet",
    _Poll.SLOW_DOWN: "Polled faster than the interval: add 5 seconds and wait",
    _Poll.EXPIRED: "The device code is invalid or past its 15 minutes",
    _Poll.DENIED: "The user declined",
}


def _invalid_client(description: str, *, basic: bool = False) -> OAuth2Error:
    error = OAuth2Error("invalid_client", description, status=401)
    error.basic_challenge = basic
    return error


async def v2_app(store: Store, client_id: str | None) -> App:
    """The AUTH V2 app of a client_id (401 invalid_client otherwise)."""
    app = None if not client_id else await store.read.accounts.find_app(client_id)
    if app is None:
        raise _invalid_client(_BAD_CLIENT)
    if not app.is_v2:
        raise _invalid_client(_NOT_V2)
    return app


async def authenticate_client(store: Store, credentials: ClientCredentials) -> App:
    """A server app proves itself with its secret; the others send only their client_id."""
    app = await v2_app(store, credentials.client_id)
    secret = credentials.client_secret
    if app.kind.has_secret:
        if secret is None or not secret_matches(secret, app.secret_hash):
            raise _invalid_client(_BAD_CLIENT, basic=credentials.basic)
    elif secret is not None:
        raise _invalid_client("This app has no client_secret: send only client_id")
    return app


async def check_authorize(
    store: Store,
    *,
    client_id: str | None,
    redirect_uri: str | None,
    response_type: str | None,
    code_challenge: str | None,
    code_challenge_method: str | None,
    scope: str | None,
    state: str | None,
) -> Authorization:
    """`GET /oauth2/authorize`'s parameters: the client and redirect URI first (their errors
    never redirect), then the rest (whose errors go back to the redirect URI)."""
    app = None if not client_id else await store.read.accounts.find_app(client_id)
    if app is None or not app.is_v2:
        raise AuthorizeRefused("invalid_client", _NOT_V2 if app else "Your client_id is wrong.")
    registered = app.redirect_uris
    allow_local = app.kind is AppKind.PUBLIC
    if not redirect_uri or not redirects.matches_v2(
        redirect_uri, registered, allow_local=allow_local
    ):
        raise AuthorizeRefused("invalid_request", "redirect_uri must match a registered URI")
    authorization = Authorization(
        app, redirect_uri, state, code_challenge, "S256", scope=requested_scope(scope)
    )
    if response_type not in (None, "code"):
        raise AuthorizeRedirect(
            authorization, "unsupported_response_type", 'response_type must be "code"'
        )
    if not code_challenge:
        raise AuthorizeRedirect(authorization, "invalid_request", "code_challenge is required")
    if code_challenge_method != "S256":
        raise AuthorizeRedirect(
            authorization, "invalid_request", "code_challenge_method must be S256"
        )
    return authorization


async def start_device(
    store: Store, *, client_id: str | None, scope: str | None, address: str
) -> DeviceStart:
    """`POST /oauth2/device`: a device code (stored as its hash) and an 8-character user code;
    no secret needed. Without `media:write` in `scope` the grant is read-only."""
    app = await v2_app(store, client_id)
    try:
        await limits.refuse_if_over(store.read, store.clock.now_ms(), _new_codes(address))
    except RateLimited as exc:
        error = OAuth2Error("slow_down", "Too many device codes from this address", status=429)
        raise error from exc
    await limits.count_failure(store, _new_codes(address))
    device_code = random_code()

    async def work(tx: WriteTx) -> str:
        return await pin.new_code(
            tx,
            app,
            scope=requested_scope(scope),
            redirect=None,
            device_hash=token_hash(device_code),
        )

    return DeviceStart(device_code, await store.transaction(work))


def _new_codes(address: str) -> tuple[limits.Limit, str]:
    return limits.NEW_CODES_PER_ADDRESS, address


async def token(store: Store, credentials: ClientCredentials, request: TokenRequest) -> TokenSet:
    """`POST /oauth2/token`: one of the three grants, after client authentication."""
    app = await authenticate_client(store, credentials)
    if not request.grant_type:
        raise OAuth2Error("invalid_request", "grant_type is required")
    if request.grant_type == "authorization_code":
        return await _code_grant(store, app, request)
    if request.grant_type == "refresh_token":
        return await _refresh_grant(store, app, request)
    if request.grant_type == DEVICE_GRANT:
        return await _device_grant(store, app, request)
    raise OAuth2Error(
        "unsupported_grant_type", f"grant_type must be one of {', '.join(GRANT_TYPES)}"
    )


async def _code_grant(store: Store, app: App, request: TokenRequest) -> TokenSet:
    if not request.code:
        raise OAuth2Error("invalid_request", "code is required")
    code_hash = token_hash(request.code)
    code = await store.transaction(lambda tx: tx.codes.consume_auth_code(code_hash))
    if not request.code_verifier:
        raise OAuth2Error("invalid_request", "code_verifier is required")
    _check_code(app, code, request, now=store.clock.now_ms())
    assert code is not None
    user_id, scope = code.user_id, code.scope
    return await store.transaction(
        lambda tx: grants.new_v2_grant(tx, app_id=app.id, user_id=user_id, scope=scope)
    )


def _check_code(app: App, code: AuthCode | None, request: TokenRequest, *, now: int) -> None:
    if code is None or code.app_id != app.id or code.auth_version != 2 or code.expires_at <= now:
        raise OAuth2Error("invalid_grant", _BAD_CODE)
    verifier = request.code_verifier or ""
    if not pkce_matches(verifier, challenge=code.challenge or "", method="S256"):
        raise OAuth2Error("invalid_grant", "PKCE verification failed")
    if request.redirect_uri != code.redirect_uri:
        raise OAuth2Error("invalid_grant", "redirect_uri does not match the authorization request")


async def _refresh_grant(store: Store, app: App, request: TokenRequest) -> TokenSet:
    refresh = request.refresh_token
    if not refresh:
        raise OAuth2Error("invalid_request", "refresh_token is required")
    grant = await store.read.grants.find_by_refresh(token_hash(refresh))
    if grant is None or grant.app_id != app.id or grant.refresh_expires_at <= store.clock.now_ms():
        raise OAuth2Error("invalid_grant", "Refresh token is invalid or expired")
    # A narrower scope is ignored (the grant's is reissued); a wider one is refused.
    wider = requested_scope(request.scope) == WRITE_SCOPE != grant.scope
    if request.scope is not None and wider:
        raise OAuth2Error("invalid_scope", "A refresh cannot widen the grant's scope")
    return await store.transaction(
        lambda tx: grants.refresh_v2(
            tx,
            grant_id=grant.id,
            app_id=app.id,
            user_id=grant.user_id,
            scope=grant.scope,
            refresh=refresh,
        )
    )


async def _device_grant(store: Store, app: App, request: TokenRequest) -> TokenSet:
    if not request.device_code:
        raise OAuth2Error("invalid_request", "device_code is required")
    code = await store.read.codes.by_device_hash(token_hash(request.device_code))
    outcome = await store.transaction(lambda tx: _device_poll(tx, app, code))
    if isinstance(outcome, _Poll):
        raise OAuth2Error(outcome.value, _POLL_TEXT[outcome])
    return outcome


async def _device_poll(tx: WriteTx, app: App, code: UserCode | None) -> TokenSet | _Poll:
    """One poll; the poll timer is reset by every attempt, a refused one included."""
    if code is None or code.app_id != app.id or code.expires_at <= tx.now_ms:
        return _Poll.EXPIRED
    await tx.codes.polled(code.id, now=tx.now_ms)
    if pin.polled_too_soon(code, tx.now_ms):
        return _Poll.SLOW_DOWN
    if code.decision is None or code.user_id is None:
        return _Poll.PENDING
    if not await tx.codes.delete_user_code(code.id):
        return _Poll.PENDING  # another poll is claiming this approval right now
    if code.decision == "denied":
        return _Poll.DENIED
    return await grants.new_v2_grant(tx, app_id=app.id, user_id=code.user_id, scope=code.scope)


async def revoke(store: Store, credentials: ClientCredentials, *, token: str | None) -> None:
    """RFC 7009: end the grant of an access or refresh token of this app; silent whether or
    not there was one (so the endpoint cannot probe which tokens exist)."""
    app = await authenticate_client(store, credentials)
    if not token:
        raise OAuth2Error("invalid_request", "token is required")
    presented = token_hash(token)

    async def work(tx: WriteTx) -> None:
        grant_id = await tx.grants.grant_of(token_hash=presented, app_id=app.id)
        if grant_id is not None:
            await tx.grants.revoke(grant_id, now=tx.now_ms)

    await store.transaction(work)
