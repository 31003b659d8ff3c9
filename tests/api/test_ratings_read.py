"""GET /sync/ratings[/{type}[/{rating}]] over HTTP: filters, deltas, row shapes."""

from __future__ import annotations

import pytest

from tests.api.support import (
    ATTACK_ON_TITAN,
    GAME_OF_THRONES,
    HUNTER_X_HUNTER,
    LAST_SHIP,
    MALEFICENT,
    TERMINATOR_3,
    TRUMAN_SHOW,
    by_simkl,
    rate,
    read,
    rows_by_id,
    unrate,
)
from tests.conftest import Api
from tests.helpers import assert_simkl_error

RATED_AT = "2021-06-23T13:19:05.000Z"


@pytest.fixture
def library(api: Api) -> Api:
    """Alice's library: rated movies, shows and anime, and one movie whose rating was removed."""
    rate(
        api,
        {
            "movies": [
                by_simkl(TERMINATOR_3, rating=8, rated_at=RATED_AT),
                by_simkl(MALEFICENT, rating=6, rated_at=RATED_AT),
                by_simkl(TRUMAN_SHOW, rating=9),
            ],
            "shows": [
                by_simkl(GAME_OF_THRONES, rating=9, rated_at=RATED_AT),
                by_simkl(LAST_SHIP, rating=5, rated_at=RATED_AT),
            ],
            "anime": [
                by_simkl(ATTACK_ON_TITAN, rating=10, rated_at=RATED_AT),
                by_simkl(HUNTER_X_HUNTER, rating=8, rated_at=RATED_AT),
            ],
        },
    )
    unrate(api, {"movies": [by_simkl(TRUMAN_SHOW)]})
    return api


def ids_by_bucket(answer: dict[str, list[dict[str, object]]]) -> dict[str, set[int]]:
    """The simkl ids of a ratings read, per top-level bucket."""
    return {bucket: set(rows_by_id({bucket: rows})) for bucket, rows in answer.items()}


def test_rows_are_library_rows_as_spec_section_7_describes_them(library: Api) -> None:
    """Each row is the item's whole library entry, the all-items row (spec §7): a movie filed
    completed by its rating was watched when filed; a show filed watching with nothing watched
    is next to watch S01E01; episode counts on every row, 0 on movies."""
    rows = rows_by_id(read(library, "/sync/ratings/movies,shows,anime/5,6,10"))
    filed = "2026-05-28T20:26:40.000Z"  # the test clock when the library fixture rated them

    assert rows[MALEFICENT] == {
        "added_to_watchlist_at": filed,
        "last_watched_at": filed,
        "user_rated_at": RATED_AT,
        "user_rating": 6,
        "status": "completed",
        "watched_episodes_count": 0,
        "total_episodes_count": 0,
        "not_aired_episodes_count": 0,
        "movie": {
            "title": "Maleficent",
            "year": 2014,
            "ids": {"simkl": MALEFICENT, "imdb": "tt1587310", "tmdb": "102651"},
        },
    }
    assert rows[LAST_SHIP] == {
        "added_to_watchlist_at": filed,
        "last_watched_at": None,
        "user_rated_at": RATED_AT,
        "user_rating": 5,
        "status": "watching",
        "last_watched": None,
        "next_to_watch": "S01E01",
        "watched_episodes_count": 0,
        "total_episodes_count": 56,
        "not_aired_episodes_count": 0,
        "show": {
            "title": "The Last Ship",
            "year": 2014,
            "ids": {"simkl": LAST_SHIP, "imdb": "tt2402207", "tvdb": "269533"},
        },
    }
    anime = rows[ATTACK_ON_TITAN]
    assert (anime["anime_type"], anime["last_watched"], anime["next_to_watch"]) == (
        "tv",
        None,
        "S01E01",
    )
    assert anime["show"]["ids"] == {
        "simkl": ATTACK_ON_TITAN,
        "mal": "16498",
        "anidb": "9541",
        "tvdb": "267440",
        "imdb": "tt2560140",
    }


def test_rows_are_grouped_by_type_with_anime_under_show(library: Api) -> None:
    answer = read(library, "/sync/ratings")

    assert ids_by_bucket(answer) == {
        "movies": {TERMINATOR_3, MALEFICENT, TRUMAN_SHOW},
        "shows": {GAME_OF_THRONES, LAST_SHIP},
        "anime": {ATTACK_ON_TITAN, HUNTER_X_HUNTER},
    }
    assert all("movie" in row and "show" not in row for row in answer["movies"])
    assert all("show" in row and "movie" not in row for row in answer["shows"] + answer["anime"])


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("/sync/ratings/movies", {"movies": {TERMINATOR_3, MALEFICENT, TRUMAN_SHOW}}),
        ("/sync/ratings/shows", {"shows": {GAME_OF_THRONES, LAST_SHIP}}),
        ("/sync/ratings/anime", {"anime": {ATTACK_ON_TITAN, HUNTER_X_HUNTER}}),
        ("/sync/ratings/movies/8", {"movies": {TERMINATOR_3}}),
        ("/sync/ratings/anime/8,10", {"anime": {ATTACK_ON_TITAN, HUNTER_X_HUNTER}}),
        ("/sync/ratings/movies/9%2C8", {"movies": {TERMINATOR_3}}),
        ("/sync/ratings/movies/8/", {"movies": {TERMINATOR_3}}),
        ("/sync/ratings/shows/", {"shows": {GAME_OF_THRONES, LAST_SHIP}}),
        ("/sync/ratings/movies/8,11", {"movies": {TERMINATOR_3}}),
        ("/sync/ratings/movies/all", {"movies": {TERMINATOR_3, MALEFICENT, TRUMAN_SHOW}}),
        ("/sync/ratings/shows/1,2,3,4,5,6,7,8,9,10", {"shows": {GAME_OF_THRONES, LAST_SHIP}}),
        (
            "/sync/ratings/tv_shows/8",
            {"movies": {TERMINATOR_3}, "anime": {HUNTER_X_HUNTER}},
        ),
        (
            "/sync/ratings/tv_shows",
            {
                "movies": {TERMINATOR_3, MALEFICENT, TRUMAN_SHOW},
                "shows": {GAME_OF_THRONES, LAST_SHIP},
                "anime": {ATTACK_ON_TITAN, HUNTER_X_HUNTER},
            },
        ),
        ("/sync/ratings/movies/99", {}),
        ("/sync/ratings/movies/0,11,-1", {}),
        ("/sync/ratings/movies/1,2", {}),
    ],
)
def test_type_and_rating_filters(library: Api, path: str, expected: dict[str, set[int]]) -> None:
    assert ids_by_bucket(read(library, path)) == expected


