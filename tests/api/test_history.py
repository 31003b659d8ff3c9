"""POST /sync/history and /sync/history/remove over HTTP: where writes file items, episodes
and their dates, what rides along (status, rating, memo), bad input, activities, batches."""

from __future__ import annotations

from typing import Any

import pytest

from tests.api.library_support import (
    ATTACK_ON_TITAN,
    AVATAR_FIRE_AND_ASH,
    BREAKING_BAD,
    DEMON_SLAYER,
    GAME_OF_THRONES,
    INCEPTION,
    LAST_OF_US,
    SEVERANCE,
    WALKING_DEAD,
    get,
    history,
    ids,
    library,
    load_official,
    post,
    unhistory,
)
from tests.api.support import warm_credentials
from tests.conftest import Api
from tests.helpers import StatementLog, assert_simkl_error, flatten

NOW = "2026-05-28T20:26:40.000Z"  # START_MS, as library rows print it


def episodes_of(api: Api, simkl: int, **params: str) -> dict[tuple[int, int], str | None]:
    """(season, number) -> watched_at of an item's watched episodes, from all-items."""
    rows = library(
        api, extended="full", episode_watched_at="yes", include_all_episodes="original", **params
    )
    return {
        (season["number"], episode["number"]): episode["watched_at"]
        for season in rows[simkl].get("seasons", [])
        for episode in season["episodes"]
    }


def test_the_realistic_batch_leaves_what_it_reports(api: Api) -> None:
    """The official realistic batch, read back: each item on the list the answer named, with
    the episodes it counted."""
    example = load_official("post-sync-history")["request"]["examples"]["realistic_batch"]
    history(api, example)
    rows = library(api)
    assert (rows[LAST_OF_US]["status"], rows[LAST_OF_US]["watched_episodes_count"]) == (
        "watching",
        3,
    )
    assert rows[BREAKING_BAD]["status"] == "completed"
    assert (rows[BREAKING_BAD]["watched_episodes_count"], rows[BREAKING_BAD]["user_rating"]) == (
        62,
        10,
    )


def test_a_watched_movie_is_completed_with_its_watch_time(api: Api) -> None:
    answer = history(api, {"movies": [ids(INCEPTION, watched_at="2026-05-01T20:00:00Z")]})
    again = history(api, {"movies": [ids(INCEPTION, watched_at="2026-05-02T20:00:00Z")]})

    row = library(api)[INCEPTION]
    assert (answer["added"]["movies"], again["added"]["movies"]) == (1, 0)
    assert again["added"]["statuses"][0]["response"]["status"] == "completed"
    assert row["status"] == "completed"
    assert row["last_watched_at"] == "2026-05-01T20:00:00.000Z"  # re-posting changed nothing
    assert row["added_to_watchlist_at"] == NOW


def test_the_long_ago_placeholder_is_kept_as_sent(api: Api) -> None:
    history(api, {"movies": [ids(INCEPTION, watched_at="1970-01-01T00:00:01Z")]})

    assert library(api)[INCEPTION]["last_watched_at"] == "1970-01-01T00:00:01.000Z"


def test_an_upcoming_movie_can_be_planned_without_a_watch(api: Api) -> None:
    answer = history(api, {"movies": [ids(AVATAR_FIRE_AND_ASH, status="plantowatch")]})

    row = library(api)[AVATAR_FIRE_AND_ASH]
    assert answer["added"]["statuses"][0]["response"]["status"] == "plantowatch"
    assert (row["status"], row["last_watched_at"]) == ("plantowatch", None)


def test_a_whole_ended_show_is_completed_with_every_episode_undated(api: Api) -> None:
    answer = history(api, {"shows": [ids(BREAKING_BAD)]})

    row = library(api)[BREAKING_BAD]
    assert (answer["added"]["shows"], answer["added"]["episodes"]) == (1, 62)
    assert row["status"] == "completed"
    assert (row["watched_episodes_count"], row["total_episodes_count"]) == (62, 62)
    assert (row["last_watched"], row["next_to_watch"], row["last_watched_at"]) == (
        None,
        None,
        NOW,
    )
    assert episodes_of(api, BREAKING_BAD) == {}  # no episode has a date of its own
    filled = library(api, extended="full", episode_watched_at="yes", include_all_episodes="yes")
    listed = [e["watched_at"] for s in filled[BREAKING_BAD]["seasons"] for e in s["episodes"]]
    assert listed == [NOW] * 62  # stamped with the show's last watch


