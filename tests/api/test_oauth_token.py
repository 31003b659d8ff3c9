"""`POST /oauth/token` (AUTH V1) over HTTP: both content types, both places for credentials,
PKCE, every documented error in the order spec §7 fixes, and single-use codes.

Goldens: the official 200 example (this server adds `expires_in`, which the prose documents and
spec §7 #27 requires), the 401 `grant_error` and 400 `unauthorized_client` examples, and the
2020 capture. The 403 example (`forbidden`) is the shared refusal no token request produces.
"""

from __future__ import annotations

import base64
from typing import Any

import pytest

from simkl_server.domain.models import AppKind
from tests.api.oauth_support import (
    CALLBACK,
    RFC_CHALLENGE,
    RFC_VERIFIER,
    approve,
    capture,
    new_app,
    official,
    v1_code,
)
from tests.conftest import Api
from tests.helpers import assert_simkl_error

TOKEN = official("post-oauth-token")


def exchange(api: Api, body: dict[str, Any], **kwargs: Any) -> Any:
    """POST /oauth/token as a JSON body, without the query's client_id unless given."""
    return api.post(
        "/oauth/token", token=None, client_id=kwargs.pop("client_id", None), json=body, **kwargs
    )


def confidential(api: Api) -> tuple[Any, dict[str, Any]]:
    app = new_app(api)
    body = {
        "code": v1_code(api, app),
        "client_id": app.app.client_id,
        "client_secret": app.client_secret,
        "redirect_uri": CALLBACK,
        "grant_type": "authorization_code",
    }
    return app, body


def test_a_code_and_secret_give_the_documented_token(api: Api) -> None:
    app, body = confidential(api)
    response = exchange(api, body)
    assert response.status_code == 200, response.text
    answer = response.json()
    example = TOKEN["responses"]["200"]["example"]
    assert answer == {**example, "access_token": answer["access_token"], "expires_in": 157680000}
    assert capture("access_token").keys() <= answer.keys()
    token = answer["access_token"]
    assert api.get("/sync/activities", token=token, client_id=app.app.client_id).status_code == 200
    assert_simkl_error(api.get("/sync/activities", token=token), 401, "user_token_failed")


def test_form_body_and_http_basic_credentials_work_alike(api: Api) -> None:
    app, body = confidential(api)
    basic = base64.b64encode(f"{app.app.client_id}:{app.client_secret}".encode()).decode()
    form = {k: v for k, v in body.items() if k not in ("client_id", "client_secret")}
    response = api.post(
        "/oauth/token",
        token=None,
        client_id=None,
        data=form,
        headers={"Authorization": f"Basic {basic}"},
    )
    assert response.status_code == 200, response.text
    again = exchange(api, {**body, "code": v1_code(api, app)})
    assert again.json()["access_token"] == response.json()["access_token"]  # one per (app, user)


@pytest.mark.parametrize(
    ("verifier", "challenge", "method"),
    [
        (RFC_VERIFIER, RFC_CHALLENGE, "S256"),
        (RFC_VERIFIER, RFC_CHALLENGE, None),
        ("p" * 43, "p" * 43, "plain"),
    ],
    ids=["S256", "default-S256", "plain"],
)
def test_pkce_replaces_the_secret(
    api: Api, verifier: str, challenge: str, method: str | None
) -> None:
    app = new_app(api, kind=AppKind.PUBLIC)
    code = v1_code(api, app, challenge=challenge, method=method)
    body = {"code": code, "client_id": app.app.client_id, "code_verifier": verifier,
            "redirect_uri": CALLBACK, "grant_type": "authorization_code"}  # fmt: skip
    response = exchange(api, body)
    assert response.status_code == 200, response.text


def test_pkce_without_a_registered_redirect_needs_none(api: Api) -> None:
    app = new_app(api, kind=AppKind.PUBLIC, redirect_uris=())
    code = v1_code(api, app, redirect_uri=None, challenge=RFC_CHALLENGE)
    body = {"code": code, "client_id": app.app.client_id, "code_verifier": RFC_VERIFIER,
            "grant_type": "authorization_code"}  # fmt: skip
    assert exchange(api, body).status_code == 200


@pytest.mark.parametrize("method", ["S256", "s256", "plain"])
def test_a_pkce_mismatch_is_a_secret_error_and_uses_the_code_up(api: Api, method: str) -> None:
    app = new_app(api, kind=AppKind.PUBLIC)
    challenge = RFC_CHALLENGE if method != "plain" else "q" * 43
    code = v1_code(api, app, challenge=challenge, method=method)
    body = {"code": code, "client_id": app.app.client_id, "code_verifier": "x" * 43,
            "redirect_uri": CALLBACK, "grant_type": "authorization_code"}  # fmt: skip
    failed = assert_simkl_error(exchange(api, body), 401, "secret_error")
    assert failed["message"] == "PKCE verification failed"
    right = body | {"code_verifier": RFC_VERIFIER}
    # the code is gone, whatever the verifier (a lowercase s256 never verifies, as at Simkl)
    assert_simkl_error(exchange(api, right), 401, "grant_error")


