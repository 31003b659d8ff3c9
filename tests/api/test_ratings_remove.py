"""POST /sync/ratings/remove over HTTP: counting, echoes, what it clears, activities."""

from __future__ import annotations

from typing import Any

import pytest

from tests.api.support import (
    ATTACK_ON_TITAN,
    DEATH_NOTE,
    EMPTY_REMOVE,
    GAME_OF_THRONES,
    MALEFICENT,
    SPIRITED_AWAY,
    TERMINATOR_3,
    TRUMAN_SHOW,
    activities,
    by_simkl,
    rate,
    read,
    rows_by_id,
    unrate,
    user_state,
)
from tests.conftest import Api
from tests.helpers import assert_simkl_error


def test_deleted_counts_every_resolved_item_rated_or_not(api: Api) -> None:
    rate(api, {"movies": [by_simkl(TERMINATOR_3, rating=8)]})
    rate(api, {"shows": [by_simkl(GAME_OF_THRONES, rating=7)]})
    rate(api, {"movies": [by_simkl(MALEFICENT, rating=6)]})
    unrate(api, {"movies": [by_simkl(MALEFICENT)]})  # in the library, no longer rated

    answer = unrate(
        api,
        {
            "movies": [
                by_simkl(TERMINATOR_3),  # rated
                by_simkl(MALEFICENT),  # in the library, unrated
                by_simkl(TRUMAN_SHOW),  # not in the library at all
            ],
            "shows": [by_simkl(GAME_OF_THRONES), by_simkl(ATTACK_ON_TITAN)],
        },
    )

    assert answer == {
        "deleted": {"movies": 3, "shows": 2},
        "not_found": {"movies": [], "shows": []},
    }


def test_not_found_echoes_each_item_as_sent_with_its_type(api: Api) -> None:
    movie = {"title": "No Such Film", "year": "1901", "ids": {"imdb": "tt0000222"}, "x": [1]}
    show = {"ids": {"tvdb": 1, "slug": "nothing"}}
    anime = {"ids": {"mal": "999999"}, "title": "Nope"}

    answer = unrate(api, {"movies": [movie], "shows": [show], "anime": [anime]})

    assert answer == {
        "deleted": {"movies": 0, "shows": 0},
        "not_found": {
            "movies": [{**movie, "type": "movie"}],
            "shows": [{**show, "type": "show"}, {**anime, "type": "show"}],
        },
    }


@pytest.mark.parametrize("wrapper", ["shows", "anime"])
def test_anime_is_accepted_under_shows_or_anime_and_counted_as_shows(
    api: Api, wrapper: str
) -> None:
    rate(api, {"anime": [{"ids": {"mal": 16498}, "rating": 9}]})

    answer = unrate(api, {wrapper: [{"ids": {"mal": "16498"}}]})

    assert answer == {"deleted": {"movies": 0, "shows": 1}, "not_found": EMPTY_REMOVE["not_found"]}
    assert read(api, "/sync/ratings/anime/1,2,3,4,5,6,7,8,9,10") == {}


def test_clears_only_the_rating_status_and_membership_stay(api: Api) -> None:
    rate(api, {"movies": [by_simkl(TERMINATOR_3, rating=8)]})
    rate(api, {"shows": [by_simkl(GAME_OF_THRONES, rating=7)]})

    unrate(api, {"movies": [by_simkl(TERMINATOR_3)], "shows": [by_simkl(GAME_OF_THRONES)]})

    movie = rows_by_id(read(api, "/sync/ratings/movies"))[TERMINATOR_3]
    show = rows_by_id(read(api, "/sync/ratings/shows"))[GAME_OF_THRONES]
    assert (movie["status"], movie["user_rating"], movie["user_rated_at"]) == (
        "completed",
        None,
        None,
    )
    assert (show["status"], show["user_rating"], show["user_rated_at"]) == ("watching", None, None)
    assert read(api, "/sync/ratings/movies/8") == {}


def test_removing_an_item_outside_the_library_does_not_add_it(api: Api) -> None:
    unrate(api, {"movies": [by_simkl(TRUMAN_SHOW)]})

    assert read(api) == {}


def test_same_body_twice_gives_the_same_answer_and_state(api: Api) -> None:
    rate(
        api,
        {"movies": [by_simkl(TERMINATOR_3, rating=8)], "anime": [by_simkl(DEATH_NOTE, rating=9)]},
    )
    body = {
        "movies": [by_simkl(TERMINATOR_3), {"ids": {"imdb": "tt9999999"}}],
        "anime": [by_simkl(DEATH_NOTE)],
    }

    first = unrate(api, body)
    after_first = user_state(api)
    api.clock.advance(5_000)
    second = unrate(api, body)

    assert second == first
    assert user_state(api) == after_first


