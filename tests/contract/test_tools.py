"""The tools that take their list of operations from our OpenAPI document instead of keeping
one: the official-fixture extractor and the benchmark's trimmed copy of the official document."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from bench.scenarios import SCENARIOS
from bench.trim_openapi import benchmarked_operation_ids, official_operations
from tests.contract.operations import by_id

ROOT = Path(__file__).resolve().parents[2]
ENVELOPE = {"type": "object", "properties": {"error": {"type": "string"}}}


def official_like(*operation_ids: str) -> dict[str, Any]:
    """A small OpenAPI 3.1 document in the official one's shape with these operations."""
    responses = ("BadRequest", "Unauthorized", "NotFound", "ClientIdFailed", "RateLimited")
    error = {"content": {"application/json": {"schema": ENVELOPE, "example": {"error": "x"}}}}
    return {
        "openapi": "3.1.0",
        "info": {"title": "Simkl API", "version": "1.0.0"},
        "paths": {
            f"/p{number}": {"get": {"operationId": operation_id, "responses": {"200": error}}}
            for number, operation_id in enumerate(operation_ids)
        },
        "components": {
            "responses": dict.fromkeys((*responses, "ServerError"), error),
            "schemas": {"AllItemsResponse": ENVELOPE, "ErrorResponse": ENVELOPE},
        },
    }


def test_the_extractor_writes_a_fixture_per_operation_both_documents_have(tmp_path: Path) -> None:
    source = tmp_path / "official.json"
    source.write_text(json.dumps(official_like("get-sync-activities", "get-calendar-dvd")))
    out = tmp_path / "fixtures"

    run = subprocess.run(
        [sys.executable, "scripts/extract_openapi_fixtures.py", str(source), "--out", str(out)],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},  # this checkout's package and document
        capture_output=True,
        text=True,
        check=False,
    )

    assert run.returncode == 0, run.stderr
    written = {path.name for path in out.iterdir()}
    assert written == {"get-sync-activities.json", "errors.json", "schemas.json"}
    fixture = json.loads((out / "get-sync-activities.json").read_text())
    assert (fixture["method"], fixture["path"]) == ("GET", "/p0")
    (note,) = [line for line in run.stdout.splitlines() if "no fixture" in line]
    assert set(note.split(": ", 1)[1].split(", ")) == set(by_id()) - {"get-sync-activities"}


def test_the_benchmark_trims_to_the_operations_its_scenarios_request() -> None:
    ids = benchmarked_operation_ids()

    assert ids == [
        "get-user-ratings",
        "get-sync-activities",
        "post-sync-ratings-remove",
        "post-sync-ratings",
        "post-sync-history",
        "get-users-settings",
        "get-movies-id",
        "get-tv-id",
        "get-anime-id",
        "get-search-id",
        "redirect",
        "post-sync-watched",
    ]
    assert {by_id()[i].method for i in ids} == {scenario.method for scenario in SCENARIOS}
    unofficial = [s.path for s in SCENARIOS if not s.official]
    assert unofficial == ["/sync/all-items"]


def test_the_benchmark_names_an_operation_the_official_document_lacks() -> None:
    official = official_like("get-sync-activities")

    assert official_operations(official, ["get-sync-activities"]) == [("/p0", "get")]
    with pytest.raises(LookupError, match="post-sync-ratings"):
        official_operations(official, ["get-sync-activities", "post-sync-ratings"])
