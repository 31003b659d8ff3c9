"""Every answer of the implemented operations validates against Simkl's official JSON Schema
for that operation and status (tests/fixtures/openapi), across success and error paths, and
against this server's own OpenAPI document.

Which schema applies:
- the operation's own schema for that status;
- an error status the operation does not list (404, 405, 413) → the shared `ErrorResponse`;
- the ratings read (200) → its own schema, which was inferred from one example and so types
  every field as non-null; the same rows are documented as `AllItemsEntry`, which marks
  `last_watched_at`, `user_rated_at`, `user_rating`, `last_watched`, `next_to_watch` and the
  media's `year` nullable (null-value conventions: unrated, not started, never watched,
  unknown). Those fields are allowed null here as the row schema says, and every read is also
  validated against that row schema (`AllItemsResponse`).

`format: date-time` is checked (RFC 3339); other formats are annotations only.

Requests echo unmatched items as sent, so an item sent with numeric external ids or a string
`year` comes back that way, outside the official `Movie`/`Show` schema of `not_found`; the
requests below send ids as the official documents do (strings, `simkl` an integer).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator, FormatChecker
from starlette.testclient import TestClient

from simkl_server.app import create_app
from simkl_server.clock import FrozenClock
from simkl_server.config import Settings
from simkl_server.storage.base import WriteTx
from simkl_server.storage.dialect import statement
from tests.conftest import START_MS, Api, serve_api
from tests.helpers import assert_documented_response, assert_json_response, assert_simkl_error

OPENAPI = Path(__file__).resolve().parent.parent / "fixtures" / "openapi"
OPERATION_IDS = (
    "post-sync-ratings-remove",
    "post-sync-ratings",
    "get-user-ratings",
    "get-sync-activities",
    "get-users-settings",
)
_RFC3339 = re.compile(
    r"\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])[Tt]([01]\d|2[0-3]):[0-5]\d:([0-5]\d|60)"
    r"(\.\d+)?([Zz]|[+-]([01]\d|2[0-3]):[0-5]\d)"
)
FORMATS = FormatChecker(formats=())


@FORMATS.checks("date-time")
def _is_date_time(value: object) -> bool:
    return not isinstance(value, str) or _RFC3339.fullmatch(value) is not None


def _load(name: str) -> dict[str, Any]:
    document: dict[str, Any] = json.loads((OPENAPI / f"{name}.json").read_text())
    return document


def _relaxed(inferred: Any, documented: Any) -> Any:
    """`inferred` with null allowed wherever `documented` allows it (recursively by property)."""
    if not isinstance(inferred, dict) or not isinstance(documented, dict):
        return inferred
    out = dict(inferred)
    kinds = documented.get("type")
    if isinstance(kinds, list) and "null" in kinds and "type" in out:
        own = out["type"] if isinstance(out["type"], list) else [out["type"]]
        out["type"] = own if "null" in own else [*own, "null"]
    theirs = documented.get("properties", {})
    if "properties" in out:
        out["properties"] = {
            name: _relaxed(sub, theirs.get(name)) for name, sub in out["properties"].items()
        }
    if "items" in out:
        out["items"] = _relaxed(out["items"], documented.get("items"))
    return out


def _read_schema(schema: dict[str, Any], rows: dict[str, Any]) -> dict[str, Any]:
    """The ratings-read schema with nullability taken from the documented library row."""
    return {
        **schema,
        "properties": {
            bucket: _relaxed(sub, rows["properties"][bucket])
            for bucket, sub in schema["properties"].items()
        },
    }


@cache
def official_schemas(operation_id: str, status: int) -> tuple[dict[str, Any], ...]:
    """The official schemas an answer of that operation and status must satisfy."""
    shared = _load("schemas")["schemas"]
    listed = _load(operation_id)["responses"].get(str(status))
    if listed is None:
        assert status >= 400, f"{operation_id} does not document {status}"
        return (shared["ErrorResponse"],)
    schema = listed["schema"]
    if operation_id == "get-user-ratings" and status == 200:
        rows = shared["AllItemsResponse"]
        return (_read_schema(schema, rows), rows)
    return (schema,)


def assert_official_shape(response: Any, operation_id: str) -> Any:
    """Validate a response body against the official schema(s) for its status; the body."""
    body = assert_json_response(response)
    for schema in official_schemas(operation_id, response.status_code):
        validator = Draft202012Validator(schema, format_checker=FORMATS)
        errors = sorted(validator.iter_errors(body), key=lambda e: list(e.absolute_path))
        assert not errors, "\n".join(
            f"{'/'.join(map(str, e.absolute_path)) or '(root)'}: {e.message}" for e in errors
        )
    return body


# --- The helper itself ---------------------------------------------------------------------


def test_every_operation_schema_is_valid_draft_2020_12() -> None:
    for operation_id in OPERATION_IDS:
        for status in _load(operation_id)["responses"]:
            for schema in official_schemas(operation_id, int(status)):
                Draft202012Validator.check_schema(schema)


@pytest.mark.parametrize(
    ("operation_id", "status", "body"),
    [
        ("post-sync-ratings-remove", 201, {"deleted": {"movies": 1}, "not_found": {}}),
        ("post-sync-ratings-remove", 201, {"deleted": {"movies": "1", "shows": 0}}),
        ("post-sync-ratings", 201, {"added": {"movies": 1, "shows": 0, "statuses": [1]}}),
        ("get-sync-activities", 200, {"all": "yesterday"}),
        ("get-user-ratings", 200, {"movies": [{"user_rating": "8"}]}),
        ("get-user-ratings", 200, {"movies": [{"user_rated_at": "2021-06-23 13:19"}]}),
        ("get-users-settings", 200, {"account": {"type": "gold"}}),
        ("get-users-settings", 401, {"code": 401}),
        ("get-users-settings", 413, {"error": "body_too_large", "code": "413"}),
    ],
)
def test_the_helper_rejects_wrong_shapes(operation_id: str, status: int, body: Any) -> None:
    response = FakeResponse(status, body)
    with pytest.raises(AssertionError):
        assert_official_shape(response, operation_id)


@dataclass
class FakeResponse:
    """Just enough of a response for the helper's self-test."""

    status_code: int
    body: Any
    headers: dict[str, str] = field(default_factory=lambda: {"content-type": "application/json"})

    def json(self) -> Any:
        """The body."""
        return self.body

    @property
    def text(self) -> str:
        """The body as text."""
        return json.dumps(self.body)


