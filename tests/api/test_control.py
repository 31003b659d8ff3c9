"""The control plane over HTTP on both databases: off by default, reset, state, seed, clock,
journal and faults."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from starlette.testclient import TestClient

from simkl_server.api.control import ControlMiddleware
from simkl_server.api.rate_limits import RateLimitMiddleware
from simkl_server.app import create_app
from simkl_server.config import Settings
from simkl_server.domain import auth
from simkl_server.storage import schema
from simkl_server.storage.tables import CONTROL_TABLES, INTERNAL_TABLES
from tests.api.support import TERMINATOR_3, WALKING_DEAD, by_simkl, rate
from tests.conftest import START_MS, Api, serve_api


@pytest.fixture
def api(catalog_database: str) -> Iterator[Api]:
    """The app with the control plane on."""
    with serve_api(catalog_database, control=True) as api:
        yield api


def control(api: Api, method: str, path: str, **kwargs: Any) -> Any:
    """A control request: no credentials."""
    return api.client.request(method, f"/_control/{path}", **kwargs)


def rated(api: Api) -> None:
    rate(api, {"movies": [by_simkl(TERMINATOR_3, rating=8)]})


def test_the_control_plane_is_off_unless_enabled(catalog_database: str) -> None:
    with serve_api(catalog_database) as api:
        for method, path in (("POST", "reset"), ("GET", "state"), ("GET", "journal")):
            response = control(api, method, path)
            assert response.status_code == 404
            assert response.json()["error"] == "url_failed"


def test_nothing_of_the_control_plane_runs_when_it_is_off() -> None:
    def installed(**settings: Any) -> set[type]:
        app = create_app(Settings(database_url="sqlite:///never-opened.db", **settings))
        return {middleware.cls for middleware in app.user_middleware}  # type: ignore[misc]

    assert ControlMiddleware not in installed()
    assert RateLimitMiddleware not in installed()
    assert {ControlMiddleware, RateLimitMiddleware} <= installed(control=True, rate_limits=True)


def test_unknown_control_paths_and_methods_are_refused(api: Api) -> None:
    assert control(api, "GET", "nothing").json()["error"] == "url_failed"
    response = control(api, "DELETE", "state")
    assert response.status_code == 405
    assert response.headers["allow"] == "GET, PUT"


def test_reset_clears_user_data_and_keeps_catalog_and_accounts(api: Api) -> None:
    rated(api)
    assert control(api, "POST", "reset").status_code == 200
    tables = control(api, "GET", "state").json()["tables"]
    assert tables["library"] == []
    assert tables["activity"] == []
    assert tables["grants"] == []
    assert [user["username"] for user in tables["users"]] == ["alice"]
    assert tables["apps"]
    assert tables["catalog_items"]
    assert api.get("/sync/ratings").status_code == 401  # the token went with its grant


def test_reset_can_take_the_catalog_and_accounts_too(empty_database: str) -> None:
    with serve_api(empty_database, control=True) as api:
        control(api, "POST", "seed", json={"catalog": [SEEDED_MOVIE]})
        check_full_reset(api)


def check_full_reset(api: Api) -> None:
    response = control(api, "POST", "reset", json={"catalog": True, "accounts": True})
    assert response.json() == {"reset": True, "catalog": True, "accounts": True}
    tables = control(api, "GET", "state").json()["tables"]
    assert all(rows == [] for rows in tables.values())
    assert control(api, "POST", "reset", json={"catalog": "yes"}).status_code == 400


def test_state_covers_every_table_the_schema_declares(api: Api) -> None:
    tables = control(api, "GET", "state").json()["tables"]
    declared = {table.name for table in schema.metadata.sorted_tables}
    expected = declared - CONTROL_TABLES - INTERNAL_TABLES
    assert set(tables) == expected


def test_state_round_trips_exactly(api: Api) -> None:
    memo = {"text": "again", "is_private": True}
    history = {
        "movies": [by_simkl(TERMINATOR_3, rating=8, memo=memo)],
        "shows": [by_simkl(WALKING_DEAD, seasons=[{"number": 1, "episodes": [{"number": 1}]}])],
    }
    assert api.post("/sync/history", json=history).status_code == 201
    api.get("/oauth/pin", token=None)  # a code waiting for approval
    dumped = control(api, "GET", "state").json()
    filled = {"library", "user_episodes", "tokens", "grants", "activity", "user_codes",
              "catalog_items", "catalog_ids", "catalog_episodes"}  # fmt: skip
    assert all(dumped["tables"][name] for name in filled)
    assert any(row["memo_private"] is True for row in dumped["tables"]["library"])
    control(api, "POST", "reset", json={"catalog": True, "accounts": True})
    loaded = control(api, "PUT", "state", json=dumped)
    assert loaded.status_code == 200, loaded.text
    assert loaded.json() == dumped
    assert control(api, "GET", "state").json() == dumped
    assert api.get("/sync/ratings").status_code == 200  # the same token works again
    api.new_user("bob")  # ids go on after the loaded ones


def _rating(api: Api) -> Any:
    rows = api.get("/sync/all-items/movies").json().get("movies", [])
    return [row["user_rating"] for row in rows]


def test_a_library_read_again_follows_a_state_load_and_a_reset(api: Api) -> None:
    rated(api)
    dumped = control(api, "GET", "state").json()
    rate(api, {"movies": [by_simkl(TERMINATOR_3, rating=9)]})
    assert _rating(api) == _rating(api) == [9]  # read, then answered as kept
    assert control(api, "PUT", "state", json=dumped).status_code == 200
    assert _rating(api) == [8]
    assert control(api, "POST", "reset").status_code == 200  # keeps alice, not her token
    api.token = api.call(
        auth.issue_token, api.store, api.keys, username="alice", client_id=api.client_id
    )
    assert _rating(api) == []


def test_processes_sharing_a_database_share_the_clock_and_faults(
    api: Api, catalog_database: str
) -> None:
    other = create_app(Settings(database_url=catalog_database, control=True))
    with TestClient(other) as second:
        control(api, "PUT", "clock", json={"now": "2027-05-01T18:00:00Z"})
        assert second.get("/_control/clock").json()["now"] == "2027-05-01T18:00:00.000Z"
        second.post("/_control/faults", json={"path": "/sync/activities", "respond": "null"})
        assert api.get("/sync/activities").content == b"null"
        assert second.get("/_control/journal").json()[0]["fault"] == "null"


def test_a_bad_state_document_changes_nothing(api: Api) -> None:
    rated(api)
    before = control(api, "GET", "state").json()
    broken = {**before, "tables": {**before["tables"], "users": [{"id": 1}]}}
    for document in ({"format": "x"}, {**before, "tables": {"nope": []}}, broken):
        response = control(api, "PUT", "state", json=document)
        assert response.status_code == 400, response.text
        assert response.json()["error"] == "wrong_parameter"
    assert control(api, "GET", "state").json() == before


SEEDED_MOVIE = {"type": "movie", "title": "Seeded", "year": 2020, "ids": {"simkl": 777}}


def test_seed_creates_what_a_test_needs_in_one_call(empty_database: str) -> None:
    with serve_api(empty_database, control=True) as api:
        check_seed(api)


def check_seed(api: Api) -> None:
    body = {
        "apps": [{"name": "my app", "client_id": "my-client", "client_secret": "s3cret"}],
        "users": [{"username": "carol"}],
        "tokens": [
            {"username": "carol", "client_id": "my-client", "access_token": "carol-token"},
            {"username": "alice", "client_id": "my-client"},
        ],
        "catalog": [SEEDED_MOVIE],
    }
    response = control(api, "POST", "seed", json=body)
    assert response.status_code == 201, response.text
    seeded = response.json()
    assert seeded["apps"][0]["client_id"] == "my-client"
    assert seeded["apps"][0]["client_secret"] == "s3cret"
    assert seeded["users"][0]["username"] == "carol"
    assert seeded["tokens"][0]["access_token"] == "carol-token"
    assert seeded["catalog"]["inserted"] == 1
    alice = seeded["tokens"][1]["access_token"]
    answer = rate(api, {"movies": [by_simkl(777, rating=7)]}, token=alice, client_id="my-client")
    assert answer["added"]["movies"] == 1
    settings = api.get("/users/settings", token="carol-token", client_id="my-client")
    assert settings.json()["user"]["name"] == "carol"


def test_seed_gives_an_auth_v2_app_its_token_pair(api: Api) -> None:
    body: dict[str, Any] = {
        "apps": [{"name": "v2", "client_id": "v2-client", "auth_version": 2}],
        "tokens": [{"username": "alice", "client_id": "v2-client"}],
    }
    token = control(api, "POST", "seed", json=body).json()["tokens"][0]
    assert token["access_token"].startswith("simkl_at_")
    assert token["refresh_token"].startswith("simkl_rt_")
    settings = api.get("/users/settings", token=token["access_token"], client_id="v2-client")
    assert settings.status_code == 200
    chosen = [{"username": "alice", "client_id": "v2-client", "access_token": "chosen"}]
    assert control(api, "POST", "seed", json={"tokens": chosen}).status_code == 400


def test_a_seed_that_cannot_be_made_makes_nothing(api: Api) -> None:
    before = control(api, "GET", "state").json()
    body = {"users": [{"username": "dave"}], "tokens": [{"username": "dave", "client_id": "x"}]}
    response = control(api, "POST", "seed", json=body)
    assert response.status_code == 400
    assert "no app" in response.json()["message"]
    assert control(api, "GET", "state").json() == before


def test_the_clock_can_be_fixed_shifted_and_restored(api: Api) -> None:
    assert control(api, "GET", "clock").json()["now_ms"] == START_MS
    fixed = control(api, "PUT", "clock", json={"now": "2027-05-01T18:00:00Z"}).json()
    assert fixed["now"] == "2027-05-01T18:00:00.000Z"
    assert fixed["fixed"] is True
    rated(api)
    row = api.get("/sync/ratings/movies").json()["movies"][0]
    assert row["user_rated_at"] == "2027-05-01T18:00:00.000Z"
    shifted = control(api, "PUT", "clock", json={"offset_s": 3600}).json()
    assert shifted["now"] == "2027-05-01T19:00:00.000Z"
    moved = control(api, "PUT", "clock", json={"advance_s": 60}).json()
    assert moved["now"] == "2027-05-01T19:01:00.000Z"
    restored = control(api, "PUT", "clock", json={"system": True}).json()
    assert restored["now_ms"] == START_MS
    assert restored["system"] is True
    assert control(api, "PUT", "clock", json={"now": "yesterday"}).status_code == 400
    assert control(api, "PUT", "clock", json={}).status_code == 400


def test_a_pin_expires_when_the_clock_moves_past_it(api: Api) -> None:
    code = api.get("/oauth/pin", token=None).json()["user_code"]
    control(api, "PUT", "clock", json={"advance_s": 5})
    pending = api.get(f"/oauth/pin/{code}", token=None).json()
    assert pending == {"result": "KO", "message": "Authorization pending"}
    control(api, "PUT", "clock", json={"advance_s": 901})
    expired = api.get(f"/oauth/pin/{code}", token=None).json()
    assert expired["result"] == "OK"
    assert expired["user_code"] != code  # a gone code is answered with a fresh one


def test_the_journal_keeps_requests_newest_first_with_secrets_masked(api: Api) -> None:
    rated(api)
    api.get("/sync/activities", params={"client_secret": "hush"})
    api.client.post(
        "/oauth/token",
        json={"code": "abc", "client_id": api.client_id, "client_secret": "hush"},
    )
    entries = control(api, "GET", "journal", params={"limit": 3}).json()
    assert [entry["path"] for entry in entries] == [
        "/oauth/token",
        "/sync/activities",
        "/sync/ratings",
    ]
    token_call, read, write = entries
    assert token_call["body"]["client_secret"] == "***"
    assert token_call["body"]["code"] == "***"
    assert "hush" not in read["query"]
    assert "client_secret=***" in read["query"]
    assert write["headers"]["authorization"] == "Bearer ***"
    assert write["body"] == {"movies": [{"ids": {"simkl": TERMINATOR_3}, "rating": 8}]}
    assert write["status"] == 201
    assert write["response_body"]["added"]["movies"] == 1
    assert api.token not in str(entries)
    assert control(api, "DELETE", "journal").status_code == 204
    assert control(api, "GET", "journal").json() == []


def test_form_bodies_are_masked_in_the_journal(api: Api) -> None:
    form = {"grant_type": "authorization_code", "code": "abc", "client_secret": "hush"}
    api.client.post("/oauth/token", data=form)
    body = control(api, "GET", "journal", params={"limit": 1}).json()[0]["body"]
    assert body == "grant_type=authorization_code&code=***&client_secret=***"


def test_the_journal_is_a_bounded_ring(catalog_database: str) -> None:
    with serve_api(catalog_database, control=True, journal_size=3) as api:
        for _ in range(5):
            api.get("/sync/activities")
        entries = control(api, "GET", "journal", params={"limit": 3}).json()
        assert len(entries) == 3
        assert entries[0]["id"] > entries[1]["id"] > entries[2]["id"]
        assert control(api, "GET", "journal", params={"limit": 4}).status_code == 400


def test_a_rate_limit_fault_fails_the_next_write_once_and_applies_nothing(api: Api) -> None:
    fault = {"method": "POST", "path": "/sync/ratings*", "respond": "rate_limit",
             "retry_after_s": 2}  # fmt: skip
    assert control(api, "POST", "faults", json=fault).status_code == 201
    response = api.post("/sync/ratings", json={"movies": [by_simkl(TERMINATOR_3, rating=8)]})
    assert response.status_code == 429
    assert response.headers["retry-after"] == "2"
    assert response.json()["error"] == "rate_limit"
    assert api.get("/sync/ratings/movies").json() == {}  # not applied
    rated(api)  # the fault was used up
    listed = control(api, "GET", "faults").json()
    assert listed[0]["times"] == 0
    assert listed[0]["hits"] == 1
    faulted = control(api, "GET", "journal", params={"limit": 3}).json()[-1]
    assert faulted["fault"] == "rate_limit"
    assert faulted["body"] == {"movies": [by_simkl(TERMINATOR_3, rating=8)]}


@pytest.mark.parametrize(
    ("respond", "status", "body"),
    [
        ("client_id_failed", 412, {"error": "client_id_failed"}),
        ("user_token_failed", 401, {"error": "user_token_failed"}),
        ("server_error", 500, {"error": "internal"}),
        ("empty", 201, None),
        ("null", 201, "null"),
    ],
)
def test_each_fault_answers_as_simkl_does(api: Api, respond: str, status: int, body: Any) -> None:
    control(api, "POST", "faults", json={"path": "/sync/ratings", "respond": respond})
    response = api.post("/sync/ratings", json={"movies": [by_simkl(TERMINATOR_3, rating=8)]})
    assert response.status_code == status
    if body is None:
        assert response.content == b""
    elif body == "null":
        assert response.content == b"null"
    else:
        assert body.items() <= response.json().items()
    assert api.get("/sync/ratings/movies").json() == {}


def test_a_delay_only_fault_lets_the_request_through(api: Api) -> None:
    control(api, "POST", "faults", json={"path": "/sync/*", "respond": "none", "delay_ms": 1})
    assert api.get("/sync/activities").status_code == 200


def test_probability_faults_follow_their_seed(api: Api) -> None:
    fault = {"method": "GET", "path": "/sync/activities", "respond": "server_error",
             "probability": 0.5, "seed": 7}  # fmt: skip
    outcomes = []
    for _ in range(2):
        control(api, "DELETE", "faults")
        control(api, "POST", "faults", json=fault)
        outcomes.append([api.get("/sync/activities").status_code for _ in range(12)])
    assert outcomes[0] == outcomes[1]
    assert set(outcomes[0]) == {200, 500}


@pytest.mark.parametrize(
    "fault",
    [
        {"respond": "explode"},
        {"respond": "empty", "times": 1, "probability": 0.5},
        {"respond": "empty", "probability": 2},
        {"respond": "empty", "delay_ms": -1},
        {"respond": "empty", "surprise": 1},
        [],
    ],
)
def test_a_bad_fault_is_refused(api: Api, fault: Any) -> None:
    response = control(api, "POST", "faults", json=fault)
    assert response.status_code == 400
    assert control(api, "GET", "faults").json() == []


def test_rate_limits_answer_429_past_one_write_a_second(catalog_database: str) -> None:
    with serve_api(catalog_database, control=True, rate_limits=True) as api:
        control(api, "PUT", "clock", json={"now": "2027-05-01T18:00:00Z"})
        rated(api)
        again = api.post("/sync/ratings", json={"movies": [by_simkl(TERMINATOR_3, rating=9)]})
        assert again.status_code == 429
        assert again.headers["retry-after"] == "1"
        control(api, "PUT", "clock", json={"advance_s": 1})
        rated(api)
        statuses = [api.get("/sync/activities").status_code for _ in range(11)]
        assert statuses == [200] * 10 + [429]
