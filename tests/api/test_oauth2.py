"""AUTH V2 over HTTP: discovery, the device flow, the token endpoint's three grants, client
authentication, revocation, scopes on the sync endpoints, and each documented error.

Goldens: the official examples of `post-oauth2-device`, `post-oauth2-token` and
`post-oauth2-revoke` (errors exactly; token and device bodies by shape, their values being
random), and `no-store` on every `/oauth2/*` answer.
"""

from __future__ import annotations

import base64
import re

import pytest

from simkl_server.domain.models import AppKind
from tests.api.oauth_support import (
    approve,
    code_exchange,
    official,
    pkce_pair,
    post,
    tokens,
    v2_app,
    v2_code,
)
from tests.conftest import Api
from tests.helpers import assert_oauth2_error, assert_simkl_error

DEVICE = official("post-oauth2-device")
TOKEN = official("post-oauth2-token")
DEVICE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"
DAY_MS = 86_400_000


def test_discovery_describes_auth_v2(api: Api) -> None:
    metadata = api.client.get("/.well-known/oauth-authorization-server").json()
    assert metadata["issuer"] == "http://testserver"
    assert metadata["token_endpoint"] == "http://testserver/oauth2/token"
    assert metadata["device_authorization_endpoint"] == "http://testserver/oauth2/device"
    assert metadata["code_challenge_methods_supported"] == ["S256"]
    assert DEVICE_GRANT in metadata["grant_types_supported"]
    assert api.client.get("/.well-known/openid-configuration").status_code == 404


def test_the_device_flow_end_to_end(api: Api) -> None:
    app = v2_app(api, AppKind.DEVICE)
    started = post(
        api, "/oauth2/device", {"client_id": app.app.client_id, "scope": "media:read media:write"}
    )
    body = started.json()
    example = DEVICE["responses"]["200"]["example"]
    assert body.keys() == example.keys()
    assert re.fullmatch(r"[0-9A-Z]{4}-[0-9A-Z]{4}", body["user_code"])
    assert body["verification_uri"] == "http://testserver/pin"
    assert (
        body["verification_uri_complete"] == f"http://testserver/pin?user_code={body['user_code']}"
    )
    assert (body["expires_in"], body["interval"]) == (900, 5)
    poll = {
        "grant_type": DEVICE_GRANT,
        "client_id": app.app.client_id,
        "device_code": body["device_code"],
    }
    assert_oauth2_error(post(api, "/oauth2/token", poll), 400, "authorization_pending")
    api.clock.advance(1_000)
    assert_oauth2_error(post(api, "/oauth2/token", poll), 400, "slow_down")
    typed = body["user_code"].replace("-", " ").lower().replace("0", "o").replace("1", "l")
    approve(api, typed)  # forgiving entry: case, separator and look-alikes
    api.clock.advance(5_000)
    granted = post(api, "/oauth2/token", poll)
    assert granted.status_code == 200, granted.text
    answer = granted.json()
    assert answer["scope"] == "media:read media:write"
    assert (
        api.get(
            "/sync/activities", token=answer["access_token"], client_id=app.app.client_id
        ).status_code
        == 200
    )
    api.clock.advance(5_000)
    assert_oauth2_error(post(api, "/oauth2/token", poll), 400, "expired_token")


def test_a_device_code_expires_and_a_declined_one_is_denied(api: Api) -> None:
    app = v2_app(api, AppKind.DEVICE)
    for declined in (False, True):
        body = post(api, "/oauth2/device", {"client_id": app.app.client_id}).json()
        poll = {
            "grant_type": DEVICE_GRANT,
            "client_id": app.app.client_id,
            "device_code": body["device_code"],
        }
        if declined:
            approve(api, body["user_code"], allowed=False)
            assert_oauth2_error(post(api, "/oauth2/token", poll), 400, "access_denied")
        else:
            api.clock.advance(900_001)
            assert_oauth2_error(post(api, "/oauth2/token", poll), 400, "expired_token")
    other = v2_app(api, AppKind.DEVICE)
    foreign = {"grant_type": DEVICE_GRANT, "client_id": other.app.client_id, "device_code": "x"}
    assert_oauth2_error(post(api, "/oauth2/token", foreign), 400, "expired_token")


def test_omitting_scope_gives_a_read_only_grant_that_cannot_write(api: Api) -> None:
    app = v2_app(api)
    answer = tokens(api, app, scope="MEDIA:WRITE")  # wrong case: silently read-only
    assert answer["scope"] == "media:read"
    read = api.get("/sync/ratings", token=answer["access_token"], client_id=app.app.client_id)
    assert read.status_code == 200
    write = api.post(
        "/sync/ratings",
        token=answer["access_token"],
        client_id=app.app.client_id,
        json={"movies": [{"ids": {"simkl": 53536}, "rating": 8}]},
    )
    assert_simkl_error(write, 403, "insufficient_scope")
    assert write.headers["www-authenticate"] == (
        'Bearer error="insufficient_scope", scope="media:read media:write"'
    )
    with_body = api.request(
        "GET",
        "/sync/ratings",
        token=answer["access_token"],
        client_id=app.app.client_id,
        content=b"{}",
    )
    assert_simkl_error(with_body, 403, "insufficient_scope")  # a GET with a body is a write


