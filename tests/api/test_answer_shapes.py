"""Answers of the ratings, activities and settings endpoints in the states and to the
requests that matter to them (writes over existing state, watch history, filters, odd and bad
bodies) validate against Simkl's official JSON Schema for the operation and status and against
our own OpenAPI document. Every operation's sample request, its refusals and its failures are
checked the same way by tests/contract, from the document.

Requests echo unmatched items as sent, so an item sent with numeric external ids or a string
`year` comes back that way, outside the official `Movie`/`Show` schema of `not_found`; the
requests below send ids as the official documents do (strings, `simkl` an integer).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest

from tests.conftest import Api, serve_api
from tests.contract.official import assert_official_shape, official
from tests.helpers import assert_documented_response, assert_simkl_error
from tests.seed import seed_watch_state


def official_request(operation_id: str) -> dict[str, Any]:
    """The official request examples of an operation."""
    fixture = official(operation_id)
    assert fixture is not None
    request: dict[str, Any] = fixture["request"]
    return request


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
    """Seed watch state no implemented endpoint writes yet, straight into alice's library row."""
    return lambda api: seed_watch_state(api, "alice", item_id, **columns)


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


REMOVE = official_request("post-sync-ratings-remove")["examples"]
ADD = {**official_request("post-sync-ratings")["examples"]}
ADD["(unnamed)"] = official_request("post-sync-ratings")["example"]
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
    Case("activities fresh", ACT_OP, "GET", "/sync/activities", 200),
    Case(
        "activities after writes",
        ACT_OP,
        "GET",
        "/sync/activities",
        200,
        setup=steps(LIBRARY, tick(5_000), unrate({"anime": [ids(40398)]})),
    ),
    Case("settings GET", SET_OP, "GET", "/users/settings", 200),
    Case("settings POST", SET_OP, "POST", "/users/settings", 200),
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
