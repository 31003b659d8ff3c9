"""Detail records and episode lists over HTTP: the catalog's fields, `[]` for ids of no item
of that type, the documented errors, and `extended` changing nothing."""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import Api
from tests.helpers import assert_simkl_error
from tests.seed import answer


def get(api: Api, path: str, **params: str) -> Any:
    return answer(api.get(path, params=params, token=None), 200)


def test_a_movie_record_has_the_catalogs_fields(api: Api) -> None:
    assert get(api, "/movies/53434") == {
        "title": "The Godfather",
        "year": 1972,
        "type": "movie",
        "ids": {
            "simkl": 53434,
            "slug": "the-godfather",
            "imdb": "tt0068646",
            "tmdb": "238",
            "tvdb": "275",
        },
        "poster": "10/102447562f6b49ff3a",
        "runtime": 175,
    }
    assert get(api, "/movies/53434", extended="full") == get(api, "/movies/53434")


def test_show_and_anime_records_carry_status_and_episode_counts(api: Api) -> None:
    show = get(api, "/tv/2090")
    assert (show["type"], show["status"], show["total_episodes"]) == ("show", "ended", 177)
    anime = get(api, "/anime/831411")
    assert (anime["type"], anime["anime_type"], anime["total_episodes"]) == ("anime", "tv", 26)
    assert anime["ids"]["slug"] == "demon-slayer"  # made from the title when not stored


@pytest.mark.parametrize(
    "path",
    ["/movies/2090", "/tv/472214", "/anime/2090", "/tv/999999999", "/tv/abc", "/anime/-1"],
)
def test_ids_of_no_item_of_that_type_answer_an_empty_array(api: Api, path: str) -> None:
    assert get(api, path) == []


def test_a_movie_id_that_cannot_be_one_is_404_id_err(api: Api) -> None:
    for bad in ["abc", "0", "9" * 50]:
        assert_simkl_error(api.get(f"/movies/{bad}", token=None), 404, "id_err")


def test_episode_lists_in_order_with_specials_last(api: Api) -> None:
    episodes = get(api, "/tv/episodes/2090")
    assert [(e["season"], e["episode"]) for e in episodes[:3]] == [(1, 1), (1, 2), (1, 3)]
    assert episodes[1] == {
        "title": "Episode 2",
        "season": 1,
        "episode": 2,
        "type": "episode",
        "aired": False,
        "runtime": 44,
        "ids": {},
    }
    anime = get(api, "/anime/episodes/831411")
    assert anime[0] == {
        "title": "Episode 1",
        "episode": 1,
        "type": "episode",
        "aired": False,
        "ids": {},
        "tvdb": {"season": 1, "episode": 1},
    }
    assert get(api, "/tv/episodes/831411") == []  # an anime is not a show
    assert get(api, "/anime/episodes/472214") == []


def test_an_episode_list_without_an_id_is_400_empty_id(api: Api) -> None:
    for path in ["/tv/episodes/", "/anime/episodes/", "/tv/episodes"]:
        assert_simkl_error(api.get(path, token=None), 400, "empty_id")
