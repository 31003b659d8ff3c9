"""GET /sync/all-items over HTTP: paths and the shape of empty answers, deltas, every
`extended` mode and flag, and the ratings read returning the very same rows."""

from __future__ import annotations

from typing import Any

import pytest

from simkl_server.storage.base import Store
from simkl_server.storage.dialect import statement
from tests.api.library_support import (
    AVATAR_FIRE_AND_ASH,
    DEMON_SLAYER,
    DUNE_2,
    GAME_OF_THRONES,
    INCEPTION,
    LAST_OF_US,
    SPIRITED_AWAY,
    WALKING_DEAD,
    get,
    history,
    ids,
    library,
    post,
    unhistory,
)
from tests.api.support import elsewhere, import_catalog
from tests.conftest import Api
from tests.helpers import assert_simkl_error


@pytest.fixture
def stocked(api: Api) -> Api:
    """A library: a completed movie, a planned one, a watching show, an anime on hold."""
    history(api, {"movies": [ids(INCEPTION), ids(AVATAR_FIRE_AND_ASH, status="plantowatch")]})
    history(api, {"shows": [ids(WALKING_DEAD, episodes=[{"number": 1}, {"number": 2}])]})
    history(api, {"anime": [ids(DEMON_SLAYER, status="hold")]})
    return api


def kinds(answer: dict[str, Any]) -> dict[str, set[int]]:
    """Simkl ids of an answer by top-level key."""
    return {
        key: {(row.get("movie") or row["show"])["ids"]["simkl"] for row in rows}
        for key, rows in answer.items()
    }


def test_a_new_user_reads_an_empty_object(api: Api) -> None:
    assert get(api, "/sync/all-items") == {}
    assert get(api, "/sync/all-items/shows") == {"shows": []}
    assert get(api, "/sync/all-items/anime/watching") == {"anime": []}
    assert get(api, "/sync/all-items/movies/watching") == {}
    assert get(api, "/sync/all-items/movies/hold") == {}


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        (
            "/sync/all-items",
            {
                "movies": {INCEPTION, AVATAR_FIRE_AND_ASH},
                "shows": {WALKING_DEAD},
                "anime": {DEMON_SLAYER},
            },
        ),
        ("/sync/all-items/movies", {"movies": {INCEPTION, AVATAR_FIRE_AND_ASH}}),
        ("/sync/all-items/movies/plantowatch", {"movies": {AVATAR_FIRE_AND_ASH}}),
        ("/sync/all-items/movies/all", {"movies": {INCEPTION, AVATAR_FIRE_AND_ASH}}),
        ("/sync/all-items/shows/watching/", {"shows": {WALKING_DEAD}}),
        ("/sync/all-items/anime/hold", {"anime": {DEMON_SLAYER}}),
        ("/sync/all-items/all/completed", {"movies": {INCEPTION}}),
        (
            "/sync/all-items/tv_shows",
            {"shows": {WALKING_DEAD}, "anime": {DEMON_SLAYER}}
            | {"movies": {INCEPTION, AVATAR_FIRE_AND_ASH}},
        ),
        ("/sync/all-items/anime/finished", {"anime": {DEMON_SLAYER}}),
    ],
)
def test_paths_select_kinds_and_lists_leniently(
    stocked: Api, path: str, expected: dict[str, set[int]]
) -> None:
    assert kinds(get(stocked, path)) == expected


def test_a_movie_row_and_a_show_row(stocked: Api) -> None:
    rows = library(stocked)

    assert rows[INCEPTION] == {
        "added_to_watchlist_at": "2026-05-28T20:26:40.000Z",
        "last_watched_at": "2026-05-28T20:26:40.000Z",
        "user_rated_at": None,
        "user_rating": None,
        "status": "completed",
        "watched_episodes_count": 0,
        "total_episodes_count": 0,
        "not_aired_episodes_count": 0,
        "movie": {
            "title": "Inception",
            "year": 2010,
            "ids": {"simkl": INCEPTION, "imdb": "tt1375666", "tmdb": "27205", "slug": "inception"},
        },
    }
    show = rows[WALKING_DEAD]
    assert {key: show[key] for key in ("last_watched", "next_to_watch", "status")} == {
        "last_watched": "S01E02",
        "next_to_watch": "S01E03",
        "status": "watching",
    }
    assert show["show"]["poster"] == "16/16913426086fc13"
    assert (show["watched_episodes_count"], show["total_episodes_count"]) == (2, 177)
    assert rows[DEMON_SLAYER]["anime_type"] == "tv"


