"""Sign up, sign in, sign out over HTTP: cookies, CSRF, rate limits, fixation, closed sign-up."""

from __future__ import annotations

import pytest

from simkl_server.domain import limits
from tests.conftest import Api, serve_api
from tests.web.support import PASSWORD, csrf, sign_in, sign_up, submit


def test_sign_up_signs_in_with_a_safe_cookie(api: Api) -> None:
    done = sign_up(api)
    cookie = done.headers["set-cookie"]
    assert "simkl_session=" in cookie
    assert "HttpOnly" in cookie
    assert "SameSite=lax" in cookie
    home = api.client.get("/")
    assert home.status_code == 200
    assert "Sign out carol" in home.text
    for header in ("content-security-policy", "x-frame-options", "referrer-policy"):
        assert header in home.headers
    assert home.headers["x-frame-options"] == "DENY"


def test_pages_need_a_signed_in_user(api: Api) -> None:
    for path in ("/", "/apps", "/connected", "/pin?user_code=ABCD-EFGH"):
        response = api.client.get(path, follow_redirects=False)
        assert response.status_code == 303, path
        assert response.headers["location"].startswith("/signin?next=%2F"), path


def test_a_wrong_password_is_refused_and_attempts_are_limited(api: Api) -> None:
    sign_up(api)
    api.client.cookies.clear()
    assert sign_in(api, password="nope-nope-nope").status_code == 401
    for _ in range(limits.SIGN_INS_PER_ACCOUNT.attempts - 1):
        assert sign_in(api, password="nope-nope-nope").status_code == 401
    blocked = sign_in(api)  # the right password, but the account's attempts are used up
    assert blocked.status_code == 429
    api.clock.advance(limits.SIGN_INS_PER_ACCOUNT.window_ms)
    assert sign_in(api).status_code == 303


def test_sign_in_attempts_are_limited_per_address(api: Api) -> None:
    for n in range(limits.SIGN_INS_PER_ADDRESS.attempts):
        assert sign_in(api, username=f"nobody{n}").status_code == 401
    assert sign_in(api, username="someone-else").status_code == 429


def test_signing_in_always_starts_a_new_session(api: Api) -> None:
    sign_up(api)
    first = api.client.cookies["simkl_session"]
    api.client.cookies.clear()
    api.client.cookies.set("simkl_session", "planted-by-an-attacker", domain="testserver.local")
    assert sign_in(api).status_code == 303
    second = api.client.cookies["simkl_session"]
    assert second not in (first, "planted-by-an-attacker")


def test_sign_out_ends_the_session(api: Api) -> None:
    sign_up(api)
    cookie = api.client.cookies["simkl_session"]
    home = api.client.get("/")
    done = api.client.post("/signout", data={"csrf_token": csrf(home.text)}, follow_redirects=False)
    assert done.status_code == 303
    api.client.cookies.set("simkl_session", cookie, domain="testserver.local")
    assert api.client.get("/", follow_redirects=False).status_code == 303  # the old cookie is dead


@pytest.mark.parametrize("target", ["//evil.example/x", "https://evil.example/", "/\\evil.example"])
def test_sign_in_never_redirects_off_site(api: Api, target: str) -> None:
    sign_up(api)
    api.client.cookies.clear()
    done = sign_in(api, nxt=target)
    assert done.headers["location"] == "/"


def test_sign_up_refuses_bad_input_without_creating_anything(api: Api) -> None:
    cases = [
        {"username": "has space", "password": PASSWORD, "password2": PASSWORD},
        {"username": "short", "password": "short", "password2": "short"},
        {"username": "differ", "password": PASSWORD, "password2": PASSWORD + "x"},
        {"username": "alice", "password": PASSWORD, "password2": PASSWORD},  # taken
    ]
    for fields in cases:
        response = submit(api, "/signup", "/signup", fields)
        assert response.status_code == 400, fields
        assert 'role="alert"' in response.text
    assert "simkl_session" not in api.client.cookies


def test_sign_up_can_be_closed(catalog_database: str) -> None:
    with serve_api(catalog_database, allow_signup=False) as api:
        assert api.client.get("/signup").status_code == 403
        token = csrf(api.client.get("/signin").text)
        fields = {
            "csrf_token": token,
            "username": "eve",
            "password": PASSWORD,
            "password2": PASSWORD,
        }
        assert api.client.post("/signup", data=fields).status_code == 403
        assert api.call(api.store.read.accounts.find_user, "eve") is None
