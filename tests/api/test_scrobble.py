"""Scrobbling over HTTP on both databases: start, pause and stop sessions, the playbacks they
leave, the three windows (the per-user lock, the one-hour duplicate stop, the two-day rewatch
gap) on the server's clock, and what reads back through the library, history and activities.
The official examples run in tests/contract/goldens/scrobble.py."""

from __future__ import annotations

from collections.abc import Iterator
from functools import partial
from typing import Any

import pytest

from simkl_server.domain import auth
from simkl_server.domain.scrobble import complete_checkins
from simkl_server.storage import catalog as catalog_sql
from simkl_server.storage import library as library_sql
from simkl_server.storage import playbacks as playbacks_sql
from simkl_server.storage.base import WriteTx
from tests.api.library_support import (
    BREAKING_BAD,
    DEMON_SLAYER,
    GODFATHER,
    INCEPTION,
    TERMINATOR_3,
    WALKING_DEAD,
    ids,
)
from tests.api.support import elsewhere
from tests.api.test_rewatches import set_plan
from tests.conftest import START_MS, Api, serve_api
from tests.helpers import StatementLog, assert_simkl_error
from tests.seed import answer, iso_seconds

MINUTE_MS = 60_000
HOUR_MS = 60 * MINUTE_MS
DAY_MS = 24 * HOUR_MS
REWATCH = {"allow_rewatch": "yes"}


def movie(simkl: int, progress: float) -> dict[str, Any]:
    """A scrobble body of a movie."""
    return {"movie": ids(simkl), "progress": progress}


def episode(show: int, season: int, number: int, progress: float) -> dict[str, Any]:
    """A scrobble body of an episode by season and number."""
    return {
        "show": ids(show),
        "episode": {"season": season, "number": number},
        "progress": progress,
    }


def call(api: Api, action: str, body: Any, status: int = 201, **kwargs: Any) -> Any:
    """POST /scrobble/<action>, asserting the status; the answer."""
    return answer(api.post(f"/scrobble/{action}", json=body, **kwargs), status)


def playbacks(
    api: Api, path: str = "/sync/playback", *, token: str = "default", **params: Any
) -> Any:
    """GET the paused playbacks."""
    return answer(api.get(path, params=params, token=token), 200)


def activities(api: Api) -> Any:
    return answer(api.get("/sync/activities"), 200)


# --- Sessions --------------------------------------------------------------------------------


def test_a_start_pause_resume_stop_cycle_reads_back_everywhere(api: Api) -> None:
    started = call(api, "start", movie(INCEPTION, 10))
    assert (started["action"], started["id"], started["progress"]) == ("start", 0, 10)
    assert started["movie"]["ids"]["simkl"] == INCEPTION
    assert playbacks(api) == []

    api.clock.advance(MINUTE_MS)
    paused = call(api, "pause", movie(INCEPTION, 42.5))
    assert (paused["action"], paused["progress"]) == ("pause", 42.5)
    listed = playbacks(api)
    assert [(row["id"], row["progress"], row["type"]) for row in listed] == [
        (paused["id"], 42.5, "movie")
    ]
    assert listed[0]["paused_at"] == "2026-05-28T20:27:40.000Z"
    assert activities(api)["movies"]["playback"] == iso_seconds(START_MS + MINUTE_MS)

    api.clock.advance(MINUTE_MS)
    call(api, "start", movie(INCEPTION, 42.5))  # resumed: the pause is cleared
    assert playbacks(api) == []
    assert activities(api)["movies"]["playback"] == iso_seconds(START_MS + 2 * MINUTE_MS)

    api.clock.advance(MINUTE_MS)
    stopped = call(api, "stop", movie(INCEPTION, 91.25))
    assert (stopped["action"], stopped["progress"]) == ("scrobble", 91.25)
    assert stopped["id"] > 0
    completed = answer(api.get("/sync/all-items/movies/completed"), 200)
    assert [row["movie"]["ids"]["simkl"] for row in completed["movies"]] == [INCEPTION]
    assert completed["movies"][0]["last_watched_at"] == "2026-05-28T20:29:40.000Z"
    assert activities(api)["movies"]["completed"] == iso_seconds(START_MS + 3 * MINUTE_MS)
    assert playbacks(api) == []