def test_a_whole_airing_show_is_watching_with_the_aired_episodes(api: Api) -> None:
    answer = history(api, {"shows": [ids(LAST_OF_US, status="completed")]})

    row = library(api)[LAST_OF_US]
    status = answer["added"]["statuses"][0]["response"]["status"]
    assert status == "watching"  # completed is downgraded while the show airs
    assert (row["watched_episodes_count"], row["total_episodes_count"]) == (16, 16)
    assert row["not_aired_episodes_count"] == 0
    assert row["next_to_watch"] is None  # caught up


@pytest.mark.parametrize("status", ["watching", "plantowatch", "hold", "dropped"])
def test_a_list_status_alone_touches_no_episode(api: Api, status: str) -> None:
    answer = history(api, {"shows": [ids(WALKING_DEAD, status=status)]})

    row = library(api)[WALKING_DEAD]
    assert (answer["added"]["episodes"], row["status"], row["watched_episodes_count"]) == (
        0,
        status,
        0,
    )
    assert row["next_to_watch"] == "S01E01"


def test_skip_auto_watching_completes_without_marking_episodes(api: Api) -> None:
    body = {"shows": [ids(WALKING_DEAD, status="completed")]}
    answer = history(api, body, params={"skip_auto_watching": "yes"})

    row = library(api)[WALKING_DEAD]
    assert (answer["added"]["episodes"], row["status"], row["watched_episodes_count"]) == (
        0,
        "completed",
        0,
    )


def test_episodes_carry_their_own_dates_else_the_season_s_else_the_item_s(api: Api) -> None:
    seasons = [
        {"number": 1, "episodes": [{"number": 1, "watched_at": "2020-01-01T10:00:00Z"}]},
        {"number": 2, "watched_at": "2020-02-01T10:00:00Z", "episodes": [{"number": 3}]},
        {"number": 3, "episodes": [{"number": 4}]},
    ]
    history(api, {"shows": [ids(WALKING_DEAD, seasons=seasons, watched_at="2020-03-01")]})

    assert episodes_of(api, WALKING_DEAD) == {
        (1, 1): "2020-01-01T10:00:00.000Z",
        (2, 3): "2020-02-01T10:00:00.000Z",
        (3, 4): "2020-03-01T00:00:00.000Z",
    }
    row = library(api)[WALKING_DEAD]
    assert (row["last_watched"], row["next_to_watch"]) == ("S03E04", "S03E05")


def test_episodes_the_catalog_does_not_list_are_not_recorded(api: Api) -> None:
    seasons = [{"number": 1, "episodes": [{"number": 1}, {"number": 99}]}, {"number": 42}]
    answer = history(api, {"shows": [ids(WALKING_DEAD, seasons=seasons)]})

    assert answer["added"]["episodes"] == 1
    assert list(episodes_of(api, WALKING_DEAD)) == [(1, 1)]


def test_without_a_catalog_list_the_episodes_sent_are_the_list(api: Api) -> None:
    answer = history(api, {"shows": [ids(SEVERANCE, episodes=[{"number": 1}, {"number": 2}])]})

    row = library(api)[SEVERANCE]
    assert answer["added"]["episodes"] == 2
    assert (row["watched_episodes_count"], row["last_watched"]) == (2, "S01E02")


def test_an_episode_is_found_by_its_tvdb_id_first(api: Api) -> None:
    episode = {"number": 9, "ids": {"tvdb": 3436411}}  # GoT S01E02's TVDB id
    history(api, {"shows": [ids(GAME_OF_THRONES, seasons=[{"number": 1, "episodes": [episode]}])]})

    assert list(episodes_of(api, GAME_OF_THRONES)) == [(1, 2)]


