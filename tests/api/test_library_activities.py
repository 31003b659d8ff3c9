"""Which /sync/activities buckets each library write moves, as the docs say: the list an item
enters or leaves, the list of an item whose episodes changed, `removed_from_list` (and
`rated_at` when a rating went with the item), never anything for a write that changed nothing;
POST reads the same tree as GET."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from tests.api.library_support import (
    DEMON_SLAYER,
    INCEPTION,
    WALKING_DEAD,
    get,
    history,
    ids,
    post,
    unhistory,
)
from tests.conftest import Api
from tests.helpers import flatten

LEAVES = ("all", "settings.all", "tv_shows.all", "anime.all", "movies.all", "custom_lists")


def moved_by(api: Api, write: Callable[[Api], Any]) -> set[str]:
    """The leaf buckets a write moves (one second later than everything before it)."""
    before = flatten(get(api, "/sync/activities"))
    api.clock.advance(1000)
    write(api)
    after = flatten(get(api, "/sync/activities"))
    return {name for name in after if after[name] != before[name] and not name.endswith(LEAVES)}


@pytest.mark.parametrize(
    ("write", "buckets"),
    [
        (lambda api: history(api, {"movies": [ids(INCEPTION)]}), {"movies.completed"}),
        (
            lambda api: history(api, {"shows": [ids(WALKING_DEAD, episodes=[{"number": 1}])]}),
            {"tv_shows.watching"},
        ),
        (
            lambda api: history(api, {"anime": [ids(DEMON_SLAYER, status="hold", rating=6)]}),
            {"anime.hold", "anime.rated_at"},
        ),
        (
            lambda api: post(api, "/sync/add-to-list", {"movies": [ids(INCEPTION, to="dropped")]}),
            {"movies.dropped"},
        ),
    ],
)
def test_a_write_moves_the_list_it_files_into(
    api: Api, write: Callable[[Api], Any], buckets: set[str]
) -> None:
    assert moved_by(api, write) == buckets


def test_moving_episodes_memo_and_lists_of_an_item_already_filed(api: Api) -> None:
    history(api, {"shows": [ids(WALKING_DEAD, episodes=[{"number": 1}])]})

    episode = moved_by(
        api, lambda a: history(a, {"shows": [ids(WALKING_DEAD, episodes=[{"number": 2}])]})
    )
    unmark = moved_by(
        api, lambda a: unhistory(a, {"shows": [ids(WALKING_DEAD, episodes=[{"number": 2}])]})
    )
    memo = moved_by(
        api,
        lambda a: history(a, {"shows": [ids(WALKING_DEAD, status="watching", memo={"text": "m"})]}),
    )
    move = moved_by(
        api, lambda a: post(a, "/sync/add-to-list", {"shows": [ids(WALKING_DEAD, to="hold")]})
    )

    assert episode == unmark == memo == {"tv_shows.watching"}
    assert move == {"tv_shows.watching", "tv_shows.hold"}


def test_removal_moves_removed_from_list_and_the_rating_it_took(api: Api) -> None:
    history(api, {"movies": [ids(INCEPTION, rating=8)]})

    assert moved_by(api, lambda a: unhistory(a, {"movies": [ids(INCEPTION)]})) == {
        "movies.removed_from_list",
        "movies.rated_at",
    }


def test_a_write_that_changes_nothing_moves_nothing(api: Api) -> None:
    history(api, {"movies": [ids(INCEPTION)]})

    assert moved_by(api, lambda a: history(a, {"movies": [ids(INCEPTION)]})) == set()
    assert moved_by(api, lambda a: unhistory(a, {"movies": [ids(53536)]})) == set()


def test_post_reads_the_same_tree_as_get(api: Api) -> None:
    history(api, {"movies": [ids(INCEPTION)]})

    assert post(api, "/sync/activities", None, status=200) == get(api, "/sync/activities")