def test_a_write_scope_writes(api: Api) -> None:
    app = v2_app(api)
    answer = tokens(api, app, scope="media:read,media:write")  # the separator is forgiven
    assert answer["scope"] == "media:read media:write"
    rated = api.post(
        "/sync/ratings",
        token=answer["access_token"],
        client_id=app.app.client_id,
        json={"movies": [{"ids": {"simkl": 53536}, "rating": 8}]},
    )
    assert rated.status_code == 201


def test_the_token_answer_has_the_documented_shape(api: Api) -> None:
    answer = tokens(api, v2_app(api))
    example = TOKEN["responses"]["200"]["example"]
    assert answer.keys() == example.keys()
    assert (answer["token_type"], answer["expires_in"]) == ("Bearer", 604800)
    assert re.fullmatch(r"simkl_at_[A-Za-z0-9]{34}", answer["access_token"])
    assert re.fullmatch(r"simkl_rt_[A-Za-z0-9]{34}", answer["refresh_token"])


def test_a_code_is_consumed_by_a_failed_exchange(api: Api) -> None:
    app = v2_app(api)
    verifier, challenge = pkce_pair()
    code = v2_code(api, app, challenge)
    wrong = assert_oauth2_error(code_exchange(api, app, code, "w" * 43), 400, "invalid_grant")
    assert wrong["error_description"] == "PKCE verification failed"
    gone = assert_oauth2_error(code_exchange(api, app, code, verifier), 400, "invalid_grant")
    assert gone == TOKEN["responses"]["400"]["example"]


@pytest.mark.parametrize(
    ("change", "error"),
    [
        ({"redirect_uri": "http://127.0.0.1/callback"}, "invalid_grant"),  # not the one used
        ({"code_verifier": ""}, "invalid_request"),
        ({"code_verifier": "short"}, "invalid_grant"),
    ],
)
def test_each_bad_exchange_destroys_the_code(api: Api, change: dict[str, str], error: str) -> None:
    app = v2_app(api)
    verifier, challenge = pkce_pair()
    code = v2_code(api, app, challenge)
    assert_oauth2_error(code_exchange(api, app, code, verifier, **change), 400, error)
    assert_oauth2_error(code_exchange(api, app, code, verifier), 400, "invalid_grant")


def test_a_code_of_another_client_is_refused_and_destroyed(api: Api) -> None:
    app, thief = v2_app(api), v2_app(api)
    verifier, challenge = pkce_pair()
    code = v2_code(api, app, challenge)
    assert_oauth2_error(code_exchange(api, thief, code, verifier), 400, "invalid_grant")
    assert_oauth2_error(code_exchange(api, app, code, verifier), 400, "invalid_grant")


def test_client_authentication_comes_first_and_keeps_the_code(api: Api) -> None:
    app = v2_app(api, AppKind.SERVER)
    verifier, challenge = pkce_pair()
    code = v2_code(api, app, challenge)
    missing = assert_oauth2_error(code_exchange(api, app, code, verifier), 401, "invalid_client")
    assert missing == TOKEN["responses"]["401"]["example"]
    basic = base64.b64encode(f"{app.app.client_id}:wrong".encode()).decode()
    wrong = post(api, "/oauth2/token", {"grant_type": "authorization_code", "code": code},
                 headers={"Authorization": f"Basic {basic}"})  # fmt: skip
    assert_oauth2_error(wrong, 401, "invalid_client")
    assert wrong.headers["www-authenticate"] == 'Basic realm="oauth2"'
    good = base64.b64encode(f"{app.app.client_id}:{app.client_secret}".encode()).decode()
    data = {"grant_type": "authorization_code", "code": code, "code_verifier": verifier,
            "redirect_uri": "http://127.0.0.1:53682/callback"}  # fmt: skip
    done = post(api, "/oauth2/token", data, headers={"Authorization": f"Basic {good}"})
    assert done.status_code == 200, done.text  # the code survived the refused attempts


def test_a_public_app_must_not_send_a_secret(api: Api) -> None:
    app = v2_app(api)
    data = {"grant_type": "refresh_token", "client_id": app.app.client_id, "client_secret": ""}
    assert_oauth2_error(post(api, "/oauth2/token", data), 401, "invalid_client")


@pytest.mark.parametrize("path", ["/oauth2/device", "/oauth2/token", "/oauth2/revoke"])
def test_an_auth_v1_or_unknown_client_is_invalid_client(api: Api, path: str) -> None:
    refused = assert_oauth2_error(
        post(api, path, {"client_id": api.client_id, "grant_type": "refresh_token", "token": "x"}),
        401,
        "invalid_client",
    )
    assert refused == DEVICE["responses"]["401"]["example"]
    assert_oauth2_error(post(api, path, {"client_id": "nope"}), 401, "invalid_client")


