"""One user's token never reads or changes another user's data, whatever the flow that made
it (a V1 token, a V2 token of a read-write grant)."""

from __future__ import annotations

from tests.api.oauth_support import tokens, v2_app
from tests.api.support import MALEFICENT, TERMINATOR_3, by_simkl, rate, ratings_by_id, unrate
from tests.conftest import Api


def test_a_users_token_reaches_only_that_users_library(api: Api) -> None:
    bob = api.new_user("bob")
    rate(api, {"movies": [by_simkl(TERMINATOR_3, rating=9)]}, token=bob)
    rate(api, {"movies": [by_simkl(MALEFICENT, rating=4)]})  # alice, the default token
    app = v2_app(api)
    alice_v2 = tokens(api, app, scope="media:read media:write")["access_token"]

    assert ratings_by_id(api) == {MALEFICENT: 4}
    alices = api.get("/sync/ratings", token=alice_v2, client_id=app.app.client_id).json()
    assert [row["movie"]["ids"]["simkl"] for row in alices["movies"]] == [MALEFICENT]
    unrate(api, {"movies": [by_simkl(TERMINATOR_3)]})  # alice clears "her" rating of it
    removed = api.post(
        "/sync/ratings/remove",
        token=alice_v2,
        client_id=app.app.client_id,
        json={"movies": [by_simkl(TERMINATOR_3)]},
    )
    assert removed.status_code == 201
    assert ratings_by_id(api, "/sync/ratings") == {MALEFICENT: 4}
    bobs = api.get("/sync/ratings", token=bob).json()
    assert [(r["movie"]["ids"]["simkl"], r["user_rating"]) for r in bobs["movies"]] == [
        (TERMINATOR_3, 9)
    ]
    assert (
        api.get("/users/settings", token=alice_v2, client_id=app.app.client_id).json()["user"][
            "name"
        ]
        == "alice"
    )
