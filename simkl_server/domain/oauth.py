"""The AUTH V1 authorization-code flow: checking an authorize request, issuing a code once the
user allows it, and exchanging the code for the (app, user) pair's token.

Exchange errors come in the order spec §7 fixes: unknown client 412, missing field 403,
wrong secret or PKCE 401 secret_error, bad code 401 grant_error, redirect mismatch 403. Any
exchange attempt uses the code up, whatever its outcome.
"""

from __future__ import annotations

from simkl_server.domain import grants
from simkl_server.domain.models import App, AuthCode, frozen
from simkl_server.domain.tokens import V1_SCOPE, Keys, pkce_matches, random_code, secret_matches
from simkl_server.domain.tokens import token_hash as hash_of
from simkl_server.errors import (
    ClientIdFailed,
    GrantError,
    MissingField,
    RedirectFailed,
    SecretError,
    UnauthorizedClient,
    WrongParameter,
)
from simkl_server.storage.base import Store, WriteTx

CODE_LIFETIME_MS = 10 * 60_000


class AuthorizeRefused(Exception):
    """An authorize request that gets an error page, never a redirect (the redirect target
    cannot be trusted, or Simkl's V1 flow never redirects errors)."""

    status = 400

    def __init__(self, error: str, message: str) -> None:
        super().__init__(message)
        self.error = error
        self.message = message


@frozen
class Authorization:
    """A checked authorize request: the app, where to send the code, and PKCE's challenge."""

    app: App
    redirect_uri: str | None
    state: str | None
    challenge: str | None
    challenge_method: str | None
    scope: str = V1_SCOPE


@frozen
class TokenRequest:
    """The fields of `POST /oauth/token`, from the body or an HTTP Basic header."""

    grant_type: str | None
    code: str | None
    client_id: str | None
    client_secret: str | None
    code_verifier: str | None
    redirect_uri: str | None


async def check_authorize(
    store: Store,
    *,
    client_id: str | None,
    response_type: str | None,
    redirect_uri: str | None,
    state: str | None,
    code_challenge: str | None,
    code_challenge_method: str | None,
) -> Authorization:
    """`GET /oauth/authorize`'s parameters, checked before the consent page shows."""
    app = None if not client_id else await store.read.accounts.find_app(client_id)
    if app is None:
        raise AuthorizeRefused("client_id_failed", "Your client_id is wrong. Try another one")
    if app.is_v2:
        raise AuthorizeRefused(
            "unauthorized_client",
            "This client_id is an OAuth 2.0 app: use GET /oauth2/authorize instead",
        )
    if redirect_uri is not None and redirect_uri not in app.redirect_uris:
        raise AuthorizeRefused("redirect_failed", RedirectFailed.default_message)
    if redirect_uri is None and (app.redirect_uris or not code_challenge):
        raise AuthorizeRefused(
            "redirect_failed",
            "redirect_uri is required (it may be left out only with PKCE by an app that "
            "registered none)",
        )
    if response_type != "code":
        raise AuthorizeRefused("wrong_parameter", 'response_type must be "code"')
    method = None if not code_challenge else code_challenge_method or "S256"
    return Authorization(app, redirect_uri, state, code_challenge or None, method)


async def issue_code(store: Store, authorization: Authorization, *, user_id: int) -> str:
    """A single-use code for an approved request, valid ten minutes."""
    code = random_code()

    async def work(tx: WriteTx) -> None:
        await tx.codes.add_auth_code(
            code_hash=hash_of(code),
            app_id=authorization.app.id,
            user_id=user_id,
            auth_version=authorization.app.auth_version,
            scope=authorization.scope,
            redirect_uri=authorization.redirect_uri,
            challenge=authorization.challenge,
            challenge_method=authorization.challenge_method,
            now=tx.now_ms,
            expires_at=tx.now_ms + CODE_LIFETIME_MS,
        )

    await store.transaction(work)
    return code


async def exchange(store: Store, keys: Keys, request: TokenRequest) -> str:
    """`POST /oauth/token`: the access token for a valid code."""
    app = await _token_app(store, request)
    if not request.grant_type or not request.code:
        raise MissingField(f'Missed "{"grant_type" if not request.grant_type else "code"}"')
    if not request.client_secret and not request.code_verifier:
        raise MissingField('Missed "client_secret" or "code_verifier"')
    if request.grant_type != "authorization_code":
        raise WrongParameter('grant_type must be "authorization_code"')
    code = await store.transaction(
        lambda tx: tx.codes.consume_auth_code(hash_of(request.code or ""))
    )
    _check_secret(app, code, request)
    if code is None or code.app_id != app.id or code.auth_version != 1:
        raise GrantError
    if code.expires_at <= store.clock.now_ms():
        raise GrantError("The code has expired")
    _check_redirect(app, code, request)
    user_id = code.user_id
    return await store.transaction(
        lambda tx: grants.v1_token(tx, keys, app_id=app.id, user_id=user_id)
    )


async def _token_app(store: Store, request: TokenRequest) -> App:
    """No client_id anywhere (body, HTTP Basic, query, header) is 412, as on every request."""
    app = None if not request.client_id else await store.read.accounts.find_app(request.client_id)
    if app is None:
        raise ClientIdFailed
    if app.is_v2:
        raise UnauthorizedClient(
            "This client_id is an OAuth 2.0 app: use POST /oauth2/token instead of /oauth/token"
        )
    return app


def _check_secret(app: App, code: AuthCode | None, request: TokenRequest) -> None:
    """The confidential client's secret, and PKCE wherever the code carries a challenge."""
    if request.client_secret and not secret_matches(request.client_secret, app.secret_hash):
        raise SecretError("Wrong Secret")
    if code is None:
        return
    if code.challenge is None:
        if request.code_verifier and not request.client_secret:
            raise SecretError("PKCE verification failed")
        return
    verifier = request.code_verifier or ""
    method = code.challenge_method or "S256"
    if not pkce_matches(verifier, challenge=code.challenge, method=method):
        raise SecretError("PKCE verification failed")


def _check_redirect(app: App, code: AuthCode, request: TokenRequest) -> None:
    """Confidential clients repeat the redirect_uri; PKCE clients only if they sent one."""
    sent = request.redirect_uri
    if code.redirect_uri is not None:
        if sent != code.redirect_uri:
            raise RedirectFailed
    elif sent is not None and sent not in app.redirect_uris:
        raise RedirectFailed
