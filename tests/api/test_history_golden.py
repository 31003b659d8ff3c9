"""Golden tests of POST /sync/history and /sync/history/remove: every named example of Simkl's
official OpenAPI, sent through the real HTTP stack and compared with the documented answer.

Examples that describe a change of existing state get that state first, through the API
(PRIOR_*: the user's library before the example's request). What each example leaves behind is
read back through /sync/all-items.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.api import test_rewatch_golden as rewatch
from tests.api.library_support import (
    BREAKING_BAD,
    DEMON_SLAYER,
    LAST_OF_US,
    WALKING_DEAD,
    history,
    ids,
    load_official,
    paired_examples,
    unhistory,
)
from tests.conftest import Api

ADD = load_official("post-sync-history")
REMOVE = load_official("post-sync-history-remove")

# The library each example's counts presuppose: `shows: 0` means the show was already on the
# list it ends in; `completed` after one episode means every other episode was watched.
PRIOR_ADD: dict[str, list[tuple[str, dict[str, Any]]]] = {
    "add_anime_episode": [("/sync/history", {"shows": [ids(DEMON_SLAYER, status="watching")]})],
    "add_show_episodes_via_seasons": [
        ("/sync/history", {"shows": [ids(WALKING_DEAD, status="watching")]})
    ],
    "add_show_full_season": [("/sync/history", {"shows": [ids(WALKING_DEAD, status="watching")]})],
    "mixed_types_one_call": [
        ("/sync/history", {"shows": [ids(WALKING_DEAD)]}),
        (
            "/sync/history/remove",
            {"shows": [ids(WALKING_DEAD, seasons=[{"number": 1, "episodes": [{"number": 1}]}])]},
        ),
    ],
}
# Rewatch sessions are the subject of their own examples (PRO / VIP accounts, allow_rewatch):
# tests/api/test_rewatch_golden.py runs those.
REWATCH_EXAMPLES = {"rewatch_explicit_flag", "rewatch_max_info", "rewatch_with_allow_rewatch_query"}


@pytest.mark.parametrize(
    ("name", "request_body", "expected"),
    [p for p in paired_examples(ADD, "201") if p.id not in REWATCH_EXAMPLES],
)
def test_add_examples(api: Api, name: str, request_body: Any, expected: Any) -> None:
    for path, body in PRIOR_ADD.get(name, []):
        api.post(path, json=body).raise_for_status()
    assert history(api, request_body) == expected


def test_add_examples_leave_what_they_report(api: Api) -> None:
    """The realistic batch, read back: each item on the list the answer named, with the
    episodes it counted."""
    example = ADD["request"]["examples"]["realistic_batch"]
    history(api, example)
    rows = _rows(api)
    assert rows[LAST_OF_US]["status"] == "watching"
    assert rows[LAST_OF_US]["watched_episodes_count"] == 3
    assert rows[BREAKING_BAD]["status"] == "completed"
    assert rows[BREAKING_BAD]["watched_episodes_count"] == 62
    assert rows[BREAKING_BAD]["user_rating"] == 10


# Each removal example's items are first in the library, with the episodes it unmarks.
PRIOR_REMOVE: dict[str, dict[str, Any]] = {
    "anime_under_shows": {"shows": [ids(DEMON_SLAYER)]},
    "bulk_mixed": {"movies": [ids(53536)], "shows": [ids(WALKING_DEAD)]},
    "remove_entire_show": {"shows": [ids(WALKING_DEAD)]},
    "remove_movie_entirely": {"movies": [ids(53536)]},
    "remove_movie_history": {"movies": [ids(752138)]},
    "remove_show_episode": {"shows": [ids(WALKING_DEAD)]},
    "remove_specific_episodes": {"shows": [ids(WALKING_DEAD)]},
    "remove_whole_season": {"shows": [ids(WALKING_DEAD)]},
}
# These two show the answer a PRO / VIP account gets (rewatch counters, `not_found.episodes`):
# tests/api/test_rewatch_golden.py runs them.
PRO_REMOVE = {"remove_movie_history", "remove_show_episode"}


@pytest.mark.parametrize(
    ("name", "request_body", "expected"),
    [p for p in paired_examples(REMOVE, "201") if p.id not in PRO_REMOVE],
)
def test_remove_examples(api: Api, name: str, request_body: Any, expected: Any) -> None:
    if name in PRIOR_REMOVE:
        history(api, PRIOR_REMOVE[name])
    assert unhistory(api, request_body) == expected
    assert unhistory(api, request_body)["deleted"] == {
        "movies": 0,
        "shows": 0,
        "episodes": 0,
    }, "a removal repeated finds nothing left to remove"


def _rows(api: Api) -> dict[int, dict[str, Any]]:
    response = api.get("/sync/all-items")
    assert response.status_code == 200, response.text
    return {
        (row.get("movie") or row["show"])["ids"]["simkl"]: row
        for rows in response.json().values()
        for row in rows
    }


def test_every_named_example_is_run_here_or_with_the_rewatches() -> None:
    rewatch_tests = {name.removeprefix("test_") for name in dir(rewatch)}
    assert rewatch_tests >= REWATCH_EXAMPLES
    assert {p.id for p in rewatch.PRO_REMOVE} == PRO_REMOVE
    assert set(ADD["request"]["examples"]) == set(ADD["responses"]["201"]["examples"])
    assert set(REMOVE["request"]["examples"]) == set(REMOVE["responses"]["201"]["examples"])
