"""The /pin page, Developer apps, Connected apps and My ratings over HTTP, and CSRF on every
form of the site."""

from __future__ import annotations

import re

import pytest

from simkl_server.domain import auth, limits
from tests.api.oauth_support import new_app
from tests.api.support import MALEFICENT, TERMINATOR_3, WALKING_DEAD, rate
from tests.conftest import Api
from tests.web.support import csrf, sign_up, submit

DEVICE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"


def start_pin(api: Api, client_id: str, **params: str) -> str:
    body = api.get("/oauth/pin", token=None, client_id=client_id, params=params).json()
    return str(body["user_code"])


def test_a_pin_is_approved_on_the_pin_page(api: Api) -> None:
    app = new_app(api)
    sign_up(api)
    user_code = start_pin(api, app.app.client_id)
    asked = submit(api, "/pin", "/pin", {"user_code": f" {user_code.lower()} "})
    assert asked.status_code == 200
    assert "client app" in asked.text
    done = api.client.post(
        "/pin/decide",
        data={"csrf_token": csrf(asked.text), "user_code": user_code, "decision": "allow"},
    )
    assert "is connected" in done.text
    polled = api.get(f"/oauth/pin/{user_code}", token=None, client_id=app.app.client_id).json()
    token = polled["access_token"]
    settings = api.get("/users/settings", token=token, client_id=app.app.client_id).json()
    assert settings["user"]["name"] == "carol"


def test_a_device_code_link_prefills_the_code_and_a_registered_redirect_is_followed(
    api: Api,
) -> None:
    app = new_app(api, redirect_uris=("https://client.example/welcome",))
    sign_up(api)
    user_code = start_pin(api, app.app.client_id, redirect="https://client.example/welcome")
    page = api.client.get(f"/pin?user_code={user_code}")
    assert f'value="{user_code}"' in page.text
    asked = api.client.post("/pin", data={"csrf_token": csrf(page.text), "user_code": user_code})
    done = api.client.post(
        "/pin/decide",
        data={"csrf_token": csrf(asked.text), "user_code": user_code, "decision": "allow"},
        follow_redirects=False,
    )
    assert (done.status_code, done.headers["location"]) == (303, "https://client.example/welcome")


def test_guessing_codes_on_the_pin_page_is_limited(api: Api) -> None:
    sign_up(api)
    for _ in range(limits.CODE_GUESSES_PER_ADDRESS.attempts):
        assert submit(api, "/pin", "/pin", {"user_code": "ZZZZZ"}).status_code == 404
    assert submit(api, "/pin", "/pin", {"user_code": "ZZZZZ"}).status_code == 429


def test_developer_apps_are_registered_listed_and_deleted(api: Api) -> None:
    sign_up(api)
    created = submit(
        api,
        "/apps",
        "/apps",
        {
            "name": "My server",
            "kind": "server",
            "auth": "v1",
            "redirect_uris": "https://me.example/cb\r\nmyapp://auth",
        },
    )
    assert created.status_code == 201
    client_id = re.search(r'id="client-id">([0-9a-f]{64})<', created.text)
    secret = re.search(r'id="client-secret">([0-9a-f]{64})<', created.text)
    assert client_id
    assert secret
    listing = api.client.get("/apps").text
    assert client_id.group(1) in listing
    assert secret.group(1) not in listing  # shown once, kept as a hash
    public = submit(api, "/apps", "/apps", {"name": "Phone", "kind": "public", "auth": "v2"})
    assert 'id="client-secret"' not in public.text
    bad = submit(api, "/apps", "/apps", {"name": "X", "kind": "public", "auth": "v2",
                                         "redirect_uris": "javascript:alert(1)"})  # fmt: skip
    assert bad.status_code == 400
    deleted = submit(api, "/apps", f"/apps/{client_id.group(1)}/delete", {})
    assert deleted.status_code == 303
    assert client_id.group(1) not in api.client.get("/apps").text


def test_one_user_cannot_delete_another_users_app(api: Api) -> None:
    sign_up(api, "owner")
    mine = submit(api, "/apps", "/apps", {"name": "Mine", "kind": "device", "auth": "v2"})
    found = re.search(r'id="client-id">([0-9a-f]{64})<', mine.text)
    assert found is not None
    api.client.cookies.clear()
    sign_up(api, "intruder")
    refused = submit(api, "/apps", f"/apps/{found.group(1)}/delete", {})
    assert refused.status_code == 404
    assert api.call(api.store.read.accounts.find_app, found.group(1)) is not None