def test_the_helper_checks_date_times() -> None:
    tree = _load("get-sync-activities")["responses"]["200"]["examples"]["active_user"]
    assert_official_shape(FakeResponse(200, tree), "get-sync-activities")
    for bad in ("2026-05-14 06:50:38Z", "2026-05-14T06:50:38", "2026-13-14T06:50:38Z", ""):
        wrong = FakeResponse(200, {**tree, "all": bad})
        with pytest.raises(AssertionError, match="date-time"):
            assert_official_shape(wrong, "get-sync-activities")


def test_read_rows_may_be_null_where_the_documented_row_allows_it() -> None:
    row = {
        "last_watched_at": None,
        "user_rated_at": None,
        "user_rating": None,
        "status": "watching",
        "last_watched": None,
        "next_to_watch": None,
        "show": {"title": "The Last Ship", "year": 2014, "ids": {"simkl": 42040}},
    }
    assert_official_shape(FakeResponse(200, {"shows": [row]}), "get-user-ratings")
    yearless = {**row, "show": {**row["show"], "year": None}}
    assert_official_shape(FakeResponse(200, {"anime": [yearless]}), "get-user-ratings")
    bad = FakeResponse(200, {"shows": [{**row, "status": None}]})
    with pytest.raises(AssertionError):
        assert_official_shape(bad, "get-user-ratings")


# --- Requests ------------------------------------------------------------------------------

Setup = Callable[[Api], None]


@dataclass(frozen=True)
class Case:
    """One request, the operation whose schemas apply, the expected status (and error id)."""

    name: str
    operation_id: str
    method: str
    path: str
    status: int
    error: str | None = None
    setup: Setup | None = None
    kwargs: dict[str, Any] = field(default_factory=dict)

    def param(self) -> Any:
        """As a pytest parameter named after the case."""
        return pytest.param(self, id=self.name)


