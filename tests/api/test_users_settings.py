"""GET and POST /users/settings over HTTP: the token's user and account."""

from __future__ import annotations

import pytest

from tests.conftest import Api


@pytest.mark.parametrize("method", ["GET", "POST"])
def test_settings_describe_the_tokens_user(api: Api, method: str) -> None:
    api.clock.advance(86_400_000 + 250)
    bob = api.new_user("bob")
    bob_id = api.call(api.store.read.accounts.find_user, "bob")

    response = api.request(method, "/users/settings", token=bob)

    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"user", "account", "connections"}
    assert body["connections"] == {"facebook": False}  # spec §7: no social account here
    assert body["user"]["name"] == "bob"
    assert body["user"]["joined_at"] == "2026-05-29T20:26:40.250Z"
    assert {"gender", "avatar", "bio", "loc", "age"} <= set(body["user"])
    assert body["account"]["id"] == bob_id
    assert (body["account"]["timezone"], body["account"]["type"]) == ("UTC", "free")


def test_get_and_post_answer_the_same(api: Api) -> None:
    got = api.get("/users/settings")
    posted = api.post("/users/settings", json={})

    assert (got.status_code, posted.status_code) == (200, 200)
    assert got.json() == posted.json()
    assert got.json()["user"]["name"] == "alice"