def test_the_delta_returns_what_changed_strictly_after_and_never_removals(stocked: Api) -> None:
    stocked.clock.advance(1000)
    history(stocked, {"shows": [ids(WALKING_DEAD, episodes=[{"number": 3}])]})
    post(stocked, "/sync/ratings", {"movies": [ids(INCEPTION, rating=8)]})  # rating only
    unhistory(stocked, {"movies": [ids(AVATAR_FIRE_AND_ASH)]})

    assert kinds(get(stocked, "/sync/all-items", params={"date_from": "2026-05-28T20:26:40Z"})) == {
        "shows": {WALKING_DEAD}
    }
    assert get(stocked, "/sync/all-items", params={"date_from": "2026-05-28T20:26:41Z"}) == {}
    same_time = get(stocked, "/sync/all-items", params={"date_from": "2026-05-28T22:26:40+02:00"})
    assert kinds(same_time) == {"shows": {WALKING_DEAD}}
    ratings_delta = get(stocked, "/sync/ratings", params={"date_from": "2026-05-28T20:26:40Z"})
    assert kinds(ratings_delta) == {"movies": {INCEPTION}}


def test_an_unreadable_date_from_is_refused(api: Api) -> None:
    response = api.get("/sync/all-items", params={"date_from": "yesterday"})
    assert_simkl_error(response, 400, "wrong_parameter")


def test_ids_only_modes(stocked: Api) -> None:
    simkl = get(stocked, "/sync/all-items/anime", params={"extended": "simkl_ids_only"})
    full_ids = get(stocked, "/sync/all-items/anime", params={"extended": "ids_only"})

    assert simkl == {"anime": [{"show": {"ids": {"simkl": DEMON_SLAYER}}}]}
    assert full_ids["anime"][0]["show"]["ids"] == {
        "simkl": DEMON_SLAYER,
        "mal": "38000",
        "anidb": "14116",
        "anilist": "101922",
        "kitsu": "41370",
    }


def test_full_lists_episodes_of_open_lists_and_all_with_include_all_episodes(api: Api) -> None:
    history(api, {"shows": [ids(GAME_OF_THRONES)]})  # completed in one action
    history(
        api, {"shows": [ids(WALKING_DEAD, episodes=[{"number": 1, "watched_at": "2020-01-01"}])]}
    )

    plain = library(api, extended="full")
    original = library(api, extended="full", include_all_episodes="original")
    filled = library(api, extended="full", include_all_episodes="yes", episode_watched_at="yes")

    assert "seasons" not in plain[GAME_OF_THRONES]
    assert plain[WALKING_DEAD]["seasons"] == [{"number": 1, "episodes": [{"number": 1}]}]
    assert plain[WALKING_DEAD]["show"]["runtime"] == 43
    assert "seasons" not in original[GAME_OF_THRONES]  # no episode has a date of its own
    listed = [e for s in filled[GAME_OF_THRONES]["seasons"] for e in s["episodes"]]
    assert len(listed) == 73
    assert listed[0] == {"number": 1, "watched_at": "2026-05-28T20:26:40.000Z"}