def test_a_stop_below_80_is_a_pause(api: Api) -> None:
    stopped = call(api, "stop", movie(INCEPTION, 79.99))
    assert stopped["action"] == "pause"
    assert [row["id"] for row in playbacks(api)] == [stopped["id"]]
    assert answer(api.get("/sync/all-items/movies"), 200) == {"movies": []}


def test_an_episode_stop_marks_that_episode_watched(api: Api) -> None:
    stopped = call(api, "stop", episode(WALKING_DEAD, 1, 2, 95))
    assert stopped["episode"] == {"season": 1, "number": 2, "title": "Episode 2"}
    assert stopped["show"]["ids"]["simkl"] == WALKING_DEAD
    asked = [{"ids": {"simkl": WALKING_DEAD}, "season": 1, "episode": 2}]
    watched = answer(api.post("/sync/watched", json=asked), 200)
    assert watched[0]["result"] is True
    assert activities(api)["tv_shows"]["watching"] is not None


def test_anime_episodes_answer_with_their_tvdb_numbers(api: Api) -> None:
    body = {"anime": ids(DEMON_SLAYER), "episode": {"season": 1, "number": 3}, "progress": 5}
    started = call(api, "start", body)
    assert started["episode"]["tvdb_season"] == 1
    assert started["episode"]["tvdb_number"] == 3
    assert started["anime"]["anime_type"] == "tv"


@pytest.mark.parametrize(
    "media",
    [
        {"ids": {"imdb": "tt1375666"}},
        {"ids": {"tmdb": "27205"}},
        {"title": "Inception", "year": 2010},
        {"ids": {"simkl": 472214, "imdb": "tt0000000"}, "title": "Whatever"},
    ],
    ids=["imdb", "tmdb", "title-year", "simkl-first"],
)
def test_a_movie_is_found_every_way_the_docs_allow(api: Api, media: dict[str, Any]) -> None:
    started = call(api, "start", {"movie": media, "progress": 1})
    assert started["movie"]["ids"]["simkl"] == INCEPTION


def test_an_episode_is_found_by_its_tvdb_id_before_its_numbers(api: Api) -> None:
    # Game of Thrones S01E01 carries TVDB episode id 3254641 in the test catalog.
    body = {
        "show": {"ids": {"tvdb": "121361"}},
        "episode": {"season": 5, "number": 5, "ids": {"tvdb": 3254641}},
        "progress": 1,
    }
    started = call(api, "start", body)
    assert (started["episode"]["season"], started["episode"]["number"]) == (1, 1)


@pytest.mark.parametrize(
    ("body", "status", "error"),
    [
        ({}, 400, "empty_field"),
        ({"progress": 10}, 400, "empty_field"),
        ({"movie": ids(INCEPTION)}, 400, "empty_field"),
        ({"show": ids(WALKING_DEAD), "progress": 1}, 400, "empty_field"),
        ({"movie": ids(INCEPTION), "progress": 100.5}, 400, "wrong_parameter"),
        ({"movie": ids(INCEPTION), "progress": -1}, 400, "wrong_parameter"),
        ({"movie": ids(INCEPTION), "progress": "50"}, 400, "wrong_parameter"),
        ({"movie": ids(INCEPTION), "progress": True}, 400, "wrong_parameter"),
        ({"movie": "Inception", "progress": 1}, 400, "wrong_parameter"),
        (
            {"movie": ids(INCEPTION), "show": ids(WALKING_DEAD), "progress": 1},
            400,
            "wrong_parameter",
        ),
        ({"movie": ids(999999999), "progress": 1}, 404, "id_err"),
        (episode(WALKING_DEAD, 1, 99, 1), 404, "id_err"),
        (
            {"show": ids(WALKING_DEAD), "episode": {"season": 1, "number": -1}, "progress": 1},
            400,
            "wrong_parameter",
        ),
    ],
)
@pytest.mark.parametrize("action", ["start", "pause", "stop"])
def test_bad_bodies_are_refused_and_change_nothing(
    api: Api, action: str, body: Any, status: int, error: str
) -> None:
    assert_simkl_error(api.post(f"/scrobble/{action}", json=body), status, error)
    assert playbacks(api) == []
    assert answer(api.get("/sync/all-items"), 200) == {}


def test_scrobbles_need_a_token(api: Api) -> None:
    assert_simkl_error(
        api.post("/scrobble/start", json=movie(INCEPTION, 1), token=None), 401, "user_token_failed"
    )