def rate(body: dict[str, Any]) -> Setup:
    """A setup step that rates items through the API."""

    def setup(api: Api) -> None:
        response = api.post("/sync/ratings", json=body)
        assert response.status_code == 201, response.text

    return setup


def unrate(body: dict[str, Any]) -> Setup:
    """A setup step that removes ratings through the API."""

    def setup(api: Api) -> None:
        response = api.post("/sync/ratings/remove", json=body)
        assert response.status_code == 201, response.text

    return setup


def steps(*setups: Setup) -> Setup:
    """Several setup steps in order."""

    def setup(api: Api) -> None:
        for step in setups:
            step(api)

    return setup


def tick(ms: int) -> Setup:
    """Move the app's clock."""
    return lambda api: api.clock.advance(ms)


def watched(item_id: int, **columns: Any) -> Setup:
    """Seed watch state no implemented endpoint writes yet, straight into the library row."""

    def setup(api: Api) -> None:
        user_id = api.call(api.store.read.accounts.find_user, "alice")
        assignments = ", ".join(f"{name} = :{name}" for name in columns)
        update = statement(
            f"UPDATE library SET {assignments} WHERE user_id = :user_id AND item_id = :item_id"
        )

        async def work(tx: WriteTx) -> None:
            await tx.conn.execute(update, {**columns, "user_id": user_id, "item_id": item_id})

        api.call(api.store.transaction, work)

    return setup


def ids(simkl: int, **more: str) -> dict[str, Any]:
    """An `ids` object."""
    return {"ids": {"simkl": simkl, **more}}


LIBRARY = rate(
    {
        "movies": [
            {**ids(53536), "rating": 8},
            {**ids(900001), "rating": 3},  # upcoming: plantowatch
            {**ids(195258), "rating": 6, "rated_at": "2021-06-23T13:19:05Z"},
        ],
        "shows": [{**ids(2090), "rating": 9}, {**ids(900021), "rating": 7}],
        "anime": [{**ids(40398), "rating": 10}, {**ids(39011), "rating": 9}],
    }
)
HISTORY = steps(
    LIBRARY,
    watched(42040, status="dropped", last_watched_at=1_473_685_230_000, next_to_watch="S01E01"),
    watched(40398, last_watched_at=1_415_311_552_000, last_watched="E148", status="completed"),
    watched(195258, last_watched_at=1_408_214_720_000),
)
BAD_BODIES = {
    "not json": b"{",
    "null": b"null",
    "json array": b"[]",
    "wrapper not an array": b'{"movies": {}}',
    "item not an object": b'{"movies": [1]}',
    "ids not an object": b'{"shows": [{"ids": []}]}',
    "id of a wrong type": b'{"anime": [{"ids": {"simkl": true}}]}',
    "title not a string": b'{"movies": [{"title": 5}]}',
}


def write_cases(operation_id: str, path: str, examples: dict[str, Any]) -> Iterator[Case]:
    """The cases every ratings write shares."""
    for name, body in sorted(examples.items()):
        yield Case(f"{path} example {name}", operation_id, "POST", path, 201, kwargs={"json": body})
    yield Case(f"{path} no body", operation_id, "POST", path, 201)
    yield Case(
        f"{path} unmatched and matched",
        operation_id,
        "POST",
        path,
        201,
        setup=LIBRARY,
        kwargs={
            "json": {
                "movies": [
                    {**ids(53536), "rating": 5},
                    {"title": "Hamlet", "year": 1948, "ids": {"imdb": "tt0040416"}, "rating": 2},
                    {**ids(99999991, imdb="tt0000222"), "rating": 4},
                ],
                "shows": [{"ids": {"tvdb": "999999999"}, "rating": 4}],
                "anime": [{"ids": {"mal": "16498"}, "rating": 10}, {"ids": {"kitsu": "0"}}],
            }
        },
    )
    yield Case(
        f"{path} via simkl-api-key",
        operation_id,
        "POST",
        path,
        201,
        kwargs={"json": {"shows": [{**ids(17465), "rating": 2}]}, "client_id": None},
    )
    for name, raw in BAD_BODIES.items():
        yield Case(
            f"{path} {name}",
            operation_id,
            "POST",
            path,
            400,
            "wrong_parameter",
            kwargs={"content": raw},
        )
    yield from auth_cases(operation_id, "POST", path)


