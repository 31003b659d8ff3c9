"""POST /sync/watched over HTTP: ways to name items, episode questions, counters, bad input,
and a lookup of any size in the same few statements."""

from __future__ import annotations

from typing import Any

from tests.api.library_support import (
    INCEPTION,
    LAST_OF_US,
    TERMINATOR_3,
    WALKING_DEAD,
    history,
    ids,
    post,
)
from tests.api.support import warm_credentials
from tests.conftest import Api
from tests.helpers import StatementLog, assert_simkl_error

SARAH_CONNOR = 900020  # a show whose tmdb id (296) is also Terminator 3's movie tmdb id


def watched(api: Api, body: Any, **params: str) -> list[dict[str, Any]]:
    """POST /sync/watched, asserting 200."""
    answer: list[dict[str, Any]] = post(api, "/sync/watched", body, status=200, params=params)
    return answer


def test_items_are_named_by_nested_or_flat_ids_or_title_and_year(api: Api) -> None:
    history(api, {"movies": [ids(INCEPTION, watched_at="2020-01-01T10:00:00Z")]})

    answers = watched(
        api,
        [
            {"simkl": INCEPTION},
            {"imdb": "tt1375666", "type": "movie"},
            {"title": "Inception", "year": 2010},
            {"netflix": 0},
        ],
    )

    assert answers[0] == {
        "simkl": INCEPTION,
        "result": True,
        "list": "completed",
        "last_watched_at": "2020-01-01T10:00:00Z",
    }
    assert [a["result"] for a in answers] == [True, True, True, "not_found"]


def test_type_says_which_tmdb_space_an_id_is_in(api: Api) -> None:
    answers = watched(api, [{"tmdb": 296, "type": "show"}, {"tmdb": 296}, {"ids": {"tmdb": 296}}])

    assert [a["simkl"] for a in answers] == [SARAH_CONNOR, TERMINATOR_3, TERMINATOR_3]


def test_an_episode_question_answers_for_that_episode(api: Api) -> None:
    history(api, {"shows": [ids(WALKING_DEAD, episodes=[{"number": 2}])]})

    answers = watched(
        api,
        [
            {"ids": {"simkl": WALKING_DEAD}, "season": 1, "episode": 2},
            {"ids": {"simkl": WALKING_DEAD}, "season": 1, "episode": 1},
            {"ids": {"simkl": WALKING_DEAD}},
        ],
    )

    assert [a["result"] for a in answers] == [True, False, True]
    assert {a["list"] for a in answers} == {"watching"}


def test_counters_of_an_airing_show_count_what_is_still_to_air(api: Api) -> None:
    history(api, {"shows": [ids(LAST_OF_US, episodes=[{"number": 1}])]})

    (answer,) = watched(api, [ids(LAST_OF_US)], extended="counters")

    assert {key: answer[key] for key in answer if key.startswith("episodes_")} == {
        "episodes_total": 16,
        "episodes_aired": 16,
        "episodes_to_be_aired": 0,
        "episodes_watched": 1,
    }
    assert [s["number"] for s in answer["seasons"]] == [1, 2]
    assert "episodes" not in answer["seasons"][0]


def test_episodes_list_each_episode_and_movies_carry_no_counters(api: Api) -> None:
    history(
        api, {"shows": [ids(WALKING_DEAD, episodes=[{"number": 2, "watched_at": "2021-01-01"}])]}
    )

    show, movie = watched(api, [ids(WALKING_DEAD), ids(INCEPTION)], extended="episodes,counters")

    first = show["seasons"][0]["episodes"][:2]
    assert first == [
        {"number": 1, "watched": False, "aired": True, "last_watched_at": None},
        {"number": 2, "watched": True, "aired": True, "last_watched_at": "2021-01-01T00:00:00Z"},
    ]
    assert "seasons" not in movie
    assert movie["result"] is False


def test_an_empty_array_answers_an_empty_array(api: Api) -> None:
    assert watched(api, []) == []
    assert post(api, "/sync/watched", None, status=200) == []


def test_a_body_that_is_no_array_of_objects_is_refused(api: Api) -> None:
    bodies: list[Any] = [{"movies": []}, [1], [{"season": "first", "ids": {"simkl": 2090}}]]
    for body in bodies:
        assert_simkl_error(api.post("/sync/watched", json=body), 400, "wrong_parameter")


def test_a_lookup_costs_the_same_statements_for_one_item_or_many(
    api: Api, statements: StatementLog
) -> None:
    warm_credentials(api)
    one = statements.count_during(lambda: watched(api, [ids(WALKING_DEAD)], extended="episodes"))
    many = statements.count_during(
        lambda: watched(
            api,
            [ids(WALKING_DEAD), ids(LAST_OF_US), ids(INCEPTION), {"title": "Nope", "year": 1}],
            extended="episodes",
        )
    )

    assert many == one


def test_a_type_that_is_no_word_is_ignored(api: Api) -> None:
    answers = watched(api, [{"ids": {"simkl": INCEPTION}, "type": {"kind": "movie"}}])

    assert answers[0]["simkl"] == INCEPTION