# --- The three windows -------------------------------------------------------------------------


def test_a_duplicate_stop_within_the_hour_is_409_and_records_nothing(api: Api) -> None:
    call(api, "stop", movie(INCEPTION, 95))
    api.clock.advance(59 * MINUTE_MS)
    response = api.post("/scrobble/stop", json=movie(INCEPTION, 99))
    assert response.status_code == 409, response.text
    assert response.json() == {
        "watched_at": iso_seconds(START_MS),
        "expires_at": iso_seconds(START_MS + HOUR_MS),
    }
    assert activities(api)["movies"]["completed"] == iso_seconds(START_MS)

    api.clock.advance(MINUTE_MS)
    assert call(api, "stop", movie(INCEPTION, 99))["action"] == "scrobble"


def test_a_start_between_two_stops_does_not_reopen_the_window(api: Api) -> None:
    call(api, "stop", movie(INCEPTION, 95))
    api.clock.advance(MINUTE_MS)
    call(api, "start", movie(INCEPTION, 0))
    assert api.post("/scrobble/stop", json=movie(INCEPTION, 95)).status_code == 409


def hold_lock(api: Api, *, until: int, username: str = "alice") -> None:
    """Another process's scrobble of that user, still running."""
    user_id = api.call(api.store.read.accounts.find_user, username)
    assert user_id is not None

    async def take(tx: WriteTx) -> bool:
        return await tx.playbacks.acquire(user_id, now=api.clock.now_ms(), until=until)

    assert api.call(api.store.transaction, take)


@pytest.fixture
def no_wait(catalog_database: str) -> Iterator[Api]:
    """The app with scrobbles that never wait for the user's lock."""
    with serve_api(catalog_database, scrobble_lock_wait_ms=0) as api:
        yield api


def test_a_scrobble_colliding_with_a_running_one_is_400_rate_limit(no_wait: Api) -> None:
    api = no_wait
    hold_lock(api, until=api.clock.now_ms() + 20_000)
    for action in ("start", "pause", "stop"):
        assert_simkl_error(
            api.post(f"/scrobble/{action}", json=movie(INCEPTION, 90)), 400, "RATE_LIMIT"
        )
    assert playbacks(api) == []
    other = api.new_user("bob")
    assert call(api, "start", movie(INCEPTION, 1), token=other)["action"] == "start"

    api.clock.advance(20_000)  # a holder that died keeps the lock 20 seconds at most
    assert call(api, "pause", movie(INCEPTION, 50))["action"] == "pause"


def test_the_lock_is_given_back_after_each_scrobble_and_each_failure(no_wait: Api) -> None:
    api = no_wait
    call(api, "start", movie(INCEPTION, 1))
    assert_simkl_error(api.post("/scrobble/start", json=movie(1, 1)), 404, "id_err")
    call(api, "stop", movie(INCEPTION, 95))
    assert api.post("/scrobble/stop", json=movie(INCEPTION, 95)).status_code == 409
    assert call(api, "pause", movie(TERMINATOR_3, 5))["action"] == "pause"


def test_a_scrobble_takes_its_lock_and_reads_its_playbacks_in_one_statement_each(
    api: Api, statements: StatementLog, backend: str
) -> None:
    call(api, "start", movie(INCEPTION, 10))
    for action, progress in (("pause", 50), ("start", 60), ("stop", 95)):
        sent = statements.during(partial(call, api, action, movie(INCEPTION, progress)))
        # PostgreSQL: the lock in one statement of its own, not a transaction of four round
        # trips; SQLite: in the user's write transaction.
        if backend == "postgres":
            assert sent[0] == playbacks_sql.ACQUIRE_AT_ONCE
            assert playbacks_sql.ACQUIRE not in sent
        else:
            assert playbacks_sql.ACQUIRE in sent
        assert sent.count(playbacks_sql.LIVE_AND_ONE) == 1
        assert playbacks_sql.DUE_CHECKINS not in sent


def test_a_stop_reads_the_library_entry_once_and_looks_nothing_up_again(
    api: Api, statements: StatementLog
) -> None:
    call(api, "start", movie(INCEPTION, 10))
    sent = statements.during(lambda: call(api, "stop", movie(INCEPTION, 95)))
    assert sent.count(library_sql.ENTRIES) == 1
    assert catalog_sql.STAMP not in sent
    assert not [s for s in sent if s in catalog_sql.FIND.values()]
    assert answer(api.get("/sync/all-items/movies"), 200)["movies"][0]["status"] == "completed"


