"""POST /sync/add-to-list over HTTP: per-item `to` and its silent rewrites, what `completed`
means, memos not kept, the legacy `remove`, bad input, activities, batches."""

from __future__ import annotations

from typing import Any

import pytest

from tests.api.library_support import (
    AVATAR_FIRE_AND_ASH,
    BREAKING_BAD,
    INCEPTION,
    LAST_OF_US,
    WALKING_DEAD,
    get,
    ids,
    library,
    post,
)
from tests.api.support import warm_credentials
from tests.conftest import Api
from tests.helpers import StatementLog, assert_simkl_error, flatten


def to_list(api: Api, body: dict[str, Any]) -> dict[str, Any]:
    """POST /sync/add-to-list, asserting 201."""
    answer: dict[str, Any] = post(api, "/sync/add-to-list", body)
    return answer


@pytest.mark.parametrize(("sent", "stored"), [("watching", "completed"), ("hold", "plantowatch")])
def test_a_movie_is_never_watching_or_on_hold(api: Api, sent: str, stored: str) -> None:
    answer = to_list(api, {"movies": [ids(INCEPTION, to=sent)]})

    assert answer["added"]["movies"][0]["to"] == sent  # the echo keeps what was sent
    assert library(api)[INCEPTION]["status"] == stored


def test_completed_means_watched(api: Api) -> None:
    to_list(api, {"movies": [ids(INCEPTION, to="completed", watched_at="2020-02-02T20:00:00Z")]})
    to_list(api, {"shows": [ids(BREAKING_BAD, to="completed")]})

    rows = library(api)
    assert rows[INCEPTION]["last_watched_at"] == "2020-02-02T20:00:00.000Z"
    assert (rows[BREAKING_BAD]["watched_episodes_count"], rows[BREAKING_BAD]["next_to_watch"]) == (
        62,
        None,
    )


def test_a_show_not_finished_airing_cannot_be_completed(api: Api) -> None:
    answer = to_list(
        api,
        {
            "shows": [ids(LAST_OF_US, to="completed")],
            "movies": [ids(AVATAR_FIRE_AND_ASH, to="dropped")],
        },
    )

    (show,) = answer["added"]["shows"]
    assert show["to"] == "watching"  # rewritten: it still airs
    assert library(api)[LAST_OF_US]["watched_episodes_count"] == 16  # what has aired


def test_other_lists_touch_no_episode_and_memos_are_not_kept(api: Api) -> None:
    memo = {"text": "not kept", "is_private": False}
    answer = to_list(api, {"shows": [ids(WALKING_DEAD, to="hold", memo=memo)]})

    row = library(api, memos="yes")[WALKING_DEAD]
    assert answer["added"]["shows"][0]["memo"] == memo  # echoed as sent
    assert (row["status"], row["watched_episodes_count"], row["memo"]) == ("hold", 0, {})


def test_the_legacy_remove_takes_the_item_out(api: Api) -> None:
    to_list(api, {"movies": [ids(INCEPTION, to="completed")]})
    answer = to_list(api, {"movies": [ids(INCEPTION, to="remove")]})

    assert answer["added"]["movies"][0]["to"] == "remove"
    assert get(api, "/sync/all-items") == {}


def test_added_at_restores_when_an_item_was_added(api: Api) -> None:
    to_list(api, {"movies": [ids(INCEPTION, to="plantowatch", added_at="2015-03-04T05:06:07Z")]})

    assert library(api)[INCEPTION]["added_to_watchlist_at"] == "2015-03-04T05:06:07.000Z"


@pytest.mark.parametrize(
    ("body", "error"),
    [
        ({"movies": [ids(INCEPTION)], "to": "completed"}, "empty_field"),
        ({"movies": [ids(INCEPTION, to="finished")]}, "wrong_parameter"),
        ({"movies": [ids(INCEPTION, to=3)]}, "wrong_parameter"),
        ({"movies": [ids(INCEPTION, to="completed")], "shows": [ids(WALKING_DEAD)]}, "empty_field"),
    ],
)
def test_a_missing_or_unknown_to_is_refused_and_nothing_applied(
    api: Api, body: dict[str, Any], error: str
) -> None:
    assert_simkl_error(api.post("/sync/add-to-list", json=body), 400, error)
    assert get(api, "/sync/all-items") == {}


def test_moving_an_item_moves_both_lists_activity(api: Api) -> None:
    to_list(api, {"shows": [ids(WALKING_DEAD, to="plantowatch")]})
    api.clock.advance(1000)
    to_list(api, {"shows": [ids(WALKING_DEAD, to="dropped")]})

    stamps = flatten(get(api, "/sync/activities"))
    assert stamps["tv_shows.plantowatch"] == stamps["tv_shows.dropped"] == "2026-05-28T20:26:41Z"


def test_a_list_batch_costs_the_statements_of_one_item_of_each_kind(
    api: Api, statements: StatementLog
) -> None:
    def batch(movies: list[int], shows: list[int]) -> dict[str, Any]:
        return {
            "movies": [ids(movie, to="completed") for movie in movies],
            "shows": [ids(show, to="completed") for show in shows],
        }

    warm_credentials(api)
    one = statements.count_during(lambda: to_list(api, batch([INCEPTION], [WALKING_DEAD])))
    many = statements.count_during(
        lambda: to_list(api, batch([53536, 195258, 210728], [BREAKING_BAD, LAST_OF_US, 17465]))
    )

    assert many == one
    assert len(library(api)) == 8
