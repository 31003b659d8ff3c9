"""Rewatch sessions (PRO / VIP accounts, `?allow_rewatch=yes`) over HTTP, as the rewatches
guide describes them (the official examples run in tests/contract/goldens/history.py). The
account's plan is seeded through the store: no endpoint changes a plan."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from simkl_server.storage.base import WriteTx
from simkl_server.storage.dialect import statement
from tests.api.library_support import (
    GAME_OF_THRONES,
    INCEPTION,
    history,
    ids,
    unhistory,
)
from tests.conftest import Api

REWATCH = {"allow_rewatch": "yes"}
DAY_MS = 24 * 3600 * 1000
SET_PLAN = statement("UPDATE users SET account_type = :plan WHERE username = :username")


def set_plan(api: Api, plan: str, username: str = "alice") -> None:
    """Give a user a plan (`free`, `pro`, `vip`)."""

    async def work(tx: WriteTx) -> None:
        await tx.conn.execute(SET_PLAN, {"plan": plan, "username": username})

    api.call(api.store.transaction, work)


@pytest.fixture
def vip(api: Api) -> Api:
    """The API as a VIP user."""
    set_plan(api, "vip")
    return api


def sessions(api: Api, simkl: int) -> list[dict[str, Any]]:
    """The item's rewatch rows in all-items (with episodes)."""
    answer = api.get(
        "/sync/all-items",
        params={"allow_rewatch": "yes", "extended": "full", "episode_watched_at": "yes"},
    ).json()
    return [
        row
        for rows in answer.values()
        for row in rows
        if row["is_rewatch"] and (row.get("movie") or row["show"])["ids"]["simkl"] == simkl
    ]


def first_session(vip: Api) -> int:
    """GoT completed, then a session with its first two episodes; the session's id."""
    history(vip, {"shows": [ids(GAME_OF_THRONES)]})
    vip.clock.advance(3 * DAY_MS)
    episodes = [{"number": 1}, {"number": 2}]
    body = {"shows": [ids(GAME_OF_THRONES, seasons=[{"number": 1, "episodes": episodes}])]}
    answer = history(vip, body, params=REWATCH)
    session: int = answer["added"]["statuses"][0]["response"]["rewatch_id"]
    return session


def test_removing_an_item_removes_its_sessions_and_counts_them(vip: Api) -> None:
    first_session(vip)
    answer = unhistory(vip, {"shows": [ids(GAME_OF_THRONES)]})

    assert answer["deleted"] == {
        "movies": 0,
        "shows": 1,
        "episodes": 0,
        "rewatches": 1,
        "rewatch_episodes": 2,
    }
    assert sessions(vip, GAME_OF_THRONES) == []


def test_a_free_account_s_rewatch_write_changes_nothing(api: Api) -> None:
    answer = history(api, {"movies": [ids(INCEPTION)]}, params=REWATCH)

    assert answer["added"] == {"movies": 0, "shows": 0, "episodes": 0, "statuses": []}
    assert api.get("/sync/all-items").json() == {}
    history(api, {"movies": [ids(INCEPTION)]})
    rows = api.get("/sync/all-items", params=REWATCH).json()["movies"]
    assert [("is_rewatch" in row) for row in rows] == [False]  # no rewatch rows for free


def test_a_first_watch_is_a_regular_watch_even_with_the_flag(vip: Api) -> None:
    answer = history(vip, {"movies": [ids(INCEPTION)]}, params=REWATCH)

    assert answer["added"]["statuses"][0]["response"] == {
        "status": "completed",
        "simkl_type": "movie",
        "anime_type": None,
    }
    assert sessions(vip, INCEPTION) == []


def test_a_movie_rewatch_needs_two_days_and_completes_at_once(vip: Api) -> None:
    history(vip, {"movies": [ids(INCEPTION)]})
    vip.clock.advance(DAY_MS)
    too_soon = history(vip, {"movies": [ids(INCEPTION)]}, params=REWATCH)
    vip.clock.advance(2 * DAY_MS)
    again = history(vip, {"movies": [ids(INCEPTION)]}, params=REWATCH)

    assert "rewatch_id" not in too_soon["added"]["statuses"][0]["response"]
    assert again["added"]["movies"] == 1
    (row,) = sessions(vip, INCEPTION)
    assert (row["rewatch_status"], row["last_watched_at"]) == (
        "completed",
        "2026-05-31T20:26:40.000Z",
    )


def test_one_active_session_per_item_and_coverage_completes_it(vip: Api) -> None:
    ours = first_session(vip)
    vip.clock.advance(DAY_MS)
    restart = {"shows": [ids(GAME_OF_THRONES, is_rewatch=True, rewatch_status="active")]}
    history(vip, restart, params=REWATCH)  # resumes the active one: still one session
    assert [row["rewatch_id"] for row in sessions(vip, GAME_OF_THRONES)] == [ours]

    every = [{"number": s} for s in range(1, 9)]
    history(vip, {"shows": [ids(GAME_OF_THRONES, seasons=every)]}, params=REWATCH)

    (row,) = sessions(vip, GAME_OF_THRONES)
    assert (row["rewatch_status"], row["watched_episodes_count"]) == ("completed", 73)


def test_the_same_episode_days_later_opens_a_new_session(vip: Api) -> None:
    first = first_session(vip)
    vip.clock.advance(5 * DAY_MS)
    body = {"shows": [ids(GAME_OF_THRONES, episodes=[{"number": 1}])]}
    answer = history(vip, body, params=REWATCH)

    second = answer["added"]["statuses"][0]["response"]["rewatch_id"]
    rows = {row["rewatch_id"]: row for row in sessions(vip, GAME_OF_THRONES)}
    assert second != first
    assert (rows[first]["rewatch_status"], rows[second]["rewatch_status"]) == ("closed", "active")


def test_rewatch_rows_are_summaries_without_extended_full(vip: Api) -> None:
    ours = first_session(vip)
    rows = vip.get("/sync/all-items/shows", params=REWATCH).json()["shows"]

    canonical, session = rows
    assert canonical["is_rewatch"] is False
    assert copy.deepcopy(session) | {} == session
    assert (session["rewatch_id"], session["watched_episodes_count"], session["last_watched"]) == (
        ours,
        0,
        None,
    )
    assert "seasons" not in session