def auth_cases(operation_id: str, method: str, path: str) -> Iterator[Case]:
    """Refusals every authenticated route shares."""
    refusals = (
        ("no token", 401, "user_token_failed", {"token": None}),
        ("wrong token", 401, "user_token_failed", {"token": "0" * 64}),
        ("no client_id", 412, "client_id_failed", {"client_id": None}),
        ("unknown client_id", 412, "client_id_failed", {"client_id": "nope"}),
    )
    for name, status, error, kwargs in refusals:
        yield Case(
            f"{method} {path} {name}", operation_id, method, path, status, error, kwargs=kwargs
        )


REMOVE = _load("post-sync-ratings-remove")["request"]["examples"]
ADD = {**_load("post-sync-ratings")["request"]["examples"]}
ADD["(unnamed)"] = _load("post-sync-ratings")["request"]["example"]
READ_OP = "get-user-ratings"
ACT_OP = "get-sync-activities"
SET_OP = "get-users-settings"

CASES = [
    *write_cases("post-sync-ratings-remove", "/sync/ratings/remove", REMOVE),
    *write_cases("post-sync-ratings", "/sync/ratings", ADD),
    Case(
        "add ?rating= fallback",
        "post-sync-ratings",
        "POST",
        "/sync/ratings",
        201,
        kwargs={"json": {"movies": [ids(752138)]}, "params": {"rating": "7"}},
    ),
    Case(
        "add odd ratings",
        "post-sync-ratings",
        "POST",
        "/sync/ratings",
        201,
        kwargs={
            "json": {
                "movies": [
                    {**ids(752138), "rating": "8"},
                    {**ids(53536), "rating": 8.5},
                    {**ids(210728), "rating": None},
                ]
            }
        },
    ),
    Case(
        "add bad rated_at",
        "post-sync-ratings",
        "POST",
        "/sync/ratings",
        201,
        kwargs={"json": {"movies": [{**ids(752138), "rating": 8, "rated_at": "soon"}]}},
    ),
    Case(
        "add over existing",
        "post-sync-ratings",
        "POST",
        "/sync/ratings",
        201,
        setup=HISTORY,
        kwargs={"json": {"shows": [{**ids(42040), "rating": 1}]}},
    ),
    Case("read empty library", READ_OP, "GET", "/sync/ratings", 200),
    Case("read everything", READ_OP, "GET", "/sync/ratings", 200, setup=LIBRARY),
    Case("read with history", READ_OP, "GET", "/sync/ratings", 200, setup=HISTORY),
    Case("read one type", READ_OP, "GET", "/sync/ratings/anime", 200, setup=HISTORY),
    Case("read type and ratings", READ_OP, "GET", "/sync/ratings/movies/6,8", 200, setup=HISTORY),
    Case(
        "read all ten",
        READ_OP,
        "GET",
        "/sync/ratings/shows/1,2,3,4,5,6,7,8,9,10",
        200,
        setup=HISTORY,
    ),
    Case("read out of range", READ_OP, "GET", "/sync/ratings/movies/99", 200, setup=HISTORY),
    Case("read unknown type", READ_OP, "GET", "/sync/ratings/tv_shows/9", 200, setup=HISTORY),
    Case("read non-digit rating", READ_OP, "GET", "/sync/ratings/shows/all", 200, setup=HISTORY),
    Case("read POST alias", READ_OP, "POST", "/sync/ratings/movies/8", 200, setup=HISTORY),
    Case("read trailing slash", READ_OP, "GET", "/sync/ratings/movies/", 200, setup=HISTORY),
    Case(
        "read delta",
        READ_OP,
        "GET",
        "/sync/ratings/movies",
        200,
        setup=HISTORY,
        kwargs={"params": {"date_from": "2026-05-28T20:26:39Z"}},
    ),
    Case(
        "read delta with removals",
        READ_OP,
        "GET",
        "/sync/ratings",
        200,
        setup=steps(HISTORY, tick(60_000), unrate({"movies": [ids(53536)], "shows": [ids(42040)]})),
        kwargs={"params": {"date_from": "2026-05-28T20:27:00Z"}},
    ),
    Case(
        "read bad date_from",
        READ_OP,
        "GET",
        "/sync/ratings/movies",
        400,
        "wrong_parameter",
        kwargs={"params": {"date_from": "last week"}},
    ),
    *auth_cases(READ_OP, "GET", "/sync/ratings/movies/8"),
    *auth_cases(READ_OP, "POST", "/sync/ratings/anime"),
    Case("activities fresh", ACT_OP, "GET", "/sync/activities", 200),
    Case(
        "activities after writes",
        ACT_OP,
        "GET",
        "/sync/activities",
        200,
        setup=steps(LIBRARY, tick(5_000), unrate({"anime": [ids(40398)]})),
    ),
    *auth_cases(ACT_OP, "GET", "/sync/activities"),
    Case("settings GET", SET_OP, "GET", "/users/settings", 200),
    Case("settings POST", SET_OP, "POST", "/users/settings", 200),
    *auth_cases(SET_OP, "GET", "/users/settings"),
    *auth_cases(SET_OP, "POST", "/users/settings"),
    Case("unknown URL", ACT_OP, "GET", "/sync/activity", 404, "url_failed"),
    Case("wrong method", ACT_OP, "DELETE", "/sync/activities", 405, "wrong_method"),
    Case(
        "wrong method on a write", "post-sync-ratings", "PUT", "/sync/ratings", 405, "wrong_method"
    ),
]