def test_connected_apps_lists_grants_and_revoking_one_kills_its_token(api: Api) -> None:
    app = new_app(api)
    sign_up(api)
    user_code = start_pin(api, app.app.client_id)
    asked = submit(api, "/pin", "/pin", {"user_code": user_code})
    api.client.post(
        "/pin/decide",
        data={"csrf_token": csrf(asked.text), "user_code": user_code, "decision": "allow"},
    )
    token = api.get(f"/oauth/pin/{user_code}", token=None, client_id=app.app.client_id).json()[
        "access_token"
    ]
    page = api.client.get("/connected")
    assert "client app" in page.text
    assert "AUTH V1" in page.text
    grant = re.search(r'action="/connected/(\d+)/revoke"', page.text)
    assert grant is not None
    done = api.client.post(
        f"/connected/{grant.group(1)}/revoke", data={"csrf_token": csrf(page.text)}
    )
    assert 'id="no-grants"' in done.text
    refused = api.get("/sync/activities", token=token, client_id=app.app.client_id)
    assert refused.status_code == 401


def test_a_user_cannot_revoke_another_users_grant(api: Api) -> None:
    sign_up(api)
    page = api.client.get("/connected")
    # alice's grant (the fixture's token) is not carol's to revoke
    for grant_id in range(1, 5):
        response = api.client.post(
            f"/connected/{grant_id}/revoke", data={"csrf_token": csrf(page.text)}
        )
        assert response.status_code == 404
    assert api.get("/sync/activities").status_code == 200


def test_my_ratings_filters_sorts_charts_and_removes(api: Api) -> None:
    sign_up(api)
    carol = api.call(api.store.read.accounts.find_user, "carol")
    assert carol is not None
    token = api.new_user("dave")  # another user's ratings never show on carol's page
    rate(api, {"movies": [{"ids": {"simkl": MALEFICENT}, "rating": 3}]}, token=token)
    carol_token = api.call(
        auth.issue_token,
        api.store,
        api.keys,
        username="carol",
        client_id=api.client_id,
    )
    rate(
        api,
        {
            "movies": [{"ids": {"simkl": TERMINATOR_3}, "rating": 8}],
            "shows": [{"ids": {"simkl": WALKING_DEAD}, "rating": 9}],
        },
        token=carol_token,
    )
    page = api.client.get("/")
    assert 'id="count">2 of 2' in page.text
    assert "Maleficent" not in page.text
    movies = api.client.get("/?type=movie&sort=title")
    assert 'id="count">1 of 2' in movies.text
    nines = api.client.get("/?rating=9")
    assert "Walking Dead" in nines.text
    assert "Terminator" not in nines.text
    assert page.text.count("<rect") == 10
    removed = api.client.post(
        "/ratings/remove",
        data={"csrf_token": csrf(page.text), "simkl": str(TERMINATOR_3), "type": "movie"},
        follow_redirects=False,
    )
    assert removed.status_code == 303
    left = api.get("/sync/ratings/movies/8", token=carol_token).json()
    assert left == {}
    activities = api.get("/sync/activities", token=carol_token).json()
    assert activities["movies"]["rated_at"] is not None


FORMS = [
    ("/signin", {"username": "alice", "password": "x" * 10}),
    ("/signup", {"username": "mallory", "password": "x" * 10, "password2": "x" * 10}),
    ("/signout", {}),
    ("/apps", {"name": "forged", "kind": "server", "auth": "v1"}),
    ("/apps/some-client/delete", {}),
    ("/pin", {"user_code": "ABCDE"}),
    ("/pin/decide", {"user_code": "ABCDE", "decision": "allow"}),
    ("/connected/1/revoke", {}),
    ("/ratings/remove", {"simkl": str(TERMINATOR_3), "type": "movie"}),
]


@pytest.mark.parametrize(("action", "fields"), FORMS, ids=[f[0] for f in FORMS])
@pytest.mark.parametrize("token", [None, "forged", "other-browser"])
def test_every_form_refuses_a_missing_or_foreign_csrf_token(
    api: Api, action: str, fields: dict[str, str], token: str | None
) -> None:
    sign_up(api)
    before = api.client.get("/connected").text
    data = dict(fields)
    if token == "forged":
        data["csrf_token"] = "0" * 64
    elif token == "other-browser":
        data["csrf_token"] = api.keys.csrf_token("session:someone-else")
    response = api.client.post(action, data=data, follow_redirects=False)
    assert response.status_code == 403, (action, response.status_code)
    assert api.client.get("/connected").text == before
    assert api.client.get("/", follow_redirects=False).status_code == 200  # still signed in
