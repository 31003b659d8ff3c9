"""First end-to-end check of remove over HTTP."""

from __future__ import annotations

from tests.conftest import Api


def test_remove_after_add(api: Api) -> None:
    added = api.post("/sync/ratings", json={"movies": [{"ids": {"simkl": 53536}, "rating": 8}]})
    assert added.status_code == 201, added.text
    assert added.json()["added"]["movies"] == 1
    got = api.get("/sync/ratings/movies/8")
    assert got.json()["movies"][0]["user_rating"] == 8
    removed = api.post("/sync/ratings/remove", json={"movies": [{"ids": {"simkl": 53536}}]})
    assert removed.status_code == 201
    assert removed.json() == {
        "deleted": {"movies": 1, "shows": 0},
        "not_found": {"movies": [], "shows": []},
    }
    assert api.get("/sync/ratings/movies/8").json() == {}
    acts = api.get("/sync/activities").json()
    assert acts["movies"]["rated_at"] is not None