def test_case_names_are_unique() -> None:
    assert len({case.name for case in CASES}) == len(CASES)


@pytest.mark.parametrize("case", [case.param() for case in CASES])
def test_answers_match_the_official_schemas(api: Api, case: Case) -> None:
    if case.setup is not None:
        case.setup(api)
    kwargs = dict(case.kwargs)
    if kwargs.get("client_id", "default") is None and case.status < 400:
        kwargs["headers"] = {"simkl-api-key": api.client_id}
    response = api.request(case.method, case.path, **kwargs)
    assert response.status_code == case.status, response.text
    if case.error is not None:
        assert_simkl_error(response, case.status, case.error)
    assert_official_shape(response, case.operation_id)
    assert_documented_response(response)


@pytest.mark.parametrize(
    ("operation_id", "path"),
    [("post-sync-ratings-remove", "/sync/ratings/remove"), ("post-sync-ratings", "/sync/ratings")],
)
def test_too_large_and_too_many(catalog_database: str, operation_id: str, path: str) -> None:
    with serve_api(catalog_database, max_body_bytes=256, max_batch_items=2) as small:
        big = small.post(path, json={"movies": [ids(53536, imdb="tt" + "0" * 300)]})
        assert_simkl_error(big, 413, "body_too_large")
        assert_official_shape(big, operation_id)
        assert_documented_response(big)
        many = small.post(path, json={"movies": [ids(1), ids(2), ids(3)]})
        assert_simkl_error(many, 400, "max_items")
        assert_official_shape(many, operation_id)
        assert_documented_response(many)


@pytest.mark.parametrize(
    ("operation_id", "method", "path"),
    [
        ("post-sync-ratings-remove", "POST", "/sync/ratings/remove"),
        ("post-sync-ratings", "POST", "/sync/ratings"),
        ("get-user-ratings", "GET", "/sync/ratings/movies/8"),
        ("get-sync-activities", "GET", "/sync/activities"),
        ("get-users-settings", "GET", "/users/settings"),
    ],
)
def test_unexpected_failures(
    catalog_database: str,
    monkeypatch: pytest.MonkeyPatch,
    operation_id: str,
    method: str,
    path: str,
) -> None:
    app = create_app(Settings(database_url=catalog_database), clock=FrozenClock(START_MS))
    with TestClient(app, raise_server_exceptions=False) as client:

        async def fail(client_id: str, token: str | None) -> Any:
            raise RuntimeError("the database went away")

        store = client.app.services.store  # type: ignore[attr-defined]
        monkeypatch.setattr(store.read.grants, "authenticate", fail)
        response = client.request(
            method, path, params={"client_id": "x"}, headers={"Authorization": "Bearer y"}
        )
    assert_simkl_error(response, 500, "internal")
    assert_official_shape(response, operation_id)
    assert_documented_response(response)
