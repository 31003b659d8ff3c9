"""POST /sync/ratings over HTTP: values, rated_at, auto-filing, the response, activities."""

from __future__ import annotations

from typing import Any

import pytest

from simkl_server.domain.kinds import ListStatus
from simkl_server.domain.models import RatingWrite
from simkl_server.storage.base import WriteTx
from tests.api.support import (
    ATTACK_ON_TITAN,
    AVATAR_FIRE_AND_ASH,
    BANDERSNATCH,
    DEATH_NOTE,
    GAME_OF_THRONES,
    MALEFICENT,
    SEVERANCE,
    SPIRITED_AWAY,
    TERMINATOR_3,
    TRUMAN_SHOW,
    activities,
    by_simkl,
    rate,
    read,
    rows_by_id,
    user_state,
)
from tests.conftest import START_MS, Api

NOW_MS_TEXT = "2026-05-28T20:26:40.000Z"


def rating_of(api: Api, simkl: int) -> int | None:
    """The user's rating of one item, read back over HTTP (None: unrated or not in library)."""
    row = rows_by_id(read(api)).get(simkl)
    return None if row is None else row["user_rating"]


@pytest.mark.parametrize("value", range(1, 11))
def test_every_rating_from_1_to_10_is_stored(api: Api, value: int) -> None:
    answer = rate(api, {"movies": [by_simkl(TERMINATOR_3, rating=value)]})

    assert answer["added"]["movies"] == 1
    assert rating_of(api, TERMINATOR_3) == value


def test_a_new_rating_overwrites_the_old_one(api: Api) -> None:
    rate(api, {"movies": [by_simkl(TERMINATOR_3, rating=8)]})
    api.clock.advance(1_000)

    rate(api, {"movies": [by_simkl(TERMINATOR_3, rating=3)]})

    row = rows_by_id(read(api))[TERMINATOR_3]
    assert (row["user_rating"], row["user_rated_at"]) == (3, "2026-05-28T20:26:41.000Z")


@pytest.mark.parametrize("value", [0, 11, -1, 100, 8.5, None, True, "abc", "8.5", [8], {"v": 8}])
def test_a_rating_outside_1_to_10_lands_in_not_found_and_changes_nothing(
    api: Api, value: Any
) -> None:
    rate(api, {"movies": [by_simkl(TERMINATOR_3, rating=7)]})
    before = user_state(api)
    api.clock.advance(5_000)
    bad_items = [by_simkl(TERMINATOR_3, rating=value), by_simkl(MALEFICENT, rating=value)]

    answer = rate(api, {"movies": bad_items, "shows": [by_simkl(GAME_OF_THRONES, rating=value)]})

    assert answer == {
        "added": {"movies": 0, "shows": 0, "statuses": []},
        "not_found": {
            "movies": [{**item, "type": "movie"} for item in bad_items],
            "shows": [{**by_simkl(GAME_OF_THRONES, rating=value), "type": "show"}],
        },
    }
    assert user_state(api) == before


def test_an_item_without_any_rating_lands_in_not_found(api: Api) -> None:
    answer = rate(api, {"movies": [by_simkl(TERMINATOR_3)]})

    assert answer["not_found"]["movies"] == [{**by_simkl(TERMINATOR_3), "type": "movie"}]
    assert read(api) == {}


def test_an_integer_string_is_accepted_as_that_integer(api: Api) -> None:
    answer = rate(api, {"movies": [by_simkl(TERMINATOR_3, rating="8")]})

    assert answer["added"]["movies"] == 1
    assert rating_of(api, TERMINATOR_3) == 8