def test_anime_sent_in_tvdb_numbering_is_mapped(api: Api) -> None:
    body = {"seasons": [{"number": 1, "episodes": [{"number": 3}]}], "use_tvdb_anime_seasons": True}
    history(api, {"shows": [ids(DEMON_SLAYER, **body)]})
    history(api, {"anime": [ids(ATTACK_ON_TITAN, episodes=[{"number": 2}])]})

    assert list(episodes_of(api, DEMON_SLAYER)) == [(1, 3)]
    rows = library(api)
    assert (rows[DEMON_SLAYER]["last_watched"], rows[ATTACK_ON_TITAN]["last_watched"]) == (
        "E3",
        "E2",
    )


def test_watching_the_last_episode_completes_an_ended_show(api: Api) -> None:
    history(api, {"shows": [ids(BREAKING_BAD)]})
    unhistory(api, {"shows": [ids(BREAKING_BAD, seasons=[{"number": 5}])]})
    assert library(api)[BREAKING_BAD]["status"] == "watching"

    answer = history(api, {"shows": [ids(BREAKING_BAD, seasons=[{"number": 5}])]})

    assert (answer["added"]["shows"], answer["added"]["episodes"]) == (1, 16)
    assert library(api)[BREAKING_BAD]["status"] == "completed"


def test_rating_and_memo_ride_along(api: Api) -> None:
    long_memo = {"text": "x" * 200, "is_private": True}
    history(api, {"movies": [ids(INCEPTION, rating=9, memo=long_memo)]})
    memo = library(api, memos="yes")[INCEPTION]["memo"]
    history(api, {"movies": [ids(INCEPTION, memo={})]})

    row = library(api, memos="yes")[INCEPTION]
    assert memo == {"text": "x" * 140, "is_private": True}
    assert (row["memo"], row["user_rating"], row["user_rated_at"]) == ({}, 9, NOW)
    assert "memo" not in library(api)[INCEPTION]


def test_an_unparsable_watched_at_puts_the_item_in_not_found(api: Api) -> None:
    bad = ids(INCEPTION, watched_at="last tuesday")
    bad_episode = ids(WALKING_DEAD, episodes=[{"number": 1, "watched_at": "soon"}])
    answer = history(api, {"movies": [bad], "shows": [bad_episode]})

    assert answer["not_found"] == {
        "movies": [{**bad, "rating": None}],
        "shows": [{**bad_episode, "rating": None}],
        "episodes": [],
    }
    assert get(api, "/sync/all-items") == {}


@pytest.mark.parametrize(
    ("body", "error"),
    [
        ({"movies": [ids(INCEPTION, status="finished")]}, "wrong_parameter"),
        ({"shows": [ids(WALKING_DEAD, seasons=[{"episodes": []}])]}, "empty_field"),
        ({"shows": [ids(WALKING_DEAD, seasons={"number": 1})]}, "wrong_parameter"),
        ({"shows": [ids(WALKING_DEAD, episodes=[{"number": "one"}])]}, "wrong_parameter"),
        ({"shows": [ids(WALKING_DEAD, memo="nice")]}, "wrong_parameter"),
        ({"shows": [ids(WALKING_DEAD, seasons=[{"number": -1}])]}, "wrong_parameter"),
    ],
)
def test_bad_structure_is_refused_and_nothing_applied(
    api: Api, body: dict[str, Any], error: str
) -> None:
    body = {**body, "movies": [*body.get("movies", []), ids(53536)]}
    response = api.post("/sync/history", json=body)

    assert_simkl_error(response, 400, error)
    assert get(api, "/sync/all-items") == {}


def test_history_moves_the_list_rating_and_removal_buckets(api: Api) -> None:
    api.clock.advance(1000)
    history(api, {"shows": [ids(WALKING_DEAD, rating=8, episodes=[{"number": 1}])]})
    api.clock.advance(1000)
    unhistory(api, {"shows": [ids(WALKING_DEAD)]})

    stamps = flatten(get(api, "/sync/activities"))
    assert stamps["tv_shows.watching"] == "2026-05-28T20:26:41Z"
    assert stamps["tv_shows.removed_from_list"] == "2026-05-28T20:26:42Z"
    assert stamps["tv_shows.rated_at"] == "2026-05-28T20:26:42Z"  # the removal wiped the rating
    assert stamps["movies.completed"] is None