@pytest.mark.parametrize(
    "body",
    [
        b'{"client_id": ["a"]}',
        b'{"client_id": {"a": 1}}',
        b'{"client_id": 5}',
        b"client_id=a&client_id=b",
    ],
)
def test_a_parameter_that_is_not_one_string_is_invalid_request(api: Api, body: bytes) -> None:
    kind = "application/json" if body.startswith(b"{") else "application/x-www-form-urlencoded"
    response = post(api, "/oauth2/device", content=body, headers={"Content-Type": kind})
    described = assert_oauth2_error(response, 400, "invalid_request")
    assert "client_id" in described["error_description"]


def test_grant_types_other_than_the_three_are_unsupported(api: Api) -> None:
    app = v2_app(api)
    data = {"grant_type": "client_credentials", "client_id": app.app.client_id}
    assert_oauth2_error(post(api, "/oauth2/token", data), 400, "unsupported_grant_type")


def test_a_refresh_kills_the_previous_access_token_and_slides_180_days(api: Api) -> None:
    app = v2_app(api)
    first = tokens(api, app, scope="media:read media:write")
    refresh = {"grant_type": "refresh_token", "client_id": app.app.client_id,
               "refresh_token": first["refresh_token"], "scope": "media:read"}  # fmt: skip
    for _ in range(2):
        api.clock.advance(179 * DAY_MS)
        renewed = post(api, "/oauth2/token", refresh).json()
        assert renewed["refresh_token"] == first["refresh_token"]  # non-rotating
        assert renewed["scope"] == "media:read media:write"  # a narrower one is ignored
    old = api.get("/sync/activities", token=first["access_token"], client_id=app.app.client_id)
    assert_simkl_error(old, 401, "invalid_token")
    assert (
        api.get(
            "/sync/activities", token=renewed["access_token"], client_id=app.app.client_id
        ).status_code
        == 200
    )
    api.clock.advance(181 * DAY_MS)
    assert_oauth2_error(post(api, "/oauth2/token", refresh), 400, "invalid_grant")


def test_a_refresh_cannot_widen_the_scope(api: Api) -> None:
    app = v2_app(api)
    first = tokens(api, app)
    wider = {
        "grant_type": "refresh_token",
        "client_id": app.app.client_id,
        "refresh_token": first["refresh_token"],
        "scope": "media:read media:write",
    }
    assert_oauth2_error(post(api, "/oauth2/token", wider), 400, "invalid_scope")


def test_an_access_token_lives_seven_days(api: Api) -> None:
    app = v2_app(api)
    access = tokens(api, app)["access_token"]
    api.clock.advance(7 * DAY_MS - 1)
    assert api.get("/sync/activities", token=access, client_id=app.app.client_id).status_code == 200
    api.clock.advance(1)
    expired = api.get("/sync/activities", token=access, client_id=app.app.client_id)
    body = assert_simkl_error(expired, 401, "invalid_token")
    assert body["message"] == "Access token has expired"
    assert expired.headers["www-authenticate"] == 'Bearer realm="testserver", error="invalid_token"'


def test_an_auth_v2_app_without_a_token_gets_user_token_required(api: Api) -> None:
    app = v2_app(api)
    missing = api.get("/sync/activities", token=None, client_id=app.app.client_id)
    assert_simkl_error(missing, 401, "user_token_required")
    other = api.get("/sync/activities", token=api.token, client_id=app.app.client_id)
    assert_simkl_error(other, 401, "invalid_token")  # a V1 token of another app


@pytest.mark.parametrize("which", ["access_token", "refresh_token"])
def test_revoking_either_token_ends_the_grant(api: Api, which: str) -> None:
    app = v2_app(api)
    pair = tokens(api, app)
    revoked = post(api, "/oauth2/revoke", {"client_id": app.app.client_id, "token": pair[which]})
    assert (revoked.status_code, revoked.content) == (200, b"")
    gone = api.get("/sync/activities", token=pair["access_token"], client_id=app.app.client_id)
    assert_simkl_error(gone, 401, "invalid_token")
    refresh = {"grant_type": "refresh_token", "client_id": app.app.client_id,
               "refresh_token": pair["refresh_token"]}  # fmt: skip
    assert_oauth2_error(post(api, "/oauth2/token", refresh), 400, "invalid_grant")


def test_revoke_always_answers_200_and_touches_only_the_callers_tokens(api: Api) -> None:
    app, other = v2_app(api), v2_app(api)
    pair = tokens(api, app)
    for token in ("never-issued", pair["access_token"]):
        done = post(api, "/oauth2/revoke", {"client_id": other.app.client_id, "token": token})
        assert done.status_code == 200
    alive = api.get("/sync/activities", token=pair["access_token"], client_id=app.app.client_id)
    assert alive.status_code == 200
    assert_oauth2_error(
        post(api, "/oauth2/revoke", {"client_id": app.app.client_id}), 400, "invalid_request"
    )


def test_each_authorization_is_an_independent_grant(api: Api) -> None:
    app = v2_app(api)
    one, two = tokens(api, app), tokens(api, app)
    assert one["access_token"] != two["access_token"]
    post(api, "/oauth2/revoke", {"client_id": app.app.client_id, "token": one["refresh_token"]})
    assert (
        api.get(
            "/sync/activities", token=two["access_token"], client_id=app.app.client_id
        ).status_code
        == 200
    )
