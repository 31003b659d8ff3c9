"""Golden tests: every example of Simkl's official OpenAPI for the operations this server
implements, and every example payload of the spec's ratings and activities sections, sent
through the real HTTP stack and compared with the documented answer.

Examples are compared exactly. Where an example cannot be reproduced as printed, the test
says why next to the one part it normalises:

- the unnamed `POST /sync/ratings` example is the legacy one: it is listed under 200 and its
  echoes carry no `type`; the current docs answer 201 and echo `type` (spec §7, "Echo"), as
  every named example does;
- `fresh_user` of `/sync/activities` shows `settings.all: null`; this server reports the
  account's creation time there (spec §7, "`settings.all` for a user who never changed
  settings"), so `settings.all` and the top-level `all` are the user's creation time;
- activity buckets this server cannot move yet (playback, lists, custom lists) are seeded
  through the store: those examples pin the rendering of the tree, not the writes;
- watch history (`last_watched_at`, `last_watched`, `next_to_watch`, a `dropped` status) is
  seeded through the store; the ratings themselves go through the API;
- `/users/settings`: profile fields this server does not keep (gender, avatar, bio, location,
  age) are blank, and the account id is the one the database assigned;
- error examples that omit `message` are compared without it: Simkl documents `message` as
  optional and this server always sends one (spec §1.5).

Shared error examples that no implemented route can produce are not tested here: 400
`empty_field` (the OAuth endpoints' missing field), 404 `id_err` (catalog lookups) and 429
(rate limits are off by default).
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

from simkl_server.app import create_app
from simkl_server.clock import FrozenClock
from simkl_server.config import Settings
from simkl_server.storage.base import WriteTx
from simkl_server.storage.dialect import statement
from tests.conftest import START_MS, Api
from tests.helpers import assert_json_response, assert_simkl_error

OPENAPI = Path(__file__).resolve().parent.parent / "fixtures" / "openapi"


def load(name: str) -> dict[str, Any]:
    """One fixture file of tests/fixtures/openapi."""
    document: dict[str, Any] = json.loads((OPENAPI / f"{name}.json").read_text())
    return document


REMOVE = load("post-sync-ratings-remove")
ADD = load("post-sync-ratings")
READ = load("get-user-ratings")
ACTIVITIES = load("get-sync-activities")
SETTINGS = load("get-users-settings")
OPERATIONS = (REMOVE, ADD, READ, ACTIVITIES, SETTINGS)
ALL_RATINGS = "1,2,3,4,5,6,7,8,9,10"


def paired_examples(operation: dict[str, Any], status: str) -> list[Any]:
    """(name, request, response) of every named example."""
    requests = operation["request"]["examples"]
    responses = operation["responses"][status]["examples"]
    assert set(requests) == set(responses), "request and response examples must pair up"
    return [
        pytest.param(name, requests[name], responses[name], id=name) for name in sorted(requests)
    ]


def named_examples(operation: dict[str, Any], status: str) -> list[Any]:
    """The named response examples of one status."""
    examples = operation["responses"][status]["examples"]
    return [pytest.param(examples[name], id=name) for name in sorted(examples)]


def iso_ms(text: str) -> int:
    """Epoch milliseconds of a `...Z` timestamp."""
    return int(datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp() * 1000)


def iso_seconds(ms: int) -> str:
    """Activities' rendering of a time."""
    return datetime.fromtimestamp(ms // 1000, tz=UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def post_json(api: Api, path: str, body: Any, *, status: int = 201, **kwargs: Any) -> Any:
    """POST a JSON body; assert the status and a JSON answer; return the body."""
    response = api.post(path, json=body, **kwargs)
    assert response.status_code == status, response.text
    return assert_json_response(response)


def get_json(api: Api, path: str, **kwargs: Any) -> Any:
    """GET; assert 200 and a JSON answer; return the body."""
    response = api.get(path, **kwargs)
    assert response.status_code == 200, response.text
    return assert_json_response(response)


def rated(api: Api) -> dict[int, int | None]:
    """simkl id -> user_rating of every library row."""
    found: dict[int, int | None] = {}
    for rows in get_json(api, "/sync/ratings").values():
        for row in rows:
            found[(row.get("movie") or row["show"])["ids"]["simkl"]] = row["user_rating"]
    return found


def with_rating(body: dict[str, Any], rating: int) -> dict[str, Any]:
    """The same items, each with a rating."""
    return {
        wrapper: [{**item, "rating": rating} for item in items] for wrapper, items in body.items()
    }


# --- POST /sync/ratings/remove -------------------------------------------------------------


@pytest.mark.parametrize(("name", "request_body", "expected"), paired_examples(REMOVE, "201"))
def test_remove_examples(api: Api, name: str, request_body: Any, expected: Any) -> None:
    post_json(api, "/sync/ratings", with_rating(request_body, 7))  # something to clear
    assert post_json(api, "/sync/ratings/remove", request_body) == expected
    assert get_json(api, f"/sync/ratings/all/{ALL_RATINGS}") == {}


# --- POST /sync/ratings --------------------------------------------------------------------

# Examples that describe a change of existing state, and that state.
ADD_PRIOR_STATE = {"overwrite_movie_rating": {"movies": [{"ids": {"simkl": 752138}, "rating": 5}]}}


@pytest.mark.parametrize(("name", "request_body", "expected"), paired_examples(ADD, "201"))
def test_add_examples(api: Api, name: str, request_body: Any, expected: Any) -> None:
    prior = ADD_PRIOR_STATE.get(name, {})
    if prior:
        post_json(api, "/sync/ratings", prior)
    before = rated(api)
    assert before == {i["ids"]["simkl"]: i["rating"] for items in prior.values() for i in items}
    assert post_json(api, "/sync/ratings", request_body) == expected
    applied = {
        status["request"]["ids"]["simkl"]: status["request"]["rating"]
        for status in expected["added"]["statuses"]
    }
    assert rated(api) == before | applied  # out-of-range ratings store nothing


def test_add_example_without_a_name(api: Api) -> None:
    """The legacy example: listed under 200 without `type` in the echoes; today's answer is
    201 and each echo carries `type` (spec §7)."""
    expected = copy.deepcopy(ADD["responses"]["200"]["example"])
    for status, kind in zip(expected["added"]["statuses"], ("movie", "movie", "show"), strict=True):
        status["request"]["type"] = kind
    assert post_json(api, "/sync/ratings", ADD["request"]["example"]) == expected
    assert rated(api) == {53536: 8, 210728: 6, 39687: 10}


# --- GET /sync/ratings/{type}/{rating} -----------------------------------------------------


def seed_watch_state(api: Api, username: str, item_id: int, **columns: Any) -> None:
    """Set library columns no implemented endpoint writes yet (watch history, status)."""
    user_id = api.call(api.store.read.accounts.find_user, username)
    assignments = ", ".join(f"{name} = :{name}" for name in columns)
    update = statement(
        f"UPDATE library SET {assignments} WHERE user_id = :user_id AND item_id = :item_id"
    )
    params = {**columns, "user_id": user_id, "item_id": item_id}

    async def work(tx: WriteTx) -> None:
        await tx.conn.execute(update, params)

    api.call(api.store.transaction, work)


def seed_library_of_example(api: Api, example: dict[str, Any]) -> None:
    """Rate every row of a ratings-read example through the API, then seed its watch state."""
    body: dict[str, list[dict[str, Any]]] = {}
    for bucket, rows in example.items():
        for row in rows:
            media = row.get("movie") or row["show"]
            body.setdefault(bucket, []).append(
                {
                    "ids": {"simkl": media["ids"]["simkl"]},
                    "rating": row["user_rating"],
                    "rated_at": row["user_rated_at"],
                }
            )
    post_json(api, "/sync/ratings", body)
    for rows in example.values():
        for row in rows:
            media = row.get("movie") or row["show"]
            seed_watch_state(
                api,
                "alice",
                media["ids"]["simkl"],
                status=row["status"],
                last_watched_at=iso_ms(row["last_watched_at"]),
                last_watched=row.get("last_watched"),
                next_to_watch=row.get("next_to_watch"),
            )


def test_read_example(api: Api) -> None:
    example = READ["responses"]["200"]["example"]
    seed_library_of_example(api, example)
    assert get_json(api, "/sync/ratings") == example
    assert get_json(api, f"/sync/ratings/all/{ALL_RATINGS}") == example
    for bucket, rows in example.items():
        (row,) = rows
        assert get_json(api, f"/sync/ratings/{bucket}/{row['user_rating']}") == {bucket: rows}
        assert get_json(api, f"/sync/ratings/{bucket}") == {bucket: rows}


# --- GET /sync/activities ------------------------------------------------------------------


def bucket_stamps(tree: dict[str, Any]) -> dict[str, str]:
    """Every leaf bucket of an activities tree that has a time (the `all`s are derived)."""
    stamps: dict[str, str] = {}
    for block, fields in tree.items():
        if block in {"all", "settings"}:
            continue
        prefix, leaves = (
            ("custom_lists.lists", fields["lists"])
            if block == "custom_lists"
            else (
                block,
                fields,
            )
        )
        for name, at in leaves.items():
            if name != "all" and at is not None:
                stamps[f"{prefix}.{name}"] = at
    return stamps


def seed_activity_user(api: Api, username: str, tree: dict[str, Any]) -> str:
    """A user created at the tree's `settings.all` whose buckets hold the tree's times; its
    token. Buckets move in time order, as they would in real use."""
    api.clock.current_ms = iso_ms(tree["settings"]["all"])
    token = api.new_user(username)
    user_id = api.call(api.store.read.accounts.find_user, username)
    for bucket, at in sorted(bucket_stamps(tree).items(), key=lambda pair: pair[1]):
        api.clock.current_ms = iso_ms(at)

        async def touch(tx: WriteTx, bucket: str = bucket) -> None:
            await tx.activities.touch(user_id, [bucket], at=tx.now_ms)

        api.call(api.store.write, user_id, touch, size=1)
    return token


@pytest.mark.parametrize("expected", named_examples(ACTIVITIES, "200"))
def test_activities_examples(api: Api, expected: dict[str, Any]) -> None:
    if expected["settings"]["all"] is None:
        # A brand-new user: this server reports the account's creation time as settings.all.
        created = iso_seconds(START_MS)
        expected = {**expected, "all": created, "settings": {"all": created}}
        assert get_json(api, "/sync/activities") == expected
        return
    token = seed_activity_user(api, "golden", expected)
    assert get_json(api, "/sync/activities", token=token) == expected


# --- GET /users/settings -------------------------------------------------------------------


def test_settings_example(api: Api) -> None:
    example = SETTINGS["responses"]["200"]["example"]
    api.clock.current_ms = iso_ms(example["user"]["joined_at"])
    token = api.new_user(example["user"]["name"])
    user_id = api.call(api.store.read.accounts.find_user, example["user"]["name"])
    expected = copy.deepcopy(example)
    expected["account"].update(id=user_id, timezone="UTC")  # assigned here; the default zone
    expected["user"].update(gender="", avatar="", bio="", loc=None, age="")  # not kept here
    assert get_json(api, "/users/settings", token=token) == expected
    assert post_json(api, "/users/settings", None, status=200, token=token) == expected


# --- Error examples shared by every operation ----------------------------------------------

ROUTES = {
    "post-sync-ratings-remove": ("POST", "/sync/ratings/remove"),
    "post-sync-ratings": ("POST", "/sync/ratings"),
    "get-user-ratings": ("GET", "/sync/ratings/movies/8"),
    "get-sync-activities": ("GET", "/sync/activities"),
    "get-users-settings": ("GET", "/users/settings"),
}
OPERATION_IDS = [operation["operationId"] for operation in OPERATIONS]


def without_message(body: dict[str, Any]) -> dict[str, Any]:
    """An error body less its optional free-text `message`."""
    return {key: value for key, value in body.items() if key != "message"}


def test_every_operation_has_a_route() -> None:
    assert set(ROUTES) == set(OPERATION_IDS)
    for operation in OPERATIONS:
        method, path = ROUTES[operation["operationId"]]
        assert method == operation["method"]
        assert re.fullmatch(re.sub(r"\{[^}]+\}", "[^/]+", operation["path"]), path)


@pytest.mark.parametrize("operation_id", OPERATION_IDS)
def test_unauthorized_example(api: Api, operation_id: str) -> None:
    method, path = ROUTES[operation_id]
    example = load(operation_id)["responses"]["401"]["example"]
    body = assert_simkl_error(api.request(method, path, token=None), 401, example["error"])
    assert without_message(body) == without_message(example)


@pytest.mark.parametrize("operation_id", OPERATION_IDS)
def test_client_id_failed_example(api: Api, operation_id: str) -> None:
    method, path = ROUTES[operation_id]
    example = load(operation_id)["responses"]["412"]["example"]
    assert api.request(method, path, client_id=None).json() == example
    body = assert_simkl_error(api.request(method, path, client_id="nope"), 412, example["error"])
    assert body == example


@pytest.fixture
def broken_client(catalog_database: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[TestClient]:
    """The app on a store whose every authentication fails unexpectedly."""
    app = create_app(Settings(database_url=catalog_database), clock=FrozenClock(START_MS))
    with TestClient(app, raise_server_exceptions=False) as client:

        async def fail(client_id: str, token: str | None) -> Any:
            raise RuntimeError("the database went away")

        store = client.app.services.store  # type: ignore[attr-defined]
        monkeypatch.setattr(store.read.grants, "authenticate", fail)
        yield client


@pytest.mark.parametrize("operation_id", OPERATION_IDS)
def test_server_error_example(broken_client: TestClient, operation_id: str) -> None:
    method, path = ROUTES[operation_id]
    example = load(operation_id)["responses"]["500"]["example"]
    response = broken_client.request(
        method, path, params={"client_id": "any"}, headers={"Authorization": "Bearer any"}
    )
    body = assert_simkl_error(response, 500, example["error"])
    assert without_message(body) == without_message(example)
    assert "went away" not in body["message"]  # details go to the log, never to the client


# --- SIMKL-API.md §3.1-3.4 -----------------------------------------------------------------

# §3.1: the legacy remove body (ids as strings and numbers, `year` as a string).
SPEC_REMOVE_BODY = {
    "movies": [
        {
            "title": "Terminator 3: Rise of the Machines",
            "year": "2003",
            "ids": {"imdb": "tt0181852", "tmdb": 296, "simkl": 53536},
        },
        {"ids": {"simkl": 210728}},
    ],
    "shows": [
        {
            "title": "Attack on Titan",
            "year": 2013,
            "ids": {
                "simkl": 39687,
                "mal": 16498,
                "tvdb": 267440,
                "imdb": "tt2560140",
                "anidb": 9541,
            },
        }
    ],
}
# §3.1: the reference answer.
SPEC_REMOVE_RESPONSE = {
    "deleted": {"movies": 1, "shows": 0},
    "not_found": {"movies": [], "shows": []},
}


def test_spec_remove_body(api: Api) -> None:
    post_json(api, "/sync/ratings", with_rating(SPEC_REMOVE_BODY, 4))
    assert post_json(api, "/sync/ratings/remove", SPEC_REMOVE_BODY) == {
        "deleted": {"movies": 2, "shows": 1},
        "not_found": {"movies": [], "shows": []},
    }
    assert get_json(api, f"/sync/ratings/all/{ALL_RATINGS}") == {}


def test_spec_remove_response(api: Api) -> None:
    body = {"movies": [{"ids": {"simkl": 53536}}]}
    assert post_json(api, "/sync/ratings/remove", body) == SPEC_REMOVE_RESPONSE


# §3.2: the request body of the add-ratings page (anime by `mal` alone, with `rated_at`).
SPEC_ADD_BODY = {
    "movies": [{"rating": 8, "ids": {"simkl": 53536}}],
    "shows": [{"rating": 9, "ids": {"tmdb": "1399"}}],
    "anime": [{"rating": 10, "ids": {"mal": "11757"}, "rated_at": "2026-05-15T20:00:00Z"}],
}


def test_spec_add_body(api: Api) -> None:
    assert post_json(api, "/sync/ratings", SPEC_ADD_BODY) == {
        "added": {
            "movies": 1,
            "shows": 2,
            "statuses": [
                {
                    "request": {"rating": 8, "ids": {"simkl": 53536}, "type": "movie"},
                    "response": {"status": "completed"},
                },
                {
                    "request": {"rating": 9, "ids": {"tmdb": "1399"}, "type": "show"},
                    "response": {"status": "watching"},
                },
                {
                    "request": {
                        "rating": 10,
                        "ids": {"mal": "11757"},
                        # Echoed with milliseconds, like every rating time (spec §1.8, §7).
                        "rated_at": "2026-05-15T20:00:00.000Z",
                        "type": "show",
                    },
                    "response": {"status": "watching"},
                },
            ],
        },
        "not_found": {"movies": [], "shows": []},
    }
    anime = get_json(api, "/sync/ratings/anime/10")["anime"]
    assert [(row["show"]["title"], row["user_rated_at"]) for row in anime] == [
        ("Sword Art Online", "2026-05-15T20:00:00.000Z")
    ]


# §3.2: the reference answer, to the §3.1 body rated 8, 6 and 10 (legacy `rated_at` without
# milliseconds). The spec prints it without `type`; today's echoes carry it (spec §7).
SPEC_ADD_RESPONSE = {
    "added": {
        "movies": 2,
        "shows": 1,
        "statuses": [
            {
                "request": {
                    "title": "Terminator 3: Rise of the Machines",
                    "year": "2003",
                    "rated_at": "2014-09-01T09:10:11.000Z",
                    "rating": 8,
                    "ids": {"imdb": "tt0181852", "tmdb": 296, "simkl": 53536},
                },
                "response": {"status": "completed"},
            },
            {
                "request": {"rating": 6, "ids": {"simkl": 210728}},
                "response": {"status": "completed"},
            },
            {
                "request": {
                    "title": "Attack on Titan",
                    "year": 2013,
                    "rating": 10,
                    "ids": {
                        "simkl": 39687,
                        "mal": 16498,
                        "tvdb": 267440,
                        "imdb": "tt2560140",
                        "anidb": 9541,
                    },
                },
                "response": {"status": "watching"},
            },
        ],
    },
    "not_found": {"movies": [], "shows": []},
}


def test_spec_add_reference_response(api: Api) -> None:
    body = copy.deepcopy(SPEC_REMOVE_BODY)
    body["movies"][0].update(rating=8, rated_at="2014-09-01T09:10:11Z")
    body["movies"][1]["rating"] = 6
    body["shows"][0]["rating"] = 10
    expected = copy.deepcopy(SPEC_ADD_RESPONSE)
    for status, kind in zip(expected["added"]["statuses"], ("movie", "movie", "show"), strict=True):
        status["request"]["type"] = kind
    assert post_json(api, "/sync/ratings", body) == expected


# §3.2: the prose answer. It counts `shows: 1` for a body with one movie; counts equal the
# applied items (spec §7 #9), so that one number is 0 here.
SPEC_ADD_PROSE_RESPONSE = {
    "added": {
        "movies": 1,
        "shows": 1,
        "statuses": [
            {"request": {"rating": 8, "ids": {"simkl": 53536}}, "response": {"status": "completed"}}
        ],
    },
    "not_found": {"movies": [], "shows": []},
}


def test_spec_add_prose_response(api: Api) -> None:
    expected = copy.deepcopy(SPEC_ADD_PROSE_RESPONSE)
    expected["added"]["shows"] = 0
    expected["added"]["statuses"][0]["request"]["type"] = "movie"
    body = {"movies": [{"rating": 8, "ids": {"simkl": 53536}}]}
    assert post_json(api, "/sync/ratings", body) == expected


# §3.3: the reference answer of the ratings read.
SPEC_READ_RESPONSE = {
    "shows": [
        {
            "last_watched_at": "2016-09-12T13:00:30.000Z",
            "user_rated_at": "2021-06-23T13:19:05.000Z",
            "user_rating": 5,
            "status": "dropped",
            "last_watched": None,
            "next_to_watch": "S01E01",
            "show": {
                "title": "The Last Ship",
                "year": 2014,
                "ids": {"simkl": 42040, "imdb": "tt2402207", "tvdb": "269533"},
            },
        }
    ],
    "anime": [
        {
            "last_watched_at": "2014-11-06T22:05:52.000Z",
            "user_rated_at": "2021-06-23T13:19:05.000Z",
            "user_rating": 10,
            "status": "completed",
            "last_watched": "E148",
            "next_to_watch": None,
            "show": {
                "title": "Hunter x Hunter",
                "year": 2011,
                "ids": {"simkl": 40398, "imdb": "tt2098220", "mal": "11061", "anidb": "8550"},
            },
        }
    ],
    "movies": [
        {
            "last_watched_at": "2014-08-16T18:45:20.000Z",
            "user_rated_at": "2021-06-23T13:19:05.000Z",
            "user_rating": 6,
            "status": "completed",
            "movie": {
                "title": "Maleficent",
                "year": 2014,
                "ids": {"simkl": 195258, "imdb": "tt1587310", "tmdb": "102651"},
            },
        }
    ],
}


def test_spec_read_response(api: Api) -> None:
    seed_library_of_example(api, SPEC_READ_RESPONSE)
    assert get_json(api, "/sync/ratings") == SPEC_READ_RESPONSE
    assert get_json(api, "/sync/ratings/all/5,6,10") == SPEC_READ_RESPONSE
    assert get_json(api, "/sync/ratings/movies/9,10") == {}


# §3.4: the reference activities tree. It predates the `custom_lists` block, which the current
# schema requires; with no custom-list activity that block is all null.
SPEC_ACTIVITIES = {
    "all": "2026-05-14T06:50:38Z",
    "settings": {"all": "2026-02-15T22:53:03Z"},
    "tv_shows": {
        "all": "2026-05-14T06:49:56Z",
        "rated_at": "2026-04-10T05:34:55Z",
        "playback": "2026-04-11T10:36:01Z",
        "plantowatch": "2026-04-10T05:42:42Z",
        "watching": "2026-05-04T19:40:58Z",
        "completed": "2026-04-11T11:50:21Z",
        "hold": "2026-05-14T06:49:56Z",
        "dropped": "2026-05-14T06:49:56Z",
        "removed_from_list": "2026-04-10T05:34:55Z",
    },
    "anime": {
        "all": "2026-05-14T06:50:38Z",
        "rated_at": "2026-04-10T05:34:55Z",
        "playback": "2026-05-14T06:50:38Z",
        "plantowatch": "2026-05-14T06:41:53Z",
        "watching": "2026-05-14T06:43:00Z",
        "completed": "2026-05-14T06:42:42Z",
        "hold": "2026-05-14T06:42:05Z",
        "dropped": "2026-05-14T06:49:56Z",
        "removed_from_list": "2026-04-10T05:34:55Z",
    },
    "movies": {
        "all": "2026-05-14T06:50:38Z",
        "rated_at": "2026-05-14T06:43:20Z",
        "playback": "2026-05-14T06:50:38Z",
        "plantowatch": "2026-05-14T06:43:11Z",
        "completed": "2026-05-14T06:43:15Z",
        "dropped": "2026-05-14T06:49:56Z",
        "removed_from_list": "2026-04-10T05:34:55Z",
    },
}
NO_CUSTOM_LISTS = {
    "lists": dict.fromkeys(("all", "regular", "favorites", "recommendations", "auto"))
}


def test_spec_activities(api: Api) -> None:
    token = seed_activity_user(api, "golden", SPEC_ACTIVITIES)
    answer = get_json(api, "/sync/activities", token=token)
    assert answer == {**SPEC_ACTIVITIES, "custom_lists": NO_CUSTOM_LISTS}
    assert list(answer) == ["all", "settings", "tv_shows", "anime", "movies", "custom_lists"]