@pytest.mark.parametrize(
    ("sent", "stored"),
    [
        ("2014-09-01T09:10:11Z", "2014-09-01T09:10:11.000Z"),
        ("2014-09-01T09:10:11.000Z", "2014-09-01T09:10:11.000Z"),
        ("2014-09-01T11:10:11+02:00", "2014-09-01T09:10:11.000Z"),
        ("2014-09-01T04:10:11.25-05:00", "2014-09-01T09:10:11.250Z"),
        ("2014-09-01T09:10:11.123456Z", "2014-09-01T09:10:11.123Z"),
        ("2014-09-01T09:10:11", "2014-09-01T09:10:11.000Z"),
        ("2014-09-01", "2014-09-01T00:00:00.000Z"),
        ("2014-09-01t09:10:11z", "2014-09-01T09:10:11.000Z"),
    ],
)
def test_rated_at_in_any_iso_form_is_kept_and_returned_as_utc_milliseconds(
    api: Api, sent: str, stored: str
) -> None:
    item = by_simkl(TERMINATOR_3, rating=8, rated_at=sent)

    answer = rate(api, {"movies": [item]})

    assert answer["added"]["statuses"][0]["request"] == {
        **item,
        "rated_at": stored,
        "type": "movie",
    }
    assert rows_by_id(read(api))[TERMINATOR_3]["user_rated_at"] == stored


def test_rated_at_defaults_to_now(api: Api) -> None:
    rate(api, {"movies": [by_simkl(TERMINATOR_3, rating=8)]})

    assert rows_by_id(read(api))[TERMINATOR_3]["user_rated_at"] == NOW_MS_TEXT


@pytest.mark.parametrize(
    "rated_at",
    ["yesterday", "2014-13-01T00:00:00Z", "", "2014-09-01T09:10:11Z\u0000junk", 1409562611, ["x"]],
)
def test_an_unparsable_rated_at_lands_in_not_found(api: Api, rated_at: Any) -> None:
    rate(api, {"movies": [by_simkl(TERMINATOR_3, rating=8)]})
    before = user_state(api)
    item = by_simkl(TERMINATOR_3, rating=2, rated_at=rated_at)

    answer = rate(api, {"movies": [item]})

    assert answer["not_found"]["movies"] == [{**item, "type": "movie"}]
    assert answer["added"] == {"movies": 0, "shows": 0, "statuses": []}
    assert user_state(api) == before


@pytest.mark.parametrize(
    ("wrapper", "simkl", "status", "bucket"),
    [
        ("movies", TERMINATOR_3, "completed", ("movies", "completed")),
        ("movies", AVATAR_FIRE_AND_ASH, "plantowatch", ("movies", "plantowatch")),
        ("shows", BANDERSNATCH, "completed", ("tv_shows", "completed")),
        ("shows", GAME_OF_THRONES, "watching", ("tv_shows", "watching")),
        ("shows", SEVERANCE, "watching", ("tv_shows", "watching")),
        ("anime", ATTACK_ON_TITAN, "watching", ("anime", "watching")),
        ("shows", DEATH_NOTE, "watching", ("anime", "watching")),
        ("movies", SPIRITED_AWAY, "completed", ("anime", "completed")),
        ("anime", SPIRITED_AWAY, "completed", ("anime", "completed")),
    ],
)
def test_an_item_outside_the_library_is_filed_and_its_list_activity_moves(
    api: Api, wrapper: str, simkl: int, status: str, bucket: tuple[str, str]
) -> None:
    before = activities(api)
    api.clock.advance(2_000)

    answer = rate(api, {wrapper: [by_simkl(simkl, rating=9)]})

    assert answer["added"]["statuses"][0]["response"] == {"status": status}
    assert rows_by_id(read(api))[simkl]["status"] == status
    domain, field = bucket
    after = activities(api)
    moved = "2026-05-28T20:26:42Z"
    assert (after[domain][field], after[domain]["rated_at"], after["all"]) == (moved,) * 3
    untouched = [name for name in after[domain] if name not in {field, "rated_at", "all"}]
    assert all(after[domain][name] == before[domain][name] for name in untouched)


def file_in_library(api: Api, simkl: int, status: ListStatus) -> None:
    """Put an item in alice's library under `status` through the store (no endpoint does yet)."""
    user_id = api.call(api.store.read.accounts.find_user, "alice")
    assert user_id is not None

    async def work(tx: WriteTx) -> None:
        await tx.ratings.save(user_id, [RatingWrite(simkl, status, 4, START_MS)], now=tx.now_ms)

    api.call(api.store.write, user_id, work, size=1)


