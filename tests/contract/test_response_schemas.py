"""Every answer of every documented operation fits the schema our OpenAPI document gives it
and, for the operations Simkl documents too, Simkl's official JSON Schema for that operation
and status (tests/contract/official.py says which applies). The sample request of each
operation comes from the document (tests/contract/operations.py), so a new endpoint is checked
here by adding its fragment; endpoint-specific requests are in tests/api/test_answer_shapes.py.

Requests echo unmatched items as sent, so an item sent with numeric external ids or a string
`year` comes back that way, outside the official `Movie`/`Show` schema of `not_found`; the
samples send ids as the official documents do (strings, `simkl` an integer).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import pytest
from jsonschema import Draft202012Validator

from tests.conftest import Api
from tests.contract.official import (
    assert_contract,
    assert_official_shape,
    official,
    official_schemas,
)
from tests.contract.operations import Operation, params_where, sample_request, send_sample

OFFICIAL = params_where(lambda operation: official(operation.id) is not None)


@pytest.mark.parametrize("operation", params_where(lambda operation: True))
def test_the_sample_answer_fits_the_documented_schemas(api: Api, operation: Operation) -> None:
    response = send_sample(api, operation)
    assert response.status_code == sample_request(operation).status, response.text
    assert_contract(response, operation)


# --- The helper itself ---------------------------------------------------------------------


@pytest.mark.parametrize("operation", OFFICIAL)
def test_every_official_schema_is_valid_draft_2020_12(operation: Operation) -> None:
    fixture = official(operation.id)
    assert fixture is not None
    for status in fixture["responses"]:
        for schema in official_schemas(operation.id, int(status)):
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
    fixture = official("get-sync-activities")
    assert fixture is not None
    tree = fixture["responses"]["200"]["examples"]["active_user"]
    assert_official_shape(FakeResponse(200, tree), "get-sync-activities")
    for bad in ("2026-05-14 06:50:38Z", "2026-05-14T06:50:38", "2026-13-14T06:50:38Z", ""):
        wrong = FakeResponse(200, {**tree, "all": bad})
        with pytest.raises(AssertionError, match="date-time"):
            assert_official_shape(wrong, "get-sync-activities")


def test_read_rows_may_be_null_where_the_documented_row_allows_it() -> None:
    row: dict[str, Any] = {
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
