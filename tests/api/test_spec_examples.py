"""Golden tests from the behavioural spec (SIMKL-API.md §3.1-3.4): the example payloads of its
ratings and activities sections, sent through the real HTTP stack and compared with the
answers it documents. Where an example cannot be reproduced as printed, the test says why next
to the one part it normalises. (The official OpenAPI examples are tests/contract's goldens.)
"""

from __future__ import annotations

import copy
from typing import Any

from tests.api.support import ALL_RATINGS, with_rating
from tests.conftest import Api
from tests.seed import answer, seed_activity_user, seed_library_of_example


def post_json(api: Api, path: str, body: Any) -> Any:
    """POST a JSON body; assert 201 and a JSON answer; return the body."""
    return answer(api.post(path, json=body), 201)


def get_json(api: Api, path: str, **kwargs: Any) -> Any:
    """GET; assert 200 and a JSON answer; return the body."""
    return answer(api.get(path, **kwargs), 200)


# --- SIMKL-API.md §3.1-3.4 -----------------------------------------------------------------

# §3.1: the legacy remove body (ids as strings and numbers, `year` as a string).
SPEC_REMOVE_BODY: dict[str, Any] = {
    "movies": [
        {
            "title": "Terminator 3: Rise of the Machines",
            "year": "2003",
            "ids": {"imdb": "tt0181852", "tmdb": 296, "simkl": 53536},
        },
        {"ids": {"simkl": 210728}},
    ],
    "shows": [
        {
            "title": "Attack on Titan",
            "year": 2013,
            "ids": {
                "simkl": 39687,
                "mal": 16498,
                "tvdb": 267440,
                "imdb": "tt2560140",
                "anidb": 9541,
            },
        }
    ],
}
# §3.1: the reference answer.
SPEC_REMOVE_RESPONSE: dict[str, Any] = {
    "deleted": {"movies": 1, "shows": 0},
    "not_found": {"movies": [], "shows": []},
}


def test_spec_remove_body(api: Api) -> None:
    post_json(api, "/sync/ratings", with_rating(SPEC_REMOVE_BODY, 4))
    assert post_json(api, "/sync/ratings/remove", SPEC_REMOVE_BODY) == {
        "deleted": {"movies": 2, "shows": 1},
        "not_found": {"movies": [], "shows": []},
    }
    assert get_json(api, f"/sync/ratings/all/{ALL_RATINGS}") == {}


def test_spec_remove_response(api: Api) -> None:
    body = {"movies": [{"ids": {"simkl": 53536}}]}
    assert post_json(api, "/sync/ratings/remove", body) == SPEC_REMOVE_RESPONSE


# §3.2: the request body of the add-ratings page (anime by `mal` alone, with `rated_at`).
SPEC_ADD_BODY: dict[str, Any] = {
    "movies": [{"rating": 8, "ids": {"simkl": 53536}}],
    "shows": [{"rating": 9, "ids": {"tmdb": "1399"}}],
    "anime": [{"rating": 10, "ids": {"mal": "11757"}, "rated_at": "2026-05-15T20:00:00Z"}],
}


def test_spec_add_body(api: Api) -> None:
    assert post_json(api, "/sync/ratings", SPEC_ADD_BODY) == {
        "added": {
            "movies": 1,
            "shows": 2,
            "statuses": [
                {
                    "request": {"rating": 8, "ids": {"simkl": 53536}, "type": "movie"},
                    "response": {"status": "completed"},
                },
                {
                    "request": {"rating": 9, "ids": {"tmdb": "1399"}, "type": "show"},
                    "response": {"status": "watching"},
                },
                {
                    "request": {
                        "rating": 10,
                        "ids": {"mal": "11757"},
                        # Echoed with milliseconds, like every rating time (spec §1.8, §7).
                        "rated_at": "2026-05-15T20:00:00.000Z",
                        "type": "show",
                    },
                    "response": {"status": "watching"},
                },
            ],
        },
        "not_found": {"movies": [], "shows": []},
    }
    anime = get_json(api, "/sync/ratings/anime/10")["anime"]
    assert [(row["show"]["title"], row["user_rated_at"]) for row in anime] == [
        ("Sword Art Online", "2026-05-15T20:00:00.000Z")
    ]


# §3.2: the reference answer, to the §3.1 body rated 8, 6 and 10 (legacy `rated_at` without
# milliseconds). The spec prints it without `type`; today's echoes carry it (spec §7).
SPEC_ADD_RESPONSE: dict[str, Any] = {
    "added": {
        "movies": 2,
        "shows": 1,
        "statuses": [
            {
                "request": {
                    "title": "Terminator 3: Rise of the Machines",
                    "year": "2003",
                    "rated_at": "2014-09-01T09:10:11.000Z",
                    "rating": 8,
                    "ids": {"imdb": "tt0181852", "tmdb": 296, "simkl": 53536},
                },
                "response": {"status": "completed"},
            },
            {
                "request": {"rating": 6, "ids": {"simkl": 210728}},
                "response": {"status": "completed"},
            },
            {
                "request": {
                    "title": "Attack on Titan",
                    "year": 2013,
                    "rating": 10,
                    "ids": {
                        "simkl": 39687,
                        "mal": 16498,
                        "tvdb": 267440,
                        "imdb": "tt2560140",
                        "anidb": 9541,
                    },
                },
                "response": {"status": "watching"},
            },
        ],
    },
    "not_found": {"movies": [], "shows": []},
}


