"""Golden checkers of the sign-in operations (AUTH V1 and V2).

Each official example's request is sent as printed, against an app registered with the
example's own `client_id` (and secret), and a code or refresh token stored under the example's
own value where the example names one. What cannot be printed is normalised, each place saying
why:

- generated values (a `user_code`, a `device_code`, an access token) are compared by form;
- `verification_uri` is this server's own `/pin` page, not simkl.com's;
- the V1 token answer also carries `expires_in` (the docs' prose and spec §7 #27);
- the shared `unauthorized_client` example names `/oauth/pin`'s replacement; the authorize and
  token endpoints name their own, so only `message` differs there;
- the refresh example's request and answer print different refresh tokens, but refresh tokens
  do not rotate (the docs): the answer carries the one sent;
- the revoke example sends no client credentials; every revocation is client-authenticated
  (RFC 7009 §2.1), so the checker adds the example app's `client_id`.
"""

from __future__ import annotations

import re
from typing import Any

from simkl_server.domain import auth, oauth, pin
from simkl_server.domain.models import App, AppKind
from simkl_server.domain.tokens import WRITE_SCOPE, token_hash
from simkl_server.storage.base import WriteTx
from tests.contract.goldens.base import Context, Example, Golden, without_message
from tests.helpers import assert_json_response, assert_oauth2_error, assert_simkl_error

DEVICE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"
FORBIDDEN = "this server refuses token and PIN requests with a named 403 (empty_field or "
FORBIDDEN += "redirect_failed), never a bare `forbidden`"


def _register(
    context: Context, client_id: str, *, secret: str | None, kind: AppKind, version: int
) -> App:
    """An app registered under an example's own client_id (and secret)."""

    async def work(tx: WriteTx) -> App:
        return await tx.accounts.create_app(
            name="Golden client",
            client_id=client_id,
            secret_hash=None if secret is None else token_hash(secret),
            redirect_uris=("https://yourdomain.com/oauth.html",),
            kind=kind,
            auth_version=version,
            owner_id=None,
            created_at=tx.now_ms,
        )

    app: App = context.api.call(context.api.store.transaction, work)
    return app


def _v2_app(context: Context) -> App:
    return _register(context, "YOUR_CLIENT_ID", secret=None, kind=AppKind.PUBLIC, version=2)


def _user(context: Context) -> int:
    found = context.api.call(context.api.store.read.accounts.find_user, "alice")
    assert found is not None
    return found


def _form(context: Context, path: str, data: dict[str, str]) -> Any:
    return context.api.post(path, token=None, client_id=None, data=data)


# --- AUTH V1 -------------------------------------------------------------------------------


def pin_answers(context: Context, example: Example) -> None:
    """A new PIN: the example's keys and fixed values; the code random, the page ours."""
    body = assert_json_response(context.api.get("/oauth/pin", token=None))
    assert re.fullmatch(r"[A-Z2-9]{5}", body["user_code"])
    uri = "http://testserver/pin"
    normalised = {"user_code": body["user_code"], "verification_uri": uri, "verification_url": uri}
    example.check(body, {**example.response, **normalised})


def pin_poll_answers(context: Context, example: Example) -> None:
    """`pending` as printed; `complete` once the user approved (the token by form)."""
    api = context.api
    code = api.get("/oauth/pin", token=None).json()["user_code"]
    if example.name == "pending":
        example.check(api.get(f"/oauth/pin/{code}", token=None).json())
        return
    context.api.call(
        pin.decide,
        api.store,
        typed=code,
        user_id=_user(context),
        allowed=True,
    )
    body = api.get(f"/oauth/pin/{code}", token=None).json()
    assert re.fullmatch(r"[0-9a-f]{64}", body["access_token"])
    example.check(body, {**example.response, "access_token": body["access_token"]})


