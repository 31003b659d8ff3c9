"""Simkl's official description of the operations this server shares with it, from
tests/fixtures/openapi (written by scripts/extract_openapi_fixtures.py), and the checks that an
answer fits it and our own document.

Which official schema applies to an answer:
- the operation's own schema for that status;
- an error status the operation does not list (404, 405, 413) → the shared `ErrorResponse`;
- an error status an /oauth2/* operation does not list → its own RFC 6749 error schema (the
  envelope every /oauth2/* error shares);
- a 400 of an AUTH V1 endpoint → its own (`unauthorized_client` only) or the shared
  `ErrorResponse`: Simkl documents no other refusal there, and a malformed request gets the
  general one (spec §1.7);
- the PIN poll (200) → its two branches or the init shape: the official `oneOf` has two
  branches neither of which requires anything (so no answer fits exactly one), and its
  description says a gone code answers the `GET /oauth/pin` shape;
- the ratings read (200) → its own schema, which was inferred from one example and so types
  every field as non-null; the same rows are documented as `AllItemsEntry`, which marks
  `last_watched_at`, `user_rated_at`, `user_rating`, `last_watched`, `next_to_watch` and the
  media's `year` nullable (null-value conventions: unrated, not started, never watched,
  unknown). Those fields are allowed null here as the row schema says, and every read is also
  validated against that row schema (`AllItemsResponse`).

- a check-in (201) → the scrobble answer schema with `checkin` among the actions: the official
  schema, shared by the four scrobble operations, lists only `start`, `pause` and `scrobble`,
  while every check-in example answers `action: checkin`.
- the episode lists (200) and `POST /search/file` (200): an episode's `ids` may lack the simkl
  id the official schema requires; the catalog keeps no simkl ids of episodes (README,
  compatibility table), so `ids` holds the TVDB id when known, or nothing.

- `POST /sync/add-to-list` answers 201, as its own description and every sync write do; the
  official document lists that answer under 200 (SUCCESS_UNDER), whose schema applies.

`format: date-time` is checked (RFC 3339); other formats are annotations only.
"""

from __future__ import annotations

import json
import re
from functools import cache
from pathlib import Path
from typing import Any

import httpx2 as httpx
from jsonschema import Draft202012Validator, FormatChecker

from tests.contract.operations import Operation
from tests.helpers import assert_documented_response, assert_json_response

OFFICIAL = Path(__file__).resolve().parent.parent / "fixtures" / "openapi"
# Fixture files that describe no single operation.
SHARED = frozenset({"errors", "schemas"})
_RFC3339 = re.compile(
    r"\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])[Tt]([01]\d|2[0-3]):[0-5]\d:([0-5]\d|60)"
    r"(\.\d+)?([Zz]|[+-]([01]\d|2[0-3]):[0-5]\d)"
)
FORMATS = FormatChecker(formats=())


@FORMATS.checks("date-time")
def _is_date_time(value: object) -> bool:
    return not isinstance(value, str) or _RFC3339.fullmatch(value) is not None


@cache
def _load(name: str) -> dict[str, Any]:
    fixture: dict[str, Any] = json.loads((OFFICIAL / f"{name}.json").read_text())
    return fixture


def official_ids() -> set[str]:
    """The operationIds that have an official fixture."""
    return {path.stem for path in OFFICIAL.glob("*.json")} - SHARED


def official(operation_id: str) -> dict[str, Any] | None:
    """The official fixture of an operation, if Simkl documents one by that operationId."""
    return _load(operation_id) if operation_id in official_ids() else None


def shared_schemas() -> dict[str, Any]:
    """Official component schemas the tests use beyond the operations' own."""
    schemas: dict[str, Any] = _load("schemas")["schemas"]
    return schemas


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


# Operations whose official document lists the success under another status than its text.
SUCCESS_UNDER = {("post-sync-add-to-list", 201): 200}


