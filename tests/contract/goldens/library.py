"""Golden checkers of `GET /sync/all-items/{type}/{status}`.

The examples come from one library read under different flags. Each checker builds, through
the API and at the times the example shows, the part of that library its example shows (in time
order: a user's write never goes back in time), then reads it with the example's call. The
account is VIP where the example reads rewatch sessions.

Where an example cannot be reproduced as printed, the checker normalises that one part:

- times: the examples print seconds (`…T00:13:09Z`); library rows carry milliseconds (spec §7
  "Timestamps in responses"), so times are compared as instants;
- ids: the examples show different subsets of the same item's ids (Cowboy Bebop's `anilist`
  and `kitsu`, The Godfather's `tvdb`, in some examples and not others); a row's `ids` must
  contain every id the example shows, and may carry more;
- episode lists: the examples shorten them (two episodes of a completed 26-episode anime); a
  row must list every season and episode the example shows, with the same details, and may
  list more;
- rewatch session ids are assigned by this server: the example's (7482, 7484, 2368) stand for
  the sessions the set-up created, in order;
- The Walking Dead, watching with every episode but S01E01 watched: the examples name S01E01
  as `last_watched`, the one episode not watched; here `last_watched` is the latest episode
  watched. The delta example also leaves out what its own `extended=full` asks for (The
  Walking Dead's episode list, every item's `runtime`); here they are given.

The shared 400 example is a read whose episode rows pass `max_read_episodes`.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime
from typing import Any

from tests.conftest import Api, serve_api
from tests.contract.goldens.base import Context, Example, Golden, without_message
from tests.contract.goldens.history import history, ids, set_plan
from tests.helpers import assert_simkl_error
from tests.seed import answer

WALKING_DEAD, GAME_OF_THRONES, COWBOY_BEBOP, FUTURAMA = 2090, 17465, 37089, 3407
GODFATHER, PULP_FICTION, CHARMED = 53434, 54130, 297
REWATCH = {"allow_rewatch": "yes"}
_STAMP = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)")


def ms(text: str) -> int:
    """Epoch milliseconds of an ISO-8601 time."""
    return int(datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp() * 1000)


def at(api: Api, when: str) -> None:
    """Move the test clock to `when`."""
    api.clock.current_ms = ms(when)


def _futurama(api: Api) -> None:
    at(api, "2014-11-12T18:42:53Z")
    history(api, {"shows": [ids(FUTURAMA, status="watching")]})
    at(api, "2026-05-04T19:40:59Z")
    seasons: list[dict[str, Any]] = [{"number": n} for n in range(1, 8)]
    seasons.append({"number": 8, "episodes": [{"number": 1}, {"number": 2}]})
    history(api, {"shows": [ids(FUTURAMA, seasons=seasons)]})


def _charmed(api: Api) -> None:
    at(api, "2018-02-24T23:55:13Z")
    history(api, {"shows": [ids(CHARMED, status="plantowatch")]})


def _godfather(api: Api) -> None:
    at(api, "2026-04-10T20:13:02Z")
    history(api, {"movies": [ids(GODFATHER, watched_at="1994-09-01T16:00:00Z")]})


def _godfather_rewatch(api: Api) -> None:
    at(api, "2026-04-11T11:44:27Z")
    body = {"movies": [ids(GODFATHER, watched_at="2026-04-11T11:30:00Z")]}
    history(api, body, params=REWATCH)


def _pulp_fiction(api: Api) -> None:
    at(api, "2026-05-14T06:49:56Z")
    history(api, {"movies": [ids(PULP_FICTION, status="dropped")]})


def _bebop(api: Api) -> None:
    at(api, "2026-05-15T00:13:09Z")
    history(api, {"shows": [ids(COWBOY_BEBOP)]})


def _got(api: Api) -> None:
    at(api, "2026-05-15T00:13:18Z")
    history(api, {"shows": [ids(GAME_OF_THRONES)]})


def _walking_dead(api: Api) -> None:
    """Every episode but the first, two of them at the times the example shows."""
    at(api, "2026-05-15T00:35:15Z")
    first = {
        "number": 1,
        "episodes": [
            {"number": 2, "watched_at": "2026-05-15T00:32:20Z"},
            {"number": 3, "watched_at": "2026-05-15T00:32:21Z"},
            *({"number": n} for n in range(4, 7)),
        ],
    }
    history(api, {"shows": [ids(WALKING_DEAD, seasons=[first, *map(_season, range(2, 12))])]})


def _season(number: int) -> dict[str, int]:
    return {"number": number}


def _bebop_rewatch(api: Api) -> None:
    at(api, "2026-05-16T14:02:10Z")
    body = {"shows": [ids(COWBOY_BEBOP, episodes=[{"number": 1}, {"number": 2}])]}
    history(api, body, params=REWATCH)


def _got_rewatch(api: Api) -> None:
    at(api, "2026-05-16T14:02:10Z")
    first = {"number": 1, "episodes": [{"number": 1}, {"number": 2}]}
    history(api, {"shows": [ids(GAME_OF_THRONES, seasons=[first])]}, params=REWATCH)


def _got_rewatch_completed(api: Api) -> None:
    """The session resumed with two more episodes and completed, the show rated 10."""
    at(api, "2026-05-16T14:20:16Z")
    episodes = [
        {"number": 3, "watched_at": "2026-05-16T19:00:00Z"},
        {"number": 4, "watched_at": "2026-05-16T20:00:00Z"},
    ]
    item = ids(GAME_OF_THRONES, rating=10, rewatch_status="completed", is_rewatch=True)
    body = {"shows": [{**item, "seasons": [{"number": 1, "episodes": episodes}]}]}
    history(api, body, params=REWATCH)


# Everything the examples show, in the order it happened.
TIMELINE: list[Callable[[Api], None]] = [
    _futurama,
    _charmed,
    _godfather,
    _godfather_rewatch,
    _pulp_fiction,
    _bebop,
    _got,
    _walking_dead,
    _bebop_rewatch,
    _got_rewatch,
    _got_rewatch_completed,
]
ALL_FLAGS = {
    "extended": "full_anime_seasons",
    "memos": "yes",
    "next_watch_info": "yes",
    "episode_watched_at": "yes",
    "episode_tvdb_id": "yes",
    "episode_runtime": "yes",
    "include_all_episodes": "yes",
    "allow_rewatch": "yes",
}
FULL = {"extended": "full", "episode_watched_at": "yes"}
# Each example: its call (path and query) and the part of the library it shows.
CALLS: dict[str, tuple[str, dict[str, str], list[Callable[[Api], None]]]] = {
    "all_modifiers_inspection_only": (
        "/sync/all-items",
        ALL_FLAGS,
        [_godfather, _godfather_rewatch, _bebop, _got, _bebop_rewatch, _got_rewatch],
    ),
    "anime_with_mapped_tvdb_seasons": (
        "/sync/all-items/anime/completed",
        {"extended": "full_anime_seasons"},
        [_bebop],
    ),
    "extended_full_with_seasons": (
        "/sync/all-items/shows/watching",
        {"extended": "full", "episode_watched_at": "yes", "episode_runtime": "yes"},
        [_walking_dead],
    ),
    "ids_only_with_externals": (
        "/sync/all-items/movies/completed",
        {"extended": "ids_only"},
        [_godfather],
    ),
    "movies_completed_filtered": ("/sync/all-items/movies/completed", {}, [_godfather]),
    "phase1_initial_full_pull": ("/sync/all-items", {}, [_charmed, _bebop]),
    "phase2_incremental_delta": (
        "/sync/all-items",
        {"date_from": "2026-05-14T00:00:00Z", **FULL},
        [_charmed, _godfather, _pulp_fiction, _bebop, _walking_dead],
    ),
    "rewatches_via_allow_rewatch": (
        "/sync/all-items/all/completed",
        {"allow_rewatch": "yes", **FULL},
        [s for s in TIMELINE if s not in {_futurama, _charmed, _pulp_fiction, _walking_dead}],
    ),
    "simkl_ids_only_minimal": (
        "/sync/all-items",
        {"extended": "simkl_ids_only"},
        [_charmed, _godfather, _bebop],
    ),
    "watching_with_next_to_watch_info": (
        "/sync/all-items/shows/watching",
        {"next_watch_info": "yes"},
        [_futurama],
    ),
}


def all_items_answers(context: Context, example: Example) -> None:
    """The example's library, read with the example's call."""
    if example.status == "400":
        too_many_episodes(context, example)
        return
    assert example.name is not None
    path, params, steps = CALLS[example.name]
    api = context.api
    at(api, "2014-01-01T00:00:00Z")  # a user older than anything the example shows
    api.token = api.new_user("golden")
    if params.get("allow_rewatch") == "yes":
        set_plan(api, "vip", "golden")
    for step in sorted(steps, key=TIMELINE.index):
        step(api)
    ours = answer(api.get(path, params=params), 200)
    expected = _as_ours(example.name, example.response, ours)
    example.check(_instants(like(ours, expected)), _instants(expected))


def _as_ours(name: str, expected: dict[str, Any], ours: dict[str, Any]) -> dict[str, Any]:
    """The example with this server's rewatch ids, and with The Walking Dead's `last_watched`
    (and, in the delta, its episode list) as this server gives them (see the module's
    docstring)."""
    rewatch_ids: dict[int, list[int]] = {}
    for row in (row for rows in ours.values() for row in rows if row.get("is_rewatch")):
        rewatch_ids.setdefault(_simkl(row), []).append(row["rewatch_id"])
    result: dict[str, Any] = {}
    for bucket, rows in expected.items():
        result[bucket] = []
        for shown in rows:
            row = dict(shown)
            if row.get("is_rewatch"):
                row["rewatch_id"] = rewatch_ids[_simkl(row)].pop(0)
            if (row.get("show") or {}).get("ids", {}).get("simkl") == WALKING_DEAD:
                ours_row = next(
                    r for r in ours["shows"] if r["show"]["ids"]["simkl"] == WALKING_DEAD
                )
                row["last_watched"] = ours_row["last_watched"]
                if name == "phase2_incremental_delta":
                    row["seasons"] = ours_row["seasons"]
            if name == "phase2_incremental_delta":
                media = "movie" if "movie" in row else "show"
                row[media] = {**row[media], "runtime": _media(ours, _simkl(row))["runtime"]}
            result[bucket].append(row)
    return result


def _simkl(row: dict[str, Any]) -> int:
    simkl: int = (row.get("movie") or row["show"])["ids"]["simkl"]
    return simkl


def _media(answer: dict[str, Any], simkl: int) -> dict[str, Any]:
    """The media object of a row of ours."""
    row = next(row for rows in answer.values() for row in rows if _simkl(row) == simkl)
    media: dict[str, Any] = row.get("movie") or row["show"]
    return media


def like(ours: Any, theirs: Any, key: str = "") -> Any:
    """Ours, with `ids` and episode lists cut to what the example shows (after checking they
    hold it), so the comparison that follows is exact everywhere else."""
    if isinstance(ours, dict) and isinstance(theirs, dict):
        if key == "ids":
            assert theirs.keys() <= ours.keys(), (ours, theirs)
            return {name: ours[name] for name in theirs}
        return {name: like(value, theirs.get(name), name) for name, value in ours.items()}
    if isinstance(ours, list) and isinstance(theirs, list):
        if key in {"seasons", "episodes"}:
            shown = {entry["number"] for entry in theirs}
            kept = [entry for entry in ours if entry["number"] in shown]
            assert len(kept) == len(theirs), (ours, theirs)
            return [like(mine, other, "") for mine, other in zip(kept, theirs, strict=True)]
        if len(ours) == len(theirs):
            return [like(mine, other, "") for mine, other in zip(ours, theirs, strict=True)]
    return ours


def _instants(value: Any) -> Any:
    """Every ISO-8601 time as epoch milliseconds."""
    if isinstance(value, dict):
        return {key: _instants(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_instants(item) for item in value]
    if isinstance(value, str) and _STAMP.fullmatch(value):
        return ms(value)
    return value


def too_many_episodes(context: Context, example: Example) -> None:
    """400 max_items: a full read past the server's `max_read_episodes`."""
    database: str = context.request.getfixturevalue("catalog_database")
    with serve_api(database, max_read_episodes=72) as api:
        history(api, {"shows": [ids(GAME_OF_THRONES)]})  # 73 episodes
        params = {"extended": "full", "include_all_episodes": "yes"}
        response = api.get("/sync/all-items", params=params)
        body = assert_simkl_error(response, 400, example.response["error"])
        assert body["message"].startswith("Too many episodes")
        example.check(without_message(body), without_message(example.response))


GOLDENS = {"get-sync-all-items-type-status": Golden(all_items_answers, {"400": all_items_answers})}