def test_rating_an_item_already_in_the_library_keeps_its_status(api: Api) -> None:
    file_in_library(api, GAME_OF_THRONES, ListStatus.DROPPED)
    before = activities(api)
    api.clock.advance(2_000)

    answer = rate(api, {"shows": [by_simkl(GAME_OF_THRONES, rating=9)]})

    assert answer["added"]["statuses"][0]["response"] == {"status": "dropped"}
    row = rows_by_id(read(api))[GAME_OF_THRONES]
    assert (row["status"], row["user_rating"]) == ("dropped", 9)
    after = activities(api)
    assert after["tv_shows"]["rated_at"] == "2026-05-28T20:26:42Z"
    assert after["tv_shows"]["watching"] == before["tv_shows"]["watching"]
    assert after["tv_shows"]["dropped"] == before["tv_shows"]["dropped"]


def test_the_same_rating_and_rated_at_again_moves_nothing(api: Api) -> None:
    item = by_simkl(TERMINATOR_3, rating=8, rated_at="2020-01-01T00:00:00Z")
    rate(api, {"movies": [item]})
    before = user_state(api)
    api.clock.advance(60_000)

    answer = rate(api, {"movies": [item]})

    assert answer["added"]["movies"] == 1
    assert user_state(api) == before


def test_response_lists_applied_items_and_echoes_the_rest(api: Api) -> None:
    t3 = {"title": "Terminator 3", "year": "2003", "rating": 8, "ids": {"imdb": "tt0181852"}}
    unknown = {"rating": 5, "ids": {"imdb": "tt0000001"}}
    aot = {"rating": 10, "ids": {"mal": 16498}}
    got = {"rating": 7, "ids": {"tvdb": "121361"}}
    lost_anime = {"rating": 7, "ids": {"anilist": 424242}}

    answer = rate(api, {"movies": [t3, unknown], "shows": [got], "anime": [aot, lost_anime]})

    assert answer == {
        "added": {
            "movies": 1,
            "shows": 2,
            "statuses": [
                {"request": {**t3, "type": "movie"}, "response": {"status": "completed"}},
                {"request": {**got, "type": "show"}, "response": {"status": "watching"}},
                {"request": {**aot, "type": "show"}, "response": {"status": "watching"}},
            ],
        },
        "not_found": {
            "movies": [{**unknown, "type": "movie"}],
            "shows": [{**lost_anime, "type": "show"}],
        },
    }


def test_query_rating_applies_to_items_without_their_own(api: Api) -> None:
    answer = rate(
        api,
        {"movies": [by_simkl(TERMINATOR_3), by_simkl(MALEFICENT, rating=4)]},
        params={"rating": "9"},
    )

    assert answer["added"]["movies"] == 2
    assert (rating_of(api, TERMINATOR_3), rating_of(api, MALEFICENT)) == (9, 4)


def test_an_out_of_range_query_rating_is_no_rating(api: Api) -> None:
    answer = rate(api, {"movies": [by_simkl(TERMINATOR_3)]}, params={"rating": "11"})

    assert answer["not_found"]["movies"] == [{**by_simkl(TERMINATOR_3), "type": "movie"}]
    assert read(api) == {}


def test_the_same_item_twice_is_counted_twice_and_the_last_rating_wins(api: Api) -> None:
    answer = rate(
        api,
        {
            "movies": [
                by_simkl(TERMINATOR_3, rating=3),
                by_simkl(TRUMAN_SHOW, rating=6),
                {"ids": {"imdb": "tt0181852"}, "rating": 9},
            ]
        },
    )

    assert answer["added"]["movies"] == 3
    assert [s["request"]["rating"] for s in answer["added"]["statuses"]] == [3, 6, 9]
    assert rating_of(api, TERMINATOR_3) == 9


def test_a_later_invalid_duplicate_does_not_undo_the_earlier_one(api: Api) -> None:
    answer = rate(
        api, {"movies": [by_simkl(TERMINATOR_3, rating=3), by_simkl(TERMINATOR_3, rating=0)]}
    )

    assert (answer["added"]["movies"], len(answer["not_found"]["movies"])) == (1, 1)
    assert rating_of(api, TERMINATOR_3) == 3