def test_spec_add_reference_response(api: Api) -> None:
    body = copy.deepcopy(SPEC_REMOVE_BODY)
    body["movies"][0].update(rating=8, rated_at="2014-09-01T09:10:11Z")
    body["movies"][1]["rating"] = 6
    body["shows"][0]["rating"] = 10
    expected = copy.deepcopy(SPEC_ADD_RESPONSE)
    for status, kind in zip(expected["added"]["statuses"], ("movie", "movie", "show"), strict=True):
        status["request"]["type"] = kind
    assert post_json(api, "/sync/ratings", body) == expected


# §3.2: the prose answer. It counts `shows: 1` for a body with one movie; counts equal the
# applied items (spec §7 #9), so that one number is 0 here.
SPEC_ADD_PROSE_RESPONSE: dict[str, Any] = {
    "added": {
        "movies": 1,
        "shows": 1,
        "statuses": [
            {"request": {"rating": 8, "ids": {"simkl": 53536}}, "response": {"status": "completed"}}
        ],
    },
    "not_found": {"movies": [], "shows": []},
}


def test_spec_add_prose_response(api: Api) -> None:
    expected = copy.deepcopy(SPEC_ADD_PROSE_RESPONSE)
    expected["added"]["shows"] = 0
    expected["added"]["statuses"][0]["request"]["type"] = "movie"
    body = {"movies": [{"rating": 8, "ids": {"simkl": 53536}}]}
    assert post_json(api, "/sync/ratings", body) == expected


# §3.3: the reference answer of the ratings read.
SPEC_READ_RESPONSE: dict[str, Any] = {
    "shows": [
        {
            "last_watched_at": "2016-09-12T13:00:30.000Z",
            "user_rated_at": "2021-06-23T13:19:05.000Z",
            "user_rating": 5,
            "status": "dropped",
            "last_watched": None,
            "next_to_watch": "S01E01",
            "show": {
                "title": "The Last Ship",
                "year": 2014,
                "ids": {"simkl": 42040, "imdb": "tt2402207", "tvdb": "269533"},
            },
        }
    ],
    "anime": [
        {
            "last_watched_at": "2014-11-06T22:05:52.000Z",
            "user_rated_at": "2021-06-23T13:19:05.000Z",
            "user_rating": 10,
            "status": "completed",
            "last_watched": "E148",
            "next_to_watch": None,
            "show": {
                "title": "Hunter x Hunter",
                "year": 2011,
                "ids": {"simkl": 40398, "imdb": "tt2098220", "mal": "11061", "anidb": "8550"},
            },
        }
    ],
    "movies": [
        {
            "last_watched_at": "2014-08-16T18:45:20.000Z",
            "user_rated_at": "2021-06-23T13:19:05.000Z",
            "user_rating": 6,
            "status": "completed",
            "movie": {
                "title": "Maleficent",
                "year": 2014,
                "ids": {"simkl": 195258, "imdb": "tt1587310", "tmdb": "102651"},
            },
        }
    ],
}


def test_spec_read_response(api: Api) -> None:
    seed_library_of_example(api, SPEC_READ_RESPONSE)
    assert get_json(api, "/sync/ratings") == SPEC_READ_RESPONSE
    assert get_json(api, "/sync/ratings/all/5,6,10") == SPEC_READ_RESPONSE
    assert get_json(api, "/sync/ratings/movies/9,10") == {}


# §3.4: the reference activities tree. It predates the `custom_lists` block, which the current
# schema requires; with no custom-list activity that block is all null.
SPEC_ACTIVITIES: dict[str, Any] = {
    "all": "2026-05-14T06:50:38Z",
    "settings": {"all": "2026-02-15T22:53:03Z"},
    "tv_shows": {
        "all": "2026-05-14T06:49:56Z",
        "rated_at": "2026-04-10T05:34:55Z",
        "playback": "2026-04-11T10:36:01Z",
        "plantowatch": "2026-04-10T05:42:42Z",
        "watching": "2026-05-04T19:40:58Z",
        "completed": "2026-04-11T11:50:21Z",
        "hold": "2026-05-14T06:49:56Z",
        "dropped": "2026-05-14T06:49:56Z",
        "removed_from_list": "2026-04-10T05:34:55Z",
    },
    "anime": {
        "all": "2026-05-14T06:50:38Z",
        "rated_at": "2026-04-10T05:34:55Z",
        "playback": "2026-05-14T06:50:38Z",
        "plantowatch": "2026-05-14T06:41:53Z",
        "watching": "2026-05-14T06:43:00Z",
        "completed": "2026-05-14T06:42:42Z",
        "hold": "2026-05-14T06:42:05Z",
        "dropped": "2026-05-14T06:49:56Z",
        "removed_from_list": "2026-04-10T05:34:55Z",
    },
    "movies": {
        "all": "2026-05-14T06:50:38Z",
        "rated_at": "2026-05-14T06:43:20Z",
        "playback": "2026-05-14T06:50:38Z",
        "plantowatch": "2026-05-14T06:43:11Z",
        "completed": "2026-05-14T06:43:15Z",
        "dropped": "2026-05-14T06:49:56Z",
        "removed_from_list": "2026-04-10T05:34:55Z",
    },
}
NO_CUSTOM_LISTS = {
    "lists": dict.fromkeys(("all", "regular", "favorites", "recommendations", "auto"))
}


def test_spec_activities(api: Api) -> None:
    token = seed_activity_user(api, "golden", SPEC_ACTIVITIES)
    answer = get_json(api, "/sync/activities", token=token)
    assert answer == {**SPEC_ACTIVITIES, "custom_lists": NO_CUSTOM_LISTS}
    assert list(answer) == ["all", "settings", "tv_shows", "anime", "movies", "custom_lists"]
