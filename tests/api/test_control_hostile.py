"""Hostile inputs to the control plane: every body-taking control endpoint answers a bad body
with a 4xx in the Simkl envelope and changes nothing (state, clock, faults, journal size); a
request the journal must keep, however deeply nested its JSON, is answered and journaled."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import orjson
import pytest

from tests.conftest import Api, serve_api
from tests.helpers import assert_json_response

BODY_ENDPOINTS = (
    ("POST", "reset"),
    ("PUT", "state"),
    ("POST", "seed"),
    ("POST", "approve"),
    ("PUT", "clock"),
    ("POST", "faults"),
)
DEEP = 990  # nesting orjson still parses (its limit is 1,024), deeper than Python's own stack
HOSTILE_BODIES: dict[str, bytes] = {
    "malformed": b"{",
    "not utf-8": b'{"now": "\xff\xfe"}',
    "an array": b"[]",
    "a string": b'"reset everything"',
    "a number too big for a float": b"1e400",
    "a nested value out of range": b'{"now": 1e400, "tables": 1e400, "apps": 1e400}',
    "wrong types everywhere": orjson.dumps(
        {"catalog": [1], "tables": "x", "apps": {"a": 1}, "now": [], "path": 7, "allow": "yes"}
    ),
    "a NUL in every text": orjson.dumps(
        {"now": "2024-05-01T18:00:00Z\x00", "path": "/\x00", "code": "\x00", "users": ["\x00"]}
    ),
    "deep nesting": b'{"tables": ' + b"[" * DEEP + b"]" * DEEP + b"}",
    "many keys": orjson.dumps({f"k{n}": n for n in range(50_000)}),
    "a huge text": orjson.dumps({"path": "x" * 3_000_000, "users": ["y" * 3_000_000]}),
}


@pytest.fixture
def api(catalog_database: str) -> Iterator[Api]:
    """The app with the control plane on, one rating and one fault in place."""
    with serve_api(catalog_database, control=True) as api:
        rated = api.post("/sync/ratings", json={"movies": [{"ids": {"simkl": 53536}, "rating": 8}]})
        assert rated.status_code == 201
        fault = {"method": "GET", "path": "/nowhere", "respond": "server_error"}
        assert _control(api, "POST", "faults", json=fault).status_code == 201
        yield api


def _control(api: Api, method: str, path: str, **kwargs: Any) -> Any:
    return api.client.request(method, f"/_control/{path}", **kwargs)


def _observed(api: Api) -> tuple[Any, ...]:
    """What a control request could change: the state document, the clock, the faults."""
    state = _control(api, "GET", "state").json()
    state["tables"].pop("control_journal", None)
    return state, _control(api, "GET", "clock").json(), _control(api, "GET", "faults").json()


@pytest.mark.parametrize(("method", "path"), BODY_ENDPOINTS)
@pytest.mark.parametrize("name", sorted(HOSTILE_BODIES))
def test_a_hostile_body_is_refused_and_changes_nothing(
    api: Api, method: str, path: str, name: str
) -> None:
    before = _observed(api)
    response = _control(
        api,
        method,
        path,
        content=HOSTILE_BODIES[name],
        headers={"content-type": "application/json"},
    )
    assert 400 <= response.status_code < 500, (response.status_code, response.text[:300])
    body = assert_json_response(response)
    assert set(body) == {"error", "code", "message"}
    assert body["code"] == response.status_code
    assert _observed(api) == before


def test_a_deeply_nested_body_is_answered_and_journaled(api: Api) -> None:
    nested = b"[" * DEEP + b"]" * DEEP
    response = api.post(
        "/sync/ratings", content=nested, headers={"content-type": "application/json"}
    )
    assert response.status_code == 400
    assert assert_json_response(response)["error"]
    entry = _control(api, "GET", "journal", params={"limit": 1}).json()[0]
    assert (entry["path"], entry["status"]) == ("/sync/ratings", 400)
    assert entry["body"] == f"<{len(nested)} bytes, nested too deep to keep>"