def v2_client_on_v1(context: Context, example: Example) -> None:
    """400 unauthorized_client: an AUTH V2 client_id on an AUTH V1 endpoint."""
    app = _v2_app(context)
    operation = example.operation.id
    api = context.api
    if operation == "get-oauth-pin":
        response = api.get("/oauth/pin", token=None, client_id=app.client_id)
        example.check(assert_simkl_error(response, 400, "unauthorized_client"))
        return
    if operation == "get-oauth-pin-user-code":
        response = api.get("/oauth/pin/ABCDE", token=None, client_id=app.client_id)
    elif operation == "post-oauth-token":
        response = api.post("/oauth/token", token=None, client_id=app.client_id, json={})
    else:
        params = {"response_type": "code", "client_id": app.client_id}
        response = api.client.get("/oauth/authorize", params=params)
    body = assert_simkl_error(response, 400, "unauthorized_client")
    example.check(without_message(body), without_message(example.response))


def token_answers(context: Context, example: Example) -> None:
    """The example's exchange, with its own app, secret, code and redirect URI."""
    request = example.request
    app = _register(
        context,
        request["client_id"],
        secret=request["client_secret"],
        kind=AppKind.SERVER,
        version=1,
    )
    api = context.api
    user_id = _user(context)

    async def store_code(tx: WriteTx) -> None:
        await tx.codes.add_auth_code(
            code_hash=token_hash(request["code"]),
            app_id=app.id,
            user_id=user_id,
            auth_version=1,
            scope="public",
            redirect_uri=request["redirect_uri"],
            challenge=None,
            challenge_method=None,
            now=tx.now_ms,
            expires_at=tx.now_ms + oauth.CODE_LIFETIME_MS,
        )

    api.call(api.store.transaction, store_code)
    body = assert_json_response(api.post("/oauth/token", token=None, client_id=None, json=request))
    expected = {**example.response, "access_token": body["access_token"], "expires_in": 157680000}
    example.check(body, expected)


def token_grant_error(context: Context, example: Example) -> None:
    """401 grant_error: a code that does not exist (the secret is right)."""
    created = context.api.call(auth.create_app, context.api.store, name="golden")
    request = {
        "grant_type": "authorization_code",
        "code": "no-such-code",
        "client_secret": created.client_secret,
        "client_id": created.app.client_id,
    }
    response = context.api.post("/oauth/token", token=None, client_id=None, json=request)
    body = assert_simkl_error(response, 401, "grant_error")
    example.check(body, {**example.response, "code": 401})


def authorize_answers(context: Context, example: Example) -> None:
    """The consent page has no JSON answer to compare: only its 400 example exists."""
    raise AssertionError(f"{example.label}: get-oauth-authorize documents no answer example")


# --- AUTH V2 -------------------------------------------------------------------------------


def v2_authorize_unknown_client(context: Context, example: Example) -> None:
    """400 invalid_client for an unknown client_id, rendered, never redirected."""
    params = {"client_id": "nope", "redirect_uri": "https://yourdomain.com/oauth.html"}
    response = context.api.client.get("/oauth2/authorize", params=params, follow_redirects=False)
    assert "location" not in response.headers
    example.check(assert_oauth2_error(response, 400, "invalid_client"))


def device_answers(context: Context, example: Example) -> None:
    """The example's request (form) from its own app: the fixed values as printed."""
    _v2_app(context)
    response = _form(context, "/oauth2/device", example.request)
    body = assert_json_response(response)
    assert re.fullmatch(r"[0-9A-Z]{4}-[0-9A-Z]{4}", body["user_code"])
    uri = "http://testserver/pin"
    normalised = {
        "device_code": body["device_code"],
        "user_code": body["user_code"],
        "verification_uri": uri,
        "verification_uri_complete": f"{uri}?user_code={body['user_code']}",
    }
    example.check(body, {**example.response, **normalised})