def test_a_token_revoked_elsewhere_scrobbles_nothing_and_leaves_the_lock_free(
    no_wait: Api, catalog_database: str
) -> None:
    api = no_wait
    call(api, "start", movie(INCEPTION, 10))
    elsewhere(api, catalog_database, lambda other: auth.revoke_token(other, token=api.token))
    refused = api.post("/scrobble/pause", json=movie(INCEPTION, 50))
    assert_simkl_error(refused, 401, "user_token_failed")
    api.token = api.call(
        auth.issue_token, api.store, api.keys, username="alice", client_id=api.client_id
    )
    assert playbacks(api) == []
    assert call(api, "pause", movie(INCEPTION, 50))["action"] == "pause"


def test_another_tokens_revocation_leaves_scrobbles_working(
    no_wait: Api, catalog_database: str
) -> None:
    api = no_wait
    call(api, "start", movie(INCEPTION, 10))
    other = api.new_user("bob")
    elsewhere(api, catalog_database, lambda store: auth.revoke_token(store, token=other))
    assert call(api, "pause", movie(INCEPTION, 50))["action"] == "pause"
    assert call(api, "stop", movie(INCEPTION, 95))["action"] == "scrobble"


def test_rewatch_status_on_a_free_account_is_pro_required(api: Api) -> None:
    stopped = call(api, "stop", movie(INCEPTION, 95), params=REWATCH)
    assert (stopped["rewatch_id"], stopped["rewatch_status"]) == (None, "pro_required")
    assert answer(api.get("/sync/all-items/movies/completed"), 200)["movies"]


def test_rewatches_of_a_vip_account(api: Api) -> None:
    set_plan(api, "vip")
    first = call(api, "stop", movie(GODFATHER, 95), params=REWATCH)
    assert (first["rewatch_id"], first["rewatch_status"]) == (None, "first_watch")

    api.clock.advance(2 * HOUR_MS)  # past the duplicate-stop hour, inside the two-day gap
    soon = call(api, "stop", movie(GODFATHER, 95), params=REWATCH)
    assert (soon["action"], soon["rewatch_status"]) == ("scrobble", "too_soon")

    api.clock.advance(2 * DAY_MS)
    again = call(api, "stop", movie(GODFATHER, 95), params=REWATCH)
    assert again["rewatch_status"] == "completed"
    assert isinstance(again["rewatch_id"], int)
    rows = answer(api.get("/sync/all-items/movies", params=REWATCH), 200)["movies"]
    assert [row.get("rewatch_id") for row in rows if row.get("is_rewatch")] == [again["rewatch_id"]]


def test_a_planned_item_is_not_eligible_for_a_rewatch(api: Api) -> None:
    set_plan(api, "pro")
    answer(api.post("/sync/add-to-list", json={"movies": [ids(INCEPTION, to="plantowatch")]}), 201)
    stopped = call(api, "stop", movie(INCEPTION, 95), params=REWATCH)
    assert stopped["rewatch_status"] == "not_eligible"


def test_without_the_flag_a_stop_has_no_rewatch_keys(api: Api) -> None:
    assert "rewatch_status" not in call(api, "stop", movie(INCEPTION, 95))
    assert "rewatch_status" not in call(api, "stop", movie(TERMINATOR_3, 10), params=REWATCH)


# --- The playback list and its removal ---------------------------------------------------------


def pause_three(api: Api) -> dict[str, int]:
    """Inception, then Walking Dead S01E02, then Breaking Bad S01E01, a minute apart."""
    made = {}
    for name, body in (
        ("inception", movie(INCEPTION, 30)),
        ("walking", episode(WALKING_DEAD, 1, 2, 45.5)),
        ("breaking", episode(BREAKING_BAD, 1, 1, 12)),
    ):
        made[name] = call(api, "pause", body)["id"]
        api.clock.advance(MINUTE_MS)
    return made


