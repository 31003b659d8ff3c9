"""The consent pages over HTTP: both flows end to end, denial, no open redirect, CSRF."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest

from simkl_server.domain.models import AppKind, NewApp
from tests.api.oauth_support import CALLBACK, RFC_CHALLENGE, RFC_VERIFIER, new_app, official
from tests.conftest import Api
from tests.web.support import csrf, sign_up

LOOPBACK = "http://127.0.0.1/callback"
HTML = {"Accept": "text/html"}


def authorize(api: Api, path: str, params: dict[str, str], **kwargs: Any) -> Any:
    return api.client.get(f"{path}?{urlencode(params)}", follow_redirects=False, **kwargs)


def v1_params(app: NewApp, **extra: str) -> dict[str, str]:
    return {"response_type": "code", "client_id": app.app.client_id, "redirect_uri": CALLBACK,
            "state": "s-1", **extra}  # fmt: skip


def v2_params(app: NewApp, **extra: str) -> dict[str, str]:
    return {"response_type": "code", "client_id": app.app.client_id,
            "redirect_uri": "http://127.0.0.1:8910/callback", "state": "s-2",
            "code_challenge": RFC_CHALLENGE, "code_challenge_method": "S256",
            "scope": "media:read media:write", **extra}  # fmt: skip


def decide(api: Api, path: str, params: dict[str, str], decision: str) -> Any:
    page = authorize(api, path, params)
    assert page.status_code == 200, page.text[:500]
    fields = {**params, "csrf_token": csrf(page.text), "decision": decision}
    return api.client.post(path, data=fields, follow_redirects=False)


def query_of(location: str) -> dict[str, str]:
    return {key: values[0] for key, values in parse_qs(urlsplit(location).query).items()}


def test_v1_consent_asks_a_signed_out_user_to_sign_in_first(api: Api) -> None:
    app = new_app(api)
    first = authorize(api, "/oauth/authorize", v1_params(app))
    assert first.status_code == 303
    assert first.headers["location"].startswith("/signin?next=%2Foauth%2Fauthorize%3F")


def test_v1_code_flow_end_to_end(api: Api) -> None:
    app = new_app(api)
    sign_up(api)
    page = authorize(api, "/oauth/authorize", v1_params(app))
    assert "client app" in page.text
    assert "Allow" in page.text
    allowed = decide(api, "/oauth/authorize", v1_params(app), "allow")
    assert allowed.status_code == 302
    location = allowed.headers["location"]
    assert location.startswith(CALLBACK + "?")
    answer = query_of(location)
    assert answer["state"] == "s-1"
    exchange = {
        "code": answer["code"],
        "client_id": app.app.client_id,
        "client_secret": app.client_secret,
        "redirect_uri": CALLBACK,
        "grant_type": "authorization_code",
    }
    token = api.post("/oauth/token", token=None, client_id=None, json=exchange).json()
    settings = api.get("/users/settings", token=token["access_token"], client_id=app.app.client_id)
    assert settings.json()["user"]["name"] == "carol"


def test_v1_pkce_without_a_registered_uri_shows_the_code(api: Api) -> None:
    app = new_app(api, kind=AppKind.PUBLIC, redirect_uris=())
    sign_up(api)
    params = {"response_type": "code", "client_id": app.app.client_id,
              "code_challenge": RFC_CHALLENGE}  # fmt: skip
    shown = decide(api, "/oauth/authorize", params, "allow")
    assert shown.status_code == 200
    code = shown.text.split('id="code">')[1].split("<")[0]
    exchange = {"code": code, "client_id": app.app.client_id, "code_verifier": RFC_VERIFIER,
                "grant_type": "authorization_code"}  # fmt: skip
    assert api.post("/oauth/token", token=None, client_id=None, json=exchange).status_code == 200


def test_v1_denial_goes_home_as_simkl_does(api: Api) -> None:
    app = new_app(api)
    sign_up(api)
    denied = decide(api, "/oauth/authorize", v1_params(app), "deny")
    assert (denied.status_code, denied.headers["location"]) == (303, "/")


def test_v2_code_flow_redirects_with_code_state_and_iss(api: Api) -> None:
    app = new_app(api, kind=AppKind.PUBLIC, v2=True, redirect_uris=(LOOPBACK,))
    sign_up(api)
    page = authorize(api, "/oauth2/authorize", v2_params(app))
    assert "read and update your ratings" in page.text
    allowed = decide(api, "/oauth2/authorize", v2_params(app), "allow")
    answer = query_of(allowed.headers["location"])
    assert allowed.headers["location"].startswith("http://127.0.0.1:8910/callback?")
    assert (answer["state"], answer["iss"]) == ("s-2", "http://testserver")
    data = {"grant_type": "authorization_code", "client_id": app.app.client_id,
            "code": answer["code"], "code_verifier": RFC_VERIFIER,
            "redirect_uri": "http://127.0.0.1:8910/callback"}  # fmt: skip
    tokens = api.post("/oauth2/token", token=None, client_id=None, data=data).json()
    assert tokens["scope"] == "media:read media:write"


def test_v2_denial_and_a_missing_challenge_go_back_with_an_error(api: Api) -> None:
    app = new_app(api, kind=AppKind.PUBLIC, v2=True, redirect_uris=(LOOPBACK,))
    sign_up(api)
    denied = decide(api, "/oauth2/authorize", v2_params(app), "deny")
    assert query_of(denied.headers["location"]) == {
        "error": "access_denied", "state": "s-2", "iss": "http://testserver"
    }  # fmt: skip
    for change in ({"code_challenge": ""}, {"code_challenge_method": "plain"}):
        refused = authorize(api, "/oauth2/authorize", v2_params(app, **change))
        assert refused.status_code == 302
        assert query_of(refused.headers["location"])["error"] == "invalid_request"


@pytest.mark.parametrize(("path", "version"), [("/oauth/authorize", 1), ("/oauth2/authorize", 2)])
@pytest.mark.parametrize("accept", [{}, HTML])
def test_an_unregistered_redirect_uri_is_never_redirected_to(
    api: Api, path: str, version: int, accept: dict[str, str]
) -> None:
    """Whatever else is wrong too (no PKCE, wrong response_type, signed out), no Location."""
    app = new_app(api, kind=AppKind.PUBLIC, v2=version == 2, redirect_uris=(LOOPBACK,))
    params = {"client_id": app.app.client_id, "redirect_uri": "https://evil.example/cb",
              "response_type": "token", "state": "x"}  # fmt: skip
    for attempt in range(2):
        response = authorize(api, path, params, headers=accept)
        assert response.status_code == 400
        assert "location" not in response.headers
        if accept:
            assert "cannot be completed" in response.text
        else:
            body = response.json()
            assert body["error"] == ("redirect_failed" if version == 1 else "invalid_request")
        if attempt == 0:
            sign_up(api)


def test_unknown_clients_get_the_documented_json_errors(api: Api) -> None:
    v2 = authorize(api, "/oauth2/authorize", {"client_id": "nope", "redirect_uri": LOOPBACK})
    assert v2.json() == official("get-oauth2-authorize")["responses"]["400"]["example"]
    assert "location" not in v2.headers
    app = new_app(api, kind=AppKind.PUBLIC, v2=True, redirect_uris=(LOOPBACK,))
    v1 = authorize(api, "/oauth/authorize", v1_params(app))
    body = v1.json()
    assert (body["error"], body["code"]) == ("unauthorized_client", 400)
    assert body.keys() == official("get-oauth-authorize")["responses"]["400"]["example"].keys()


@pytest.mark.parametrize("path", ["/oauth/authorize", "/oauth2/authorize"])
def test_a_consent_post_without_csrf_is_refused(api: Api, path: str) -> None:
    app = new_app(
        api, kind=AppKind.PUBLIC, v2=path.startswith("/oauth2"), redirect_uris=(LOOPBACK, CALLBACK)
    )
    sign_up(api)
    params = v2_params(app) if path.startswith("/oauth2") else v1_params(app)
    forged = api.client.post(path, data={**params, "decision": "allow"}, follow_redirects=False)
    assert forged.status_code == 403
    assert "location" not in forged.headers
