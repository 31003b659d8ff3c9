"""A sequence of writes reads back consistently through every read: all-items, the watched
lookup, the ratings read and activities; and a client following the sync guide (activities
first, then deltas, removals by diff, ratings by their own delta) ends with exactly the
library a full read gives."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from tests.api.library_support import (
    BREAKING_BAD,
    DEMON_SLAYER,
    INCEPTION,
    LAST_OF_US,
    TERMINATOR_3,
    WALKING_DEAD,
    get,
    history,
    ids,
    library,
    post,
    unhistory,
)
from tests.conftest import Api
from tests.helpers import flatten

Write = Callable[[Api], Any]

WRITES: list[Write] = [
    lambda api: post(api, "/sync/ratings", {"movies": [ids(TERMINATOR_3, rating=8)]}),
    lambda api: history(api, {"shows": [ids(WALKING_DEAD, episodes=[{"number": 1}])]}),
    lambda api: post(api, "/sync/add-to-list", {"shows": [ids(BREAKING_BAD, to="plantowatch")]}),
    lambda api: history(api, {"movies": [ids(INCEPTION, rating=7, memo={"text": "again"})]}),
    lambda api: post(api, "/sync/ratings", {"movies": [ids(INCEPTION, rating=9)]}),
    lambda api: history(api, {"shows": [ids(BREAKING_BAD)]}),
    lambda api: unhistory(api, {"movies": [ids(TERMINATOR_3)]}),
    lambda api: post(api, "/sync/ratings/remove", {"movies": [ids(INCEPTION)]}),
    lambda api: post(api, "/sync/add-to-list", {"anime": [ids(DEMON_SLAYER, to="hold")]}),
    lambda api: unhistory(api, {"shows": [ids(BREAKING_BAD, seasons=[{"number": 5}])]}),
    lambda api: history(api, {"shows": [ids(LAST_OF_US, status="dropped")]}),
    lambda api: unhistory(api, {"shows": [ids(WALKING_DEAD)]}),
]


def test_every_read_agrees_after_every_write(api: Api) -> None:
    for write in WRITES:
        api.clock.advance(250)
        write(api)
        rows = library(api, memos="yes")
        assert _ratings_rows(api) == rows
        questions = [ids(simkl) for simkl in sorted(rows)]
        for answer in post(api, "/sync/watched", questions, status=200):
            row = rows[answer["simkl"]]
            assert (answer["result"], answer["list"]) == (True, row["status"])
        stamps = flatten(get(api, "/sync/activities"))
        newest = max(stamp for stamp in stamps.values() if stamp is not None)
        assert stamps["all"] == newest


def test_a_client_following_the_sync_guide_ends_with_the_whole_library(api: Api) -> None:
    cache: dict[int, dict[str, Any]] = {}
    snapshot = get(api, "/sync/activities")
    for write in WRITES:
        api.clock.advance(250)  # several writes within one second: deltas must still see them
        write(api)
        snapshot = _sync(api, snapshot, cache)

    assert cache == library(api)


def _sync(api: Api, snapshot: dict[str, Any], cache: dict[int, dict[str, Any]]) -> Any:
    """One poll of the sync guide's loop; the new snapshot."""
    fresh = get(api, "/sync/activities")
    if fresh["all"] == snapshot["all"]:
        return snapshot
    since = {"date_from": snapshot["all"]} if snapshot["all"] else {}
    before, after = flatten(snapshot), flatten(fresh)
    moved = {bucket for bucket in after if after[bucket] != before.get(bucket)}
    cache.update(library(api, **since))
    if any(bucket.endswith("removed_from_list") for bucket in moved):
        present = library(api, extended="simkl_ids_only")
        for gone in set(cache) - set(present):
            del cache[gone]
    if any(bucket.endswith("rated_at") for bucket in moved):
        cache.update(
            (simkl, row) for simkl, row in _rows(get(api, "/sync/ratings", params=since)).items()
        )
    return fresh


def _ratings_rows(api: Api) -> dict[int, dict[str, Any]]:
    return _rows(get(api, "/sync/ratings", params={"memos": "yes"}))


def _rows(answer: dict[str, Any]) -> dict[int, dict[str, Any]]:
    return {
        (row.get("movie") or row["show"])["ids"]["simkl"]: row
        for rows in answer.values()
        for row in rows
    }