def test_post_is_an_alias_of_get(library: Api) -> None:
    posted = library.post("/sync/ratings/anime/10")

    assert posted.status_code == 200
    assert posted.json() == read(library, "/sync/ratings/anime/10")
    assert ids_by_bucket(posted.json()) == {"anime": {ATTACK_ON_TITAN}}


@pytest.mark.parametrize("word", ["Remove", "REMOVE", "delete"])
def test_a_post_to_a_mistyped_remove_path_is_a_read_and_removes_nothing(
    library: Api, word: str
) -> None:
    """The docs' fallbacks: POST is an alias of the read, and a word that is no type reads
    every type; `/sync/ratings/remove` is the only remove (the 200, not 201, tells the
    difference to a client that checks)."""
    before = read(library, "/sync/ratings")

    mistyped = library.post(f"/sync/ratings/{word}", json={"movies": [{"ids": {"simkl": 1}}]})

    assert mistyped.status_code == 200
    assert mistyped.json() == before
    assert read(library, "/sync/ratings") == before


def test_without_a_rating_filter_unrated_library_rows_read_null(library: Api) -> None:
    row = rows_by_id(read(library, "/sync/ratings/movies"))[TRUMAN_SHOW]

    assert (row["user_rating"], row["user_rated_at"], row["status"]) == (None, None, "completed")


def test_an_empty_library_reads_as_an_empty_object(api: Api) -> None:
    for path in ("/sync/ratings", "/sync/ratings/movies", "/sync/ratings/anime/10"):
        response = api.get(path)
        assert (response.status_code, response.text) == (200, "{}")


def test_date_from_returns_rows_changed_strictly_after_it(api: Api) -> None:
    rate(api, {"movies": [by_simkl(TERMINATOR_3, rating=8)]})  # changed at 20:26:40.000
    api.clock.advance(1)
    rate(api, {"movies": [by_simkl(MALEFICENT, rating=8)]})  # changed at 20:26:40.001

    assert ids_by_bucket(read(api, "/sync/ratings/movies/8", params={"date_from": ""})) == {
        "movies": {TERMINATOR_3, MALEFICENT}
    }
    after_first = {"date_from": "2026-05-28T20:26:40.000Z"}
    assert ids_by_bucket(read(api, "/sync/ratings/movies/8", params=after_first)) == {
        "movies": {MALEFICENT}
    }
    assert read(api, "/sync/ratings", params={"date_from": "2026-05-28T20:26:40.001Z"}) == {}
    before_both = {"date_from": "2026-05-28T22:26:39.999+02:00"}
    assert ids_by_bucket(read(api, "/sync/ratings", params=before_both)) == {
        "movies": {TERMINATOR_3, MALEFICENT}
    }


def test_date_from_follows_when_the_rating_changed_not_rated_at(api: Api) -> None:
    rate(api, {"movies": [by_simkl(TERMINATOR_3, rating=8, rated_at="2001-01-01")]})

    answer = read(api, "/sync/ratings/movies", params={"date_from": "2026-05-28T20:26:39Z"})

    assert rows_by_id(answer)[TERMINATOR_3]["user_rated_at"] == "2001-01-01T00:00:00.000Z"


def test_a_removed_rating_reads_null_in_a_delta_without_a_rating_filter(api: Api) -> None:
    rate(
        api,
        {"movies": [by_simkl(TERMINATOR_3, rating=8)], "shows": [by_simkl(LAST_SHIP, rating=5)]},
    )
    api.clock.advance(10_000)
    unrate(api, {"movies": [by_simkl(TERMINATOR_3)]})
    delta = {"date_from": "2026-05-28T20:26:45Z"}

    answer = read(api, "/sync/ratings/movies", params=delta)

    assert ids_by_bucket(answer) == {"movies": {TERMINATOR_3}}
    assert answer["movies"][0]["user_rating"] is None
    assert ids_by_bucket(read(api, "/sync/ratings", params=delta)) == {"movies": {TERMINATOR_3}}
    assert read(api, "/sync/ratings/movies/1,2,3,4,5,6,7,8,9,10", params=delta) == {}


@pytest.mark.parametrize(
    "date_from",
    ["yesterday", "2026-13-01", "1717171717", "2026-05-28T25:00:00Z", "2026-05-28T20:00:00Z\x00x"],
)
def test_an_unparsable_date_from_is_a_wrong_parameter(api: Api, date_from: str) -> None:
    for path in ("/sync/ratings", "/sync/ratings/movies", "/sync/ratings/movies/8"):
        assert_simkl_error(api.get(path, params={"date_from": date_from}), 400, "wrong_parameter")