def test_a_wrong_secret_is_a_secret_error_with_a_bearer_challenge(api: Api) -> None:
    _, body = confidential(api)
    response = exchange(api, {**body, "client_secret": "wrong"})
    assert_simkl_error(response, 401, "secret_error")
    assert response.headers["www-authenticate"] == (
        'Bearer realm="testserver", error="secret_error"'
    )
    assert_simkl_error(exchange(api, body), 401, "grant_error")  # that attempt used the code


def test_a_code_works_once(api: Api) -> None:
    _, body = confidential(api)
    assert exchange(api, body).status_code == 200
    reused = assert_simkl_error(exchange(api, body), 401, "grant_error")
    example = TOKEN["responses"]["401"]["example"]
    assert reused == {**example, "code": 401}


def test_an_expired_or_unknown_code_is_a_grant_error(api: Api) -> None:
    _, body = confidential(api)
    api.clock.advance(10 * 60_000 + 1)
    assert_simkl_error(exchange(api, body), 401, "grant_error")
    assert_simkl_error(exchange(api, {**body, "code": "nope"}), 401, "grant_error")


def test_a_code_of_another_app_is_a_grant_error(api: Api) -> None:
    _app, body = confidential(api)
    other = new_app(api, name="other")
    stolen = {**body, "client_id": other.app.client_id, "client_secret": other.client_secret}
    assert_simkl_error(exchange(api, stolen), 401, "grant_error")


@pytest.mark.parametrize("redirect", [None, CALLBACK + "/", "https://evil.example/cb"])
def test_the_redirect_uri_must_be_the_authorized_one(api: Api, redirect: str | None) -> None:
    _, body = confidential(api)
    body = (
        {**body, "redirect_uri": redirect}
        if redirect
        else {k: v for k, v in body.items() if k != "redirect_uri"}
    )
    assert_simkl_error(exchange(api, body), 403, "redirect_failed")


@pytest.mark.parametrize("missing", ["code", "grant_type", "client_secret"])
def test_a_missing_field_is_a_403_empty_field(api: Api, missing: str) -> None:
    _, body = confidential(api)
    response = exchange(api, {k: v for k, v in body.items() if k != missing})
    assert_simkl_error(response, 403, "empty_field")


def test_no_client_id_anywhere_is_412_as_on_every_request(api: Api) -> None:
    _, body = confidential(api)
    response = exchange(api, {k: v for k, v in body.items() if k != "client_id"})
    assert_simkl_error(response, 412, "client_id_failed")


def test_the_query_client_id_stands_in_for_the_body_one(api: Api) -> None:
    app, body = confidential(api)
    del body["client_id"]
    assert exchange(api, body, client_id=app.app.client_id).status_code == 200


def test_an_unknown_client_is_412_before_anything_else(api: Api) -> None:
    response = exchange(api, {"client_id": "no-such-app"})
    assert_simkl_error(response, 412, "client_id_failed")


def test_an_auth_v2_client_is_sent_to_oauth2(api: Api) -> None:
    app = new_app(api, kind=AppKind.PUBLIC, v2=True)
    response = exchange(api, {"client_id": app.app.client_id, "code": "x"})
    body = assert_simkl_error(response, 400, "unauthorized_client")
    assert body["message"].endswith("use POST /oauth2/token instead of /oauth/token")
    assert {**body, "message": ""} == {**TOKEN["responses"]["400"]["example"], "message": ""}


@pytest.mark.parametrize(
    "body",
    [b'{"code": ["a"], "client_id": "x"}', b'{"code": 5}', b"[1]", b"{broken", b"code=a&code=b"],
)
def test_a_body_that_is_not_plain_strings_is_400(api: Api, body: bytes) -> None:
    response = api.post("/oauth/token", token=None, content=body)
    assert_simkl_error(response, 400, "wrong_parameter")


def test_the_code_flow_and_the_pin_give_one_token(api: Api) -> None:
    app, body = confidential(api)
    by_code = exchange(api, body).json()["access_token"]
    started = api.get("/oauth/pin", token=None, client_id=app.app.client_id).json()
    approve(api, started["user_code"])
    polled = api.get(f"/oauth/pin/{started['user_code']}", token=None, client_id=app.app.client_id)
    assert polled.json()["access_token"] == by_code