def test_unmarking_episodes_keeps_the_show_and_reopens_a_completed_one(api: Api) -> None:
    history(api, {"shows": [ids(WALKING_DEAD)]})
    answer = unhistory(
        api,
        {
            "shows": [
                ids(
                    WALKING_DEAD,
                    seasons=[{"number": 2}, {"number": 3, "episodes": [{"number": 1}]}],
                )
            ]
        },
    )

    row = library(api)[WALKING_DEAD]
    assert answer == {
        "deleted": {"movies": 0, "shows": 0, "episodes": 14},
        "not_found": {"movies": [], "shows": []},
    }
    assert (row["status"], row["watched_episodes_count"]) == ("watching", 163)


def test_removal_ignores_anime_sent_under_anime_and_items_not_in_the_library(api: Api) -> None:
    history(api, {"shows": [ids(DEMON_SLAYER)]})
    answer = unhistory(api, {"anime": [ids(DEMON_SLAYER)], "movies": [ids(INCEPTION)]})

    assert answer["deleted"] == {"movies": 0, "shows": 0, "episodes": 0}
    assert DEMON_SLAYER in library(api)


MOVIES = (53536, 195258, 210728, INCEPTION, 752138, 1015859, 53434, 54130)
SHOWS = (WALKING_DEAD, GAME_OF_THRONES, BREAKING_BAD, LAST_OF_US, SEVERANCE, 42040)


def test_a_history_batch_costs_the_statements_of_one_item_of_each_kind(
    api: Api, statements: StatementLog
) -> None:
    def batch(movies: tuple[int, ...], shows: tuple[int, ...]) -> dict[str, Any]:
        return {
            "movies": [ids(movie) for movie in movies],
            "shows": [ids(show, episodes=[{"number": 1}]) for show in shows],
        }

    warm_credentials(api)
    every_episode = [
        {"number": season, "episodes": [{"number": n} for n in range(1, 25)]}
        for season in range(1, 11)
    ]
    ten_seasons = {"shows": [ids(GAME_OF_THRONES, seasons=every_episode)], "movies": [ids(53536)]}
    # Each batch holds items no earlier one looked up: on SQLite a write reads its lookup
    # ahead unless the process's memory of lookups holds every item of it.
    by_episodes = statements.count_during(lambda: history(api, ten_seasons))
    one = statements.count_during(lambda: history(api, batch(MOVIES[1:2], SHOWS[:1])))
    many = statements.count_during(lambda: history(api, batch(MOVIES[2:], SHOWS[2:])))

    assert library(api)[GAME_OF_THRONES]["watched_episodes_count"] == 73
    assert many == one
    assert by_episodes == one


def test_a_removal_batch_costs_the_statements_of_one_item_of_each_kind(
    api: Api, statements: StatementLog
) -> None:
    history(api, {"movies": [ids(movie) for movie in MOVIES], "shows": [ids(s) for s in SHOWS]})

    def batch(movies: tuple[int, ...], shows: tuple[int, ...]) -> dict[str, Any]:
        return {
            "movies": [ids(movie) for movie in movies],
            "shows": [ids(show, seasons=[{"number": 1}]) for show in shows],
        }

    one = statements.count_during(lambda: unhistory(api, batch(MOVIES[:1], SHOWS[:1])))
    many = statements.count_during(lambda: unhistory(api, batch(MOVIES[1:], SHOWS[1:])))

    assert library(api).keys() == set(SHOWS)
    assert many == one


def test_the_empty_body_answers_zero_counts(api: Api) -> None:
    assert post(api, "/sync/history", {}) == {
        "added": {"movies": 0, "shows": 0, "episodes": 0, "statuses": []},
        "not_found": {"movies": [], "shows": [], "episodes": []},
    }