def test_the_list_is_newest_first_and_filters_by_type_date_and_limit(api: Api) -> None:
    made = pause_three(api)
    everything = [row["id"] for row in playbacks(api)]
    assert everything == [made["breaking"], made["walking"], made["inception"]]
    assert [row["id"] for row in playbacks(api, "/sync/playback/movies")] == [made["inception"]]
    assert [row["id"] for row in playbacks(api, "/sync/playback/episodes")] == [
        made["breaking"],
        made["walking"],
    ]
    assert [row["id"] for row in playbacks(api, "/sync/playback/anything")] == everything
    middle = iso_seconds(START_MS + MINUTE_MS)
    assert [row["id"] for row in playbacks(api, date_from=middle)] == everything[:2]
    assert [row["id"] for row in playbacks(api, date_to=middle)] == everything[2:]
    assert [row["id"] for row in playbacks(api, limit="1")] == everything[:1]
    assert [row["id"] for row in playbacks(api, limit="0")] == everything[:1]
    assert_simkl_error(
        api.get("/sync/playback", params={"date_from": "soon"}), 400, "wrong_parameter"
    )
    show_row = playbacks(api, "/sync/playback/episodes")[1]
    assert show_row["episode"] == {"season": 1, "episode": 2, "title": "Episode 2"}
    assert show_row["show"]["title"] == "The Walking Dead"


def test_one_playback_per_item_the_latest_pause(api: Api) -> None:
    first = call(api, "pause", movie(INCEPTION, 20))
    api.clock.advance(MINUTE_MS)
    second = call(api, "pause", movie(INCEPTION, 25))
    assert first["id"] == second["id"]
    assert [(row["progress"]) for row in playbacks(api)] == [25]


def test_hide_watched_hides_playbacks_overtaken_by_a_watch(api: Api) -> None:
    call(api, "pause", movie(INCEPTION, 20))
    api.clock.advance(MINUTE_MS)
    answer(api.post("/sync/history", json={"movies": [ids(INCEPTION)]}), 201)
    assert playbacks(api) == []
    assert len(playbacks(api, hide_watched="false")) == 1
    api.clock.advance(MINUTE_MS)
    call(api, "pause", movie(INCEPTION, 10))  # a re-viewing, paused after the watch
    assert [row["progress"] for row in playbacks(api)] == [10]


@pytest.mark.parametrize(("plan", "days"), [("free", 7), ("pro", 30), ("vip", 90)])
def test_playbacks_are_kept_as_long_as_the_plan_says(api: Api, plan: str, days: int) -> None:
    set_plan(api, plan)
    call(api, "pause", movie(INCEPTION, 20))
    api.clock.advance(days * DAY_MS)
    assert len(playbacks(api)) == 1
    api.clock.advance(1)
    assert playbacks(api) == []


def test_deleting_a_playback(api: Api) -> None:
    made = pause_three(api)
    response = api.request("DELETE", f"/sync/playback/{made['walking']}")
    assert response.status_code == 204
    assert response.content == b""
    assert [row["id"] for row in playbacks(api)] == [made["breaking"], made["inception"]]
    assert activities(api)["tv_shows"]["playback"] == iso_seconds(START_MS + 3 * MINUTE_MS)
    again = api.request("DELETE", f"/sync/playback/{made['walking']}")
    assert_simkl_error(again, 404, "empty")


@pytest.mark.parametrize(
    "segment", ["0", "notanumber", "abc123", "-5", "1.5", "99999999999999999999"]
)
def test_deleting_by_something_that_is_no_id_is_url_failed(api: Api, segment: str) -> None:
    pause_three(api)
    assert_simkl_error(api.request("DELETE", f"/sync/playback/{segment}"), 404, "url_failed")
    assert len(playbacks(api)) == 3


def test_one_user_never_reaches_another_users_playbacks(api: Api) -> None:
    made = pause_three(api)
    other = api.new_user("bob")
    assert playbacks(api, token=other) == []
    response = api.request("DELETE", f"/sync/playback/{made['inception']}", token=other)
    assert_simkl_error(response, 404, "empty")
    assert len(playbacks(api)) == 3


# --- Check-in ----------------------------------------------------------------------------------


def sweep(api: Api) -> int:
    """The server's background sweep, run once now."""
    return api.call(complete_checkins, api.store)


def completed_movies(api: Api, **params: Any) -> list[Any]:
    rows: list[Any] = answer(api.get("/sync/all-items/movies/completed", params=params), 200).get(
        "movies", []
    )
    return rows