def v1_client_on_v2(context: Context, example: Example) -> None:
    """401 invalid_client: an AUTH V1 app's client_id, as printed; a failed secret too."""
    api = context.api
    if example.operation.id == "post-oauth2-device":
        response = _form(context, "/oauth2/device", {"client_id": api.client_id})
        example.check(assert_oauth2_error(response, 401, "invalid_client"))
        return
    app = _register(context, "SERVER_CLIENT", secret="right", kind=AppKind.SERVER, version=2)
    data = {"grant_type": "refresh_token", "client_id": app.client_id, "client_secret": "wrong",
            "refresh_token": "x", "token": "x"}  # fmt: skip
    path = "/oauth2/token" if example.operation.id == "post-oauth2-token" else "/oauth2/revoke"
    example.check(assert_oauth2_error(_form(context, path, data), 401, "invalid_client"))


def _refresh_grant(context: Context, refresh: str) -> App:
    app = _v2_app(context)
    user_id = _user(context)

    async def work(tx: WriteTx) -> None:
        await tx.grants.create_v2(
            app_id=app.id,
            user_id=user_id,
            scope=WRITE_SCOPE,
            refresh_hash=token_hash(refresh),
            refresh_expires_at=tx.now_ms + 180 * 86_400_000,
            now=tx.now_ms,
        )

    context.api.call(context.api.store.transaction, work)
    return app


def v2_token_answers(context: Context, example: Example) -> None:
    """The example's refresh, with its own app and refresh token: the same refresh token back,
    the access token by form."""
    _refresh_grant(context, example.request["refresh_token"])
    response = context.api.post("/oauth2/token", token=None, client_id=None, json=example.request)
    body = assert_json_response(response)
    assert re.fullmatch(r"simkl_at_[A-Za-z0-9]{34}", body["access_token"])
    # Refresh tokens do not rotate: the one sent comes back (the example prints two values).
    same = {"access_token": body["access_token"], "refresh_token": example.request["refresh_token"]}
    example.check(body, {**example.response, **same})


def v2_token_invalid_grant(context: Context, example: Example) -> None:
    """400 invalid_grant: a code that does not exist."""
    app = _v2_app(context)
    data = {
        "grant_type": "authorization_code",
        "client_id": app.client_id,
        "code": "gone",
        "code_verifier": "v" * 43,
        "redirect_uri": "https://yourdomain.com/oauth.html",
    }
    example.check(assert_oauth2_error(_form(context, "/oauth2/token", data), 400, "invalid_grant"))


def revoke_answers(context: Context, example: Example) -> None:
    """The example's revocation (plus the app's client_id): 200, empty, and the grant gone."""
    app = _refresh_grant(context, example.request["token"])
    response = _form(context, "/oauth2/revoke", {**example.request, "client_id": app.client_id})
    assert (response.status_code, response.content) == (200, b"")
    again = {"grant_type": "refresh_token", "client_id": app.client_id,
             "refresh_token": example.request["token"]}  # fmt: skip
    refused = assert_oauth2_error(_form(context, "/oauth2/token", again), 400, "invalid_grant")
    example.check(refused["error"], "invalid_grant")


GOLDENS = {
    "get-oauth-authorize": Golden(authorize_answers, {"400": v2_client_on_v1}),
    "get-oauth-pin": Golden(pin_answers, {"400": v2_client_on_v1, "403": FORBIDDEN}),
    "get-oauth-pin-user-code": Golden(pin_poll_answers, {"400": v2_client_on_v1}),
    "post-oauth-token": Golden(
        token_answers, {"400": v2_client_on_v1, "401": token_grant_error, "403": FORBIDDEN}
    ),
    "get-oauth2-authorize": Golden(authorize_answers, {"400": v2_authorize_unknown_client}),
    "post-oauth2-device": Golden(device_answers, {"401": v1_client_on_v2}),
    "post-oauth2-token": Golden(
        v2_token_answers, {"400": v2_token_invalid_grant, "401": v1_client_on_v2}
    ),
    "post-oauth2-revoke": Golden(revoke_answers, {"401": v1_client_on_v2}),
}
