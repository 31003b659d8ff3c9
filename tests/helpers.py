"""Assertions shared by the API tests."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache
from typing import Any

import httpx2 as httpx
from jsonschema import Draft202012Validator

from simkl_server import openapi
from simkl_server.storage.dialect import Statement

ERROR_KEYS = frozenset({"error", "code", "message"})
# Statuses the router answers for any URL, so no operation lists them.
ROUTER_STATUSES = frozenset({404, 405})


def assert_json_response(response: httpx.Response) -> Any:
    """The decoded body of a response that must be JSON (by content type and by content)."""
    content_type = response.headers.get("content-type", "")
    assert content_type.split(";")[0].strip() == "application/json", (
        f"content-type {content_type!r}, body {response.text!r}"
    )
    return response.json()


def assert_simkl_error(response: httpx.Response, status: int, error_id: str) -> dict[str, Any]:
    """Check a Simkl error answer: the status, a JSON `{"error", "code", "message"}` envelope
    with exactly those keys, `error == error_id`, `code == status` and a non-empty text
    message. Returns the body for further checks."""
    assert response.status_code == status, (
        f"expected {status} {error_id}, got {response.status_code}: {response.text!r}"
    )
    body = assert_json_response(response)
    assert isinstance(body, dict), body
    assert set(body) == ERROR_KEYS, f"envelope keys {sorted(body)}, want {sorted(ERROR_KEYS)}"
    assert body["error"] == error_id, body
    assert type(body["code"]) is int, body
    assert body["code"] == status, body
    assert isinstance(body["message"], str), body
    assert body["message"].strip(), body
    return body


def assert_oauth2_error(response: httpx.Response, status: int, error: str) -> dict[str, Any]:
    """An /oauth2/* refusal: that status, RFC 6749's `{"error", "error_description"}` (no
    `code` member), and `no-store`."""
    assert response.status_code == status, (
        f"expected {status} {error}, got {response.status_code}: {response.text!r}"
    )
    body = assert_json_response(response)
    assert isinstance(body, dict), body
    assert set(body) == {"error", "error_description"}, body
    assert body["error"] == error, body
    assert response.headers["cache-control"] == "no-store"
    return body


@cache
def openapi_document() -> dict[str, Any]:
    """This server's own OpenAPI document, as it serves it."""
    return openapi.document()


def documented_operation(method: str, path: str) -> dict[str, Any] | None:
    """The operation of our OpenAPI document that a request goes to, if any."""
    found = openapi.operation_for(openapi_document(), method, path)
    return found[1] if found is not None else None


def documented_schema(method: str, path: str, status: int) -> dict[str, Any]:
    """The JSON Schema our OpenAPI document gives the answer (router 404/405: the error)."""
    document = openapi_document()
    operation = documented_operation(method, path)
    if operation is None or status in ROUTER_STATUSES:
        assert status in ROUTER_STATUSES, f"{method} {path} is not documented, yet {status}"
        schema: dict[str, Any] = {"$ref": "#/components/schemas/Error"}
    else:
        response = operation["responses"].get(str(status))
        assert response is not None, f"{method} {path} does not document status {status}"
        if "$ref" in response:
            response = document["components"]["responses"][response["$ref"].rsplit("/", 1)[1]]
        schema = response["content"]["application/json"]["schema"]
    # References resolve against the document's components.
    return {**schema, "components": document["components"]}


def assert_documented_response(response: httpx.Response) -> Any:
    """Check an answer against this server's own OpenAPI document: its status is listed for
    that route and method, and its JSON body fits the schema (a redirect: its `Location`).
    Returns the body (None for a redirect)."""
    if 300 <= response.status_code < 400:
        operation = documented_operation(response.request.method, response.request.url.path)
        assert operation is not None
        assert str(response.status_code) in operation["responses"]
        assert response.headers.get("location"), "a redirect names where to"
        return None
    body = assert_json_response(response)
    schema = documented_schema(
        response.request.method, response.request.url.path, response.status_code
    )
    errors = sorted(
        Draft202012Validator(schema).iter_errors(body), key=lambda e: list(e.absolute_path)
    )
    assert not errors, "\n".join(
        f"{'/'.join(map(str, e.absolute_path)) or '(root)'}: {e.message}" for e in errors
    )
    return body


def flatten(tree: dict[str, Any], prefix: str = "") -> dict[str, str | None]:
    """An activities tree as `{"movies.all": stamp, ...}`: every timestamp by dotted name."""
    flat: dict[str, str | None] = {}
    for key, value in tree.items():
        if isinstance(value, dict):
            flat.update(flatten(value, f"{prefix}{key}."))
        else:
            flat[f"{prefix}{key}"] = value
    return flat


@dataclass
class StatementLog:
    """Every statement the store sent to the database, with the thread that sent it."""

    sent: list[tuple[Statement, int]] = field(default_factory=list)

    def count_during(self, action: Callable[[], Any]) -> int:
        """How many statements `action` caused."""
        return len(self.during(action))

    def during(self, action: Callable[[], Any]) -> list[Statement]:
        """The statements `action` caused, in order."""
        start = len(self.sent)
        action()
        return [statement for statement, _ in self.sent[start:]]
