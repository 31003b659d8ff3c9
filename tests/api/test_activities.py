"""GET /sync/activities over HTTP: the tree, null buckets, precision, monotonic time."""

from __future__ import annotations

from typing import Any

from tests.api.support import (
    ATTACK_ON_TITAN,
    GAME_OF_THRONES,
    TERMINATOR_3,
    activities,
    by_simkl,
    rate,
    unrate,
)
from tests.conftest import Api

CREATED = "2026-05-28T20:26:40Z"  # START_MS, when the fixture created alice
_SHOW_BLOCK = (
    "all",
    "rated_at",
    "playback",
    "plantowatch",
    "watching",
    "completed",
    "hold",
    "dropped",
    "removed_from_list",
)
_MOVIE_BLOCK = tuple(name for name in _SHOW_BLOCK if name not in {"watching", "hold"})


def untouched(fields: tuple[str, ...]) -> dict[str, Any]:
    """A block where nothing happened yet."""
    return dict.fromkeys(fields)


def test_a_new_user_has_the_full_tree_with_null_buckets(api: Api) -> None:
    assert activities(api) == {
        "all": CREATED,
        "settings": {"all": CREATED},
        "tv_shows": untouched(_SHOW_BLOCK),
        "anime": untouched(_SHOW_BLOCK),
        "movies": untouched(_MOVIE_BLOCK),
        "custom_lists": {
            "lists": untouched(("all", "regular", "favorites", "recommendations", "auto"))
        },
    }


def test_movies_have_no_watching_or_hold_even_after_activity(api: Api) -> None:
    rate(api, {"movies": [by_simkl(TERMINATOR_3, rating=8)]})

    assert tuple(activities(api)["movies"]) == _MOVIE_BLOCK


def test_settings_all_is_the_account_creation_time(api: Api) -> None:
    api.clock.advance(3_600_000 + 1_999)
    bob = api.new_user("bob")
    api.clock.advance(60_000)

    answer = api.get("/sync/activities", token=bob).json()

    assert answer["settings"] == {"all": "2026-05-28T21:26:41Z"}
    assert answer["all"] == "2026-05-28T21:26:41Z"


def test_a_rating_moves_its_domain_all_and_the_top_level_all(api: Api) -> None:
    api.clock.advance(7_000)
    rate(api, {"shows": [by_simkl(GAME_OF_THRONES, rating=8)]})

    answer = activities(api)

    moved = "2026-05-28T20:26:47Z"
    assert answer["all"] == answer["tv_shows"]["all"] == answer["tv_shows"]["rated_at"] == moved
    assert answer["tv_shows"]["watching"] == moved
    assert answer["anime"] == untouched(_SHOW_BLOCK)
    assert answer["movies"] == untouched(_MOVIE_BLOCK)
    assert answer["settings"] == {"all": CREATED}


def test_timestamps_have_second_precision_truncated_not_rounded(api: Api) -> None:
    api.clock.advance(999)
    rate(api, {"movies": [by_simkl(TERMINATOR_3, rating=8)]})

    answer = activities(api)

    assert answer["movies"]["rated_at"] == answer["all"] == CREATED


def test_timestamps_never_go_backwards_when_the_clock_does(api: Api) -> None:
    api.clock.advance(30_000)
    rate(api, {"anime": [by_simkl(ATTACK_ON_TITAN, rating=8)]})
    before = activities(api)
    api.clock.advance(-3_600_000)  # the wall clock is set back an hour

    unrate(api, {"anime": [by_simkl(ATTACK_ON_TITAN)]})
    rate(api, {"movies": [by_simkl(TERMINATOR_3, rating=7)]})

    after = activities(api)
    assert before["all"] == after["all"] == after["anime"]["rated_at"] == "2026-05-28T20:27:10Z"
    assert after["movies"]["rated_at"] == "2026-05-28T20:27:10Z"
    assert after["settings"] == {"all": CREATED}


def test_each_user_sees_only_their_own_activity(api: Api) -> None:
    bob = api.new_user("bob")
    api.clock.advance(5_000)
    rate(api, {"movies": [by_simkl(TERMINATOR_3, rating=8)]})

    answer = api.get("/sync/activities", token=bob).json()

    assert answer["movies"] == untouched(_MOVIE_BLOCK)
    assert answer["all"] == CREATED