def test_episode_details_and_anime_mapping(api: Api) -> None:
    history(api, {"shows": [ids(GAME_OF_THRONES, episodes=[{"number": 1}])]})
    history(api, {"shows": [ids(DEMON_SLAYER, episodes=[{"number": 2}])]})
    rows = library(
        api,
        extended="full_anime_seasons",
        episode_runtime="yes",
        episode_tvdb_id="yes",
    )

    assert rows[GAME_OF_THRONES]["seasons"][0]["episodes"] == [
        {"number": 1, "runtime": 61, "ids": {"tvdb_id": 3254641}}
    ]
    anime = rows[DEMON_SLAYER]
    assert anime["mapped_tvdb_seasons"] == [1]
    assert anime["seasons"][0]["episodes"] == [
        {
            "number": 2,
            "runtime": None,
            "ids": {"tvdb_id": None},
            "tvdb": {"season": 1, "episode": 2},
        }
    ]
    assert "mapped_tvdb_seasons" not in rows[GAME_OF_THRONES]


def test_next_watch_info_is_given_to_watching_items_with_a_next_episode(api: Api) -> None:
    history(api, {"shows": [ids(LAST_OF_US, episodes=[{"number": 1}])]})
    history(api, {"shows": [ids(GAME_OF_THRONES, status="dropped")]})
    rows = library(api, next_watch_info="yes")

    assert rows[LAST_OF_US]["next_to_watch_info"] == {
        "title": None,
        "season": 1,
        "episode": 2,
        "date": "2023-01-22T00:00:00Z",
    }
    assert "next_to_watch_info" not in rows[GAME_OF_THRONES]
    assert "next_to_watch_info" not in library(api)[LAST_OF_US]


def test_anime_films_only(api: Api) -> None:
    history(api, {"movies": [ids(SPIRITED_AWAY)], "anime": [ids(DEMON_SLAYER, status="hold")]})

    assert kinds(get(api, "/sync/all-items", params={"anime_type": "movies"})) == {
        "anime": {SPIRITED_AWAY}
    }


def test_request_only_ids_are_never_returned(api: Api) -> None:
    history(api, {"movies": [{"ids": {"netflix": "81669396"}}]})  # resolves Dune: Part Two

    movie = library(api)[DUNE_2]["movie"]
    assert movie["ids"] == {"simkl": DUNE_2, "imdb": "tt15239678", "tmdb": "693134"}


def test_the_ratings_read_gives_the_same_rows_and_honours_the_same_flags(api: Api) -> None:
    history(
        api, {"shows": [ids(WALKING_DEAD, rating=9, memo={"text": "m"}, episodes=[{"number": 1}])]}
    )

    params = {"extended": "full", "memos": "yes"}
    assert get(api, "/sync/ratings", params=params) == get(api, "/sync/all-items", params=params)
    assert get(api, "/sync/ratings/shows/9", params={"extended": "simkl_ids_only"}) == {
        "shows": [{"show": {"ids": {"simkl": WALKING_DEAD, "slug": "the-walking-dead"}}}]
    }


# ---- rows kept rendered --------------------------------------------------------------------


MOVIE = {"type": "movie", "title": "Kept Movie", "year": 2001, "ids": {"simkl": 1}}
SHOW = {"type": "show", "title": "Kept Show", "year": 2002, "ids": {"simkl": 2}}


def test_a_read_again_follows_every_change_of_its_rows_entries_and_items(
    own_catalog: Api,
) -> None:
    api = own_catalog
    import_catalog(api, MOVIE, {**SHOW, "status": "ended", "total_episodes": 3})
    post(api, "/sync/ratings", {"movies": [ids(1, rating=7)], "shows": [ids(2, rating=5)]})
    first = library(api)
    assert library(api) == first  # the same rows again: rendered once, kept
    assert (first[1]["user_rating"], first[1]["movie"]["title"]) == (7, "Kept Movie")

    post(api, "/sync/ratings", {"movies": [ids(1, rating=9)]})
    assert library(api)[1]["user_rating"] == 9

    import_catalog(api, {**MOVIE, "title": "Renamed Movie", "poster": "12/345"})
    renamed = library(api)[1]["movie"]
    assert (renamed["title"], renamed["poster"]) == ("Renamed Movie", "12/345")

    history(api, {"shows": [ids(2, episodes=[{"number": 1}])]})
    assert library(api)[2]["watched_episodes_count"] == 1
    full = library(api, extended="full")[2]
    assert full["show"]["runtime"] is None
    assert [s["number"] for s in full["seasons"]] == [1]

    other = api.new_user("other")
    post(api, "/sync/ratings", {"movies": [ids(1, rating=2)]}, token=other)
    assert library(api)[1]["user_rating"] == 9
    theirs = get(api, "/sync/all-items", token=other)
    assert [row["user_rating"] for row in theirs["movies"]] == [2]