@cache
def official_schemas(operation_id: str | None, status: int) -> tuple[dict[str, Any], ...]:
    """The official schemas an answer of that operation (None: of no operation, such as an
    unknown URL) and status must satisfy."""
    status = SUCCESS_UNDER.get((operation_id or "", status), status)
    fixture = _load(operation_id) if operation_id else None
    listed = fixture["responses"].get(str(status)) if fixture else None
    if listed is None:
        assert status >= 400, f"{operation_id} does not document {status}"
        if fixture is not None and fixture["path"].startswith("/oauth2/"):
            return (_oauth2_error_schema(fixture),)
        return (shared_schemas()["ErrorResponse"],)
    if "schema" not in listed:
        return ()  # a redirect or an empty answer: no body to check
    return _adjusted(operation_id, fixture, status, listed["schema"])


def _adjusted(
    operation_id: str | None, fixture: Any, status: int, schema: dict[str, Any]
) -> tuple[dict[str, Any], ...]:
    """An operation's own schema, with the adjustments the module's docstring lists."""
    if fixture is not None and fixture["path"].startswith("/oauth/") and status == 400:
        return ({"anyOf": [schema, shared_schemas()["ErrorResponse"]]},)
    if operation_id == "get-oauth-pin-user-code" and status == 200:
        init = _load("get-oauth-pin")["responses"]["200"]["schema"]
        return ({"anyOf": [*schema["oneOf"], init]},)
    if operation_id == "post-scrobble-checkin" and status == 201:
        action = schema["properties"]["action"]
        checkin = {**action, "enum": [*action["enum"], "checkin"]}
        return ({**schema, "properties": {**schema["properties"], "action": checkin}},)
    if operation_id in EPISODE_IDS_OPTIONAL and status == 200:
        return (_episode_ids_optional(schema),)
    if operation_id == "get-user-ratings" and status == 200:
        rows = shared_schemas()["AllItemsResponse"]
        return (_read_schema(schema, rows), rows)
    return (schema,)


EPISODE_IDS_OPTIONAL = frozenset(
    {"get-tv-episodes-id", "get-anime-episodes-id", "post-search-file"}
)


def _episode_ids_optional(node: Any) -> Any:
    """`node` with no `ids` object requiring a simkl id (`simkl` or `simkl_id`)."""
    if isinstance(node, list):
        return [_episode_ids_optional(item) for item in node]
    if not isinstance(node, dict):
        return node
    out = {key: _episode_ids_optional(value) for key, value in node.items()}
    if set(out.get("required", ())) & {"simkl", "simkl_id"} and "ids" not in out.get(
        "properties", {}
    ):
        out["required"] = [name for name in out["required"] if name not in {"simkl", "simkl_id"}]
    return out


def assert_official_shape(response: Any, operation_id: str | None) -> Any:
    """Validate a response body against the official schema(s) for its status; the body."""
    body = assert_json_response(response)
    for schema in official_schemas(operation_id, response.status_code):
        validator = Draft202012Validator(schema, format_checker=FORMATS)
        errors = sorted(validator.iter_errors(body), key=lambda e: list(e.absolute_path))
        assert not errors, "\n".join(
            f"{'/'.join(map(str, e.absolute_path)) or '(root)'}: {e.message}" for e in errors
        )
    return body


def assert_contract(response: httpx.Response, operation: Operation) -> Any:
    """The answer is one our document gives that operation and, where Simkl documents the
    operation too, one Simkl's schema allows; the body."""
    body = assert_documented_response(response)
    if official(operation.id) is not None and body is not None:
        assert_official_shape(response, operation.id)
    return body


def _oauth2_error_schema(fixture: dict[str, Any]) -> dict[str, Any]:
    """The RFC 6749 error envelope every error of an /oauth2/* operation shares."""
    for code, listed in sorted(fixture["responses"].items()):
        if int(code) >= 400 and "schema" in listed:
            schema: dict[str, Any] = listed["schema"]
            return schema
    raise AssertionError(f"{fixture['operationId']} documents no error schema")