def test_a_checkin_completes_on_its_own_after_the_runtime(api: Api) -> None:
    checked = call(api, "checkin", {"movie": ids(GODFATHER)})  # 175 minutes in the catalog
    assert (checked["action"], checked["progress"]) == ("checkin", 0)
    assert checked["id"] > 0
    assert playbacks(api) == []
    api.clock.advance(175 * MINUTE_MS - 1)
    assert sweep(api) == 0
    assert completed_movies(api) == []
    api.clock.advance(1)
    assert sweep(api) == 1
    rows = completed_movies(api)
    assert [row["movie"]["ids"]["simkl"] for row in rows] == [GODFATHER]
    assert rows[0]["last_watched_at"] == "2026-05-28T23:21:40.000Z"
    assert activities(api)["movies"]["completed"] == "2026-05-28T23:21:40Z"
    assert sweep(api) == 0


def test_a_checkin_without_a_known_runtime_lasts_two_hours_and_matures_on_the_next_call(
    api: Api,
) -> None:
    call(api, "checkin", {"movie": ids(INCEPTION), "progress": 12.5})
    api.clock.advance(2 * HOUR_MS)
    call(api, "pause", movie(TERMINATOR_3, 5))  # any scrobble of the user completes it first
    assert [row["movie"]["ids"]["simkl"] for row in completed_movies(api)] == [INCEPTION]


def test_the_playback_list_completes_due_checkins_first(api: Api) -> None:
    call(api, "checkin", episode(WALKING_DEAD, 1, 1, 0))
    api.clock.advance(45 * MINUTE_MS)
    assert playbacks(api) == []
    asked = [{"ids": {"simkl": WALKING_DEAD}, "season": 1, "episode": 1}]
    assert answer(api.post("/sync/watched", json=asked), 200)[0]["result"] is True


def test_deleting_a_checkin_cancels_it(api: Api) -> None:
    checked = call(api, "checkin", {"movie": ids(GODFATHER)})
    assert api.request("DELETE", f"/sync/playback/{checked['id']}").status_code == 204
    api.clock.advance(DAY_MS)
    assert sweep(api) == 0
    assert completed_movies(api) == []


def test_a_new_checkin_replaces_one_that_has_not_reached_80_percent(api: Api) -> None:
    call(api, "checkin", {"movie": ids(GODFATHER)})
    api.clock.advance(10 * MINUTE_MS)
    call(api, "checkin", {"movie": ids(INCEPTION)})
    api.clock.advance(119 * MINUTE_MS)
    sweep(api)
    assert completed_movies(api) == []
    api.clock.advance(MINUTE_MS)
    sweep(api)
    assert [row["movie"]["ids"]["simkl"] for row in completed_movies(api)] == [INCEPTION]


def test_a_start_marks_watched_a_previous_session_that_reached_80_percent(api: Api) -> None:
    call(api, "start", movie(GODFATHER, 70))  # 175 minutes: 30 more minutes make 87 %
    api.clock.advance(30 * MINUTE_MS)
    call(api, "start", movie(INCEPTION, 0))
    assert [row["movie"]["ids"]["simkl"] for row in completed_movies(api)] == [GODFATHER]

    api.clock.advance(MINUTE_MS)
    call(api, "start", movie(TERMINATOR_3, 0))  # Inception at 0 %, no runtime: just ends
    assert [row["movie"]["ids"]["simkl"] for row in completed_movies(api)] == [GODFATHER]


def test_a_checkin_keeps_its_rewatch_opt_in_until_it_matures(api: Api) -> None:
    set_plan(api, "vip")
    call(api, "stop", movie(GODFATHER, 95))
    api.clock.advance(3 * DAY_MS)
    checked = call(api, "checkin", {"movie": ids(GODFATHER)}, params=REWATCH)
    assert "rewatch_status" not in checked
    set_plan(api, "free")  # the plan was checked when checking in
    api.clock.advance(175 * MINUTE_MS)
    assert sweep(api) == 1
    set_plan(api, "vip")  # reading sessions back is for PRO and VIP accounts
    rows = completed_movies(api, allow_rewatch="yes")
    assert [row.get("is_rewatch", False) for row in rows].count(True) == 1


def test_an_episode_is_found_by_its_anidb_id(api: Api) -> None:
    body = {"anime": {"ids": {"mal": "1"}}, "episode": {"ids": {"anidb": "1565"}}, "progress": 47}
    checked = call(api, "checkin", body)
    assert (checked["episode"]["season"], checked["episode"]["number"]) == (1, 1)