def test_a_read_again_counts_an_episode_that_aired_meanwhile(own_catalog: Api) -> None:
    api = own_catalog
    airs_at = "2026-06-01T00:00:00Z"  # a few days after the tests' clock
    episodes = [{"number": 1, "aired": "2026-01-01T00:00:00Z"}, {"number": 2, "aired": airs_at}]
    import_catalog(api, {**SHOW, "status": "airing", "episodes": episodes})
    post(api, "/sync/ratings", {"shows": [ids(2, rating=5)]})
    assert library(api)[2]["not_aired_episodes_count"] == 1
    assert library(api)[2]["not_aired_episodes_count"] == 1
    api.clock.advance(10 * 86_400_000)
    assert library(api)[2]["not_aired_episodes_count"] == 0
    api.clock.advance(-10 * 86_400_000)  # a test's clock set back: the episode is to come again
    assert library(api)[2]["not_aired_episodes_count"] == 1


def test_a_read_again_shows_a_change_another_process_made(
    own_catalog: Api, empty_database: str
) -> None:
    api = own_catalog
    import_catalog(api, MOVIE)
    post(api, "/sync/ratings", {"movies": [ids(1, rating=7)]})
    for path in ("/sync/all-items", "/sync/ratings/movies"):
        assert library(api, path)[1]["user_rating"] == 7
    rerate = statement("UPDATE library SET user_rating = 4")  # as another process may

    async def change(other: Store) -> None:
        await other.transaction(lambda tx: tx.conn.execute(rerate, {}))

    elsewhere(api, empty_database, change)
    for path in ("/sync/all-items", "/sync/ratings/movies"):
        assert library(api, path)[1]["user_rating"] == 4


def _elsewhere_run(api: Api, database_url: str, sql: str) -> None:
    """Run a statement through a store of its own, as another process (or a hand) may."""

    async def change(other: Store) -> None:
        await other.transaction(lambda tx: tx.conn.execute(statement(sql), {}))

    elsewhere(api, database_url, change)


def test_a_read_again_shows_an_entry_another_process_deleted(
    own_catalog: Api, empty_database: str
) -> None:
    api = own_catalog
    import_catalog(api, MOVIE, SHOW)
    post(api, "/sync/ratings", {"movies": [ids(1, rating=7)], "shows": [ids(2, rating=5)]})
    for path in ("/sync/all-items", "/sync/ratings"):
        assert set(library(api, path)) == {1, 2}
        assert set(library(api, path)) == {1, 2}
    _elsewhere_run(api, empty_database, "DELETE FROM library WHERE item_id = 1")
    for path in ("/sync/all-items", "/sync/ratings"):
        assert set(library(api, path)) == {2}


def test_a_read_again_shows_episodes_another_process_changed(
    own_catalog: Api, empty_database: str
) -> None:
    api = own_catalog
    episodes = [{"number": 1, "aired": "2026-01-01T00:00:00Z"}, {"number": 2}]
    import_catalog(api, {**SHOW, "status": "airing", "episodes": episodes})
    post(api, "/sync/ratings", {"shows": [ids(2, rating=5)]})
    assert library(api)[2]["not_aired_episodes_count"] == 1
    assert library(api)[2]["not_aired_episodes_count"] == 1
    aired = "UPDATE catalog_episodes SET aired_at = 1767225600000 WHERE item_id = 2"
    _elsewhere_run(api, empty_database, aired)
    assert library(api)[2]["not_aired_episodes_count"] == 0
