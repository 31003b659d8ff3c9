"""Shared vocabulary of the ratings API tests: catalog ids and short request helpers."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from simkl_server.clock import FrozenClock
from simkl_server.config import Settings
from simkl_server.storage.base import Store, open_store
from tests.catalog.support import import_documents
from tests.conftest import START_MS, Api

# Items of tests/fixtures/catalog.jsonl by simkl id.
TERMINATOR_3 = 53536  # movie, imdb tt0181852, tmdb 296
MALEFICENT = 195258
TRUMAN_SHOW = 210728  # letterboxd the-truman-show, traktslug the-truman-show-1998
DUNE_2 = 752138  # netflix 81669396
AVATAR_FIRE_AND_ASH = 900001  # upcoming movie
GOT_MOVIE = 900014  # a movie titled "Game of Thrones" (2010)
WALKING_DEAD = 2090
GAME_OF_THRONES = 17465
LAST_SHIP = 42040
SARAH_CONNOR = 900020  # show, tmdb 296 (same number as Terminator 3's movie id)
BANDERSNATCH = 900021  # single-episode show
SEVERANCE = 900022  # airing show
ATTACK_ON_TITAN = 39687
DEMON_SLAYER = 831411
HUNTER_X_HUNTER = 40398
SPIRITED_AWAY = 39011  # anime film
DEATH_NOTE = 39188

ALL_RATINGS = "1,2,3,4,5,6,7,8,9,10"  # a rating filter that keeps every rated row
EMPTY_REMOVE = {"deleted": {"movies": 0, "shows": 0}, "not_found": {"movies": [], "shows": []}}


def by_simkl(simkl: int, **fields: Any) -> dict[str, Any]:
    """A request item identified by its simkl id, with extra fields."""
    return {"ids": {"simkl": simkl}, **fields}


def with_rating(body: dict[str, Any], rating: int) -> dict[str, Any]:
    """The same request items, each with a rating."""
    return {
        wrapper: [{**item, "rating": rating} for item in items] for wrapper, items in body.items()
    }


def warm_credentials(api: Api) -> None:
    """Make one request, so that statements counted afterwards do not include the token's
    first lookup (later requests find it in the process's cache)."""
    assert api.get("/sync/activities").status_code == 200


def rate(api: Api, body: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
    """POST /sync/ratings, asserting 201; the response body."""
    response = api.post("/sync/ratings", json=body, **kwargs)
    assert response.status_code == 201, response.text
    answer: dict[str, Any] = response.json()
    return answer


def unrate(api: Api, body: dict[str, Any]) -> dict[str, Any]:
    """POST /sync/ratings/remove, asserting 201; the response body."""
    response = api.post("/sync/ratings/remove", json=body)
    assert response.status_code == 201, response.text
    answer: dict[str, Any] = response.json()
    return answer


def read(api: Api, path: str = "/sync/ratings", **kwargs: Any) -> dict[str, Any]:
    """GET a ratings read, asserting 200; the response body."""
    response = api.get(path, **kwargs)
    assert response.status_code == 200, response.text
    answer: dict[str, Any] = response.json()
    return answer


def activities(api: Api) -> dict[str, Any]:
    """GET /sync/activities, asserting 200; the response body."""
    response = api.get("/sync/activities")
    assert response.status_code == 200, response.text
    answer: dict[str, Any] = response.json()
    return answer


def ratings_by_id(api: Api, path: str = "/sync/ratings") -> dict[int, int | None]:
    """Each library row of a ratings read as simkl id -> user_rating."""
    found: dict[int, int | None] = {}
    for rows in read(api, path).values():
        for row in rows:
            media = row.get("movie") or row["show"]
            found[media["ids"]["simkl"]] = row["user_rating"]
    return found


def rows_by_id(answer: dict[str, Any]) -> dict[int, dict[str, Any]]:
    """Every row of a ratings read by simkl id."""
    return {
        (row.get("movie") or row["show"])["ids"]["simkl"]: row
        for rows in answer.values()
        for row in rows
    }


UserState = tuple[dict[str, Any], dict[str, Any]]


def user_state(api: Api) -> UserState:
    """Everything a ratings request can change: the whole library and the activities."""
    return read(api), activities(api)


def elsewhere(api: Api, database_url: str, change: Callable[[Store], Awaitable[object]]) -> None:
    """Run `change` through a store of its own, as another process would."""

    async def run() -> None:
        other = await open_store(Settings(database_url=database_url), FrozenClock(START_MS))
        try:
            await change(other)
        finally:
            await other.close()

    api.call(run)


def import_catalog(api: Api, *documents: dict[str, Any]) -> None:
    """Import interchange documents into the app's catalog, every one of them accepted."""
    assert not api.call(import_documents, api.store, *documents).problems