def test_rated_at_moves_only_when_a_rating_changed(api: Api) -> None:
    rate(api, {"movies": [by_simkl(TERMINATOR_3, rating=8)]})
    api.clock.advance(10_000)
    unrate(api, {"movies": [by_simkl(TERMINATOR_3)]})
    after_real_removal = activities(api)
    api.clock.advance(10_000)

    unrate(api, {"movies": [by_simkl(TERMINATOR_3), by_simkl(MALEFICENT)]})

    assert after_real_removal["movies"]["rated_at"] == "2026-05-28T20:26:50Z"
    assert after_real_removal["all"] == "2026-05-28T20:26:50Z"
    assert activities(api) == after_real_removal


def test_removal_moves_the_rated_at_of_the_items_real_domain(api: Api) -> None:
    rate(api, {"shows": [by_simkl(ATTACK_ON_TITAN, rating=9)]})
    before = activities(api)
    api.clock.advance(3_000)

    unrate(api, {"shows": [by_simkl(ATTACK_ON_TITAN)]})

    after = activities(api)
    assert after["anime"]["rated_at"] == after["anime"]["all"] == after["all"]
    assert after["anime"]["rated_at"] == "2026-05-28T20:26:43Z"
    assert after["tv_shows"] == before["tv_shows"]
    assert after["movies"] == before["movies"]


@pytest.mark.parametrize("body", [b"", b"{}", b'{"movies": [], "shows": [], "anime": []}'])
def test_empty_bodies_answer_zero_counts(api: Api, body: bytes) -> None:
    response = api.post("/sync/ratings/remove", content=body)

    assert response.status_code == 201
    assert response.json() == EMPTY_REMOVE


def test_unknown_top_level_keys_are_ignored(api: Api) -> None:
    rate(api, {"movies": [by_simkl(TERMINATOR_3, rating=8)]})

    answer = unrate(
        api,
        {
            "episodes": [{"ids": {"tvdb": 1}}],
            "seasons": {"odd": True},
            "movies": [by_simkl(TERMINATOR_3)],
        },
    )

    assert answer == {"deleted": {"movies": 1, "shows": 0}, "not_found": EMPTY_REMOVE["not_found"]}


@pytest.mark.parametrize(
    "bad",
    [
        {"movies": {"ids": {"simkl": TERMINATOR_3}}},
        {"shows": "all"},
        {"anime": 1},
        {"movies": [by_simkl(TERMINATOR_3), 5]},
        {"movies": [by_simkl(TERMINATOR_3)], "shows": [["ids"]]},
        {"movies": [by_simkl(TERMINATOR_3)], "anime": [None]},
    ],
)
def test_malformed_structure_is_refused_and_nothing_is_applied(
    api: Api, bad: dict[str, Any]
) -> None:
    rate(api, {"movies": [by_simkl(TERMINATOR_3, rating=8)]})
    before = user_state(api)
    api.clock.advance(60_000)

    response = api.post("/sync/ratings/remove", json=bad)

    assert_simkl_error(response, 400, "wrong_parameter")
    assert user_state(api) == before


def test_same_item_twice_is_counted_twice(api: Api) -> None:
    rate(api, {"movies": [by_simkl(TERMINATOR_3, rating=8)]})

    answer = unrate(
        api, {"movies": [by_simkl(TERMINATOR_3), {"ids": {"imdb": "tt0181852"}}, {"ids": {}}]}
    )

    assert answer == {
        "deleted": {"movies": 2, "shows": 0},
        "not_found": {"movies": [{"ids": {}, "type": "movie"}], "shows": []},
    }


def test_fields_other_than_ids_title_and_year_are_not_used(api: Api) -> None:
    rate(api, {"movies": [by_simkl(TERMINATOR_3, rating=8)]})

    answer = unrate(
        api, {"movies": [by_simkl(TERMINATOR_3, rating=3, rated_at="not a date", seasons=[1])]}
    )

    assert answer["deleted"] == {"movies": 1, "shows": 0}
    assert rows_by_id(read(api))[TERMINATOR_3]["user_rating"] is None


def test_an_anime_film_sent_as_a_movie_counts_as_a_movie_and_moves_anime_activity(
    api: Api,
) -> None:
    rate(api, {"anime": [by_simkl(SPIRITED_AWAY, rating=9)]})
    api.clock.advance(4_000)

    answer = unrate(api, {"movies": [{"ids": {"mal": 199}}]})

    assert answer["deleted"] == {"movies": 1, "shows": 0}
    after = activities(api)
    assert after["anime"]["rated_at"] == "2026-05-28T20:26:44Z"
    assert after["movies"]["rated_at"] is None


def test_a_trailing_slash_is_the_same_route(api: Api) -> None:
    rate(api, {"movies": [by_simkl(TERMINATOR_3, rating=8)]})

    response = api.post("/sync/ratings/remove/", json={"movies": [by_simkl(TERMINATOR_3)]})

    assert response.status_code == 201
    assert response.json()["deleted"] == {"movies": 1, "shows": 0}
