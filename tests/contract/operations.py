"""The operations of this server's OpenAPI document, and the concrete request the contract tests
send to each, built from the document alone.

A sample request fills every path parameter from its `example`, sends the required query and
header parameters' `example`s, and the request body's example (the media type's `example` or
first `examples` entry, else the body schema's first `examples` entry). An operation may adjust
that with the `x-sample-request` extension (all keys optional):

    "x-sample-request": {
      "after": ["post-sync-ratings"],   # operationIds whose sample requests run first
      "parameters": {"date_from": "2026-05-01T00:00:00Z"},   # values by parameter name
      "body": {"movies": []},           # the JSON body instead of the documented example
      "status": 201                     # the expected status, if not the one documented 2xx
    }
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from functools import cache
from typing import Any

import pytest

from simkl_server.openapi import HTTP_METHODS
from tests.conftest import Api
from tests.helpers import openapi_document

SAMPLE = "x-sample-request"
CLIENT_SCHEMES = frozenset({"clientId", "simklApiKey"})
# Parameters the test client sends on every request (credentials and identification).
SENT_BY_CLIENT = frozenset({"client_id", "simkl-api-key", "app-name", "app-version", "user-agent"})


def resolve(node: Any) -> Any:
    """A reference object replaced by what it points at in our document."""
    while isinstance(node, dict) and "$ref" in node:
        target: Any = openapi_document()
        for part in node["$ref"].removeprefix("#/").split("/"):
            target = target[part]
        node = target
    return node


@dataclass(frozen=True)
class Operation:
    """One documented operation: its path template, method and OpenAPI operation object."""

    path: str
    method: str
    spec: dict[str, Any] = field(compare=False)

    @property
    def id(self) -> str:
        """The operationId."""
        operation_id: str = self.spec["operationId"]
        return operation_id

    @property
    def security(self) -> list[dict[str, Any]]:
        """The security requirements (alternatives), the document's default if none of its own."""
        requirements: list[dict[str, Any]] = self.spec.get(
            "security", openapi_document().get("security", [])
        )
        return requirements

    @property
    def needs_client(self) -> bool:
        """Whether every way to call it names the app (client_id or simkl-api-key)."""
        alternatives = self.security
        return bool(alternatives) and all(CLIENT_SCHEMES & set(alt) for alt in alternatives)

    @property
    def needs_token(self) -> bool:
        """Whether every way to call it carries a user's bearer token."""
        alternatives = self.security
        return bool(alternatives) and all("bearerAuth" in alt for alt in alternatives)

    @property
    def statuses(self) -> set[int]:
        """Every status it documents."""
        return {int(code) for code in self.spec["responses"]}

    @property
    def json_body(self) -> bool:
        """Whether it takes a JSON request body."""
        body = resolve(self.spec.get("requestBody", {}))
        return "application/json" in body.get("content", {})

    def param(self) -> Any:
        """As a pytest parameter named after the operation."""
        return pytest.param(self, id=self.id)


def operations() -> list[Operation]:
    """Every documented operation, in document order."""
    return [
        Operation(path, method.upper(), spec)
        for path, item in openapi_document()["paths"].items()
        for method, spec in item.items()
        if method in HTTP_METHODS
    ]


@cache
def by_id() -> dict[str, Operation]:
    """Every documented operation by operationId."""
    return {operation.id: operation for operation in operations()}


def params_where(condition: Callable[[Operation], bool]) -> list[Any]:
    """The operations for which `condition(operation)` holds, as pytest parameters."""
    return [operation.param() for operation in operations() if condition(operation)]


@dataclass(frozen=True)
class SampleRequest:
    """A concrete request to one operation and the status it is documented to get."""

    method: str
    path: str
    params: dict[str, str]
    headers: dict[str, str]
    body: dict[str, Any]  # {"json": ...} or nothing
    status: int
    after: tuple[str, ...]


def _parameters(operation: Operation) -> Iterator[dict[str, Any]]:
    item = openapi_document()["paths"][operation.path]
    for parameter in [*item.get("parameters", []), *operation.spec.get("parameters", [])]:
        yield resolve(parameter)


def _body_example(operation: Operation) -> dict[str, Any]:
    """{"json": the documented request body example}, or {} for an operation without one."""
    if not operation.json_body:
        return {}
    media = resolve(operation.spec["requestBody"])["content"]["application/json"]
    if "example" in media:
        return {"json": media["example"]}
    if media.get("examples"):
        return {"json": resolve(next(iter(media["examples"].values())))["value"]}
    schema = resolve(media.get("schema", {}))
    return {"json": schema["examples"][0]} if schema.get("examples") else {}


def _success_status(operation: Operation) -> int:
    successes = sorted(status for status in operation.statuses if 200 <= status < 400)
    assert len(successes) == 1, (
        f"{operation.id} documents {successes}: say which one its sample gets ({SAMPLE}.status)"
    )
    return successes[0]


@cache
def sample_request(operation: Operation) -> SampleRequest:
    """The operation's sample request, from its parameters' examples and `x-sample-request`."""
    sample = operation.spec.get(SAMPLE, {})
    values = sample.get("parameters", {})
    path = operation.path
    params: dict[str, str] = {}
    headers: dict[str, str] = {}
    for parameter in _parameters(operation):
        name, place = parameter["name"], parameter["in"]
        value = values.get(name, parameter.get("example"))
        if place == "path":
            assert value is not None, f"{operation.id}: path parameter {name!r} has no example"
            path = path.replace(f"{{{name}}}", str(value))
        elif value is None or name.lower() in SENT_BY_CLIENT:
            continue
        elif parameter.get("required") or name in values:
            (params if place == "query" else headers)[name] = str(value)
    body = {"json": sample["body"]} if "body" in sample else _body_example(operation)
    status = sample.get("status") or _success_status(operation)
    return SampleRequest(
        operation.method, path, params, headers, body, status, tuple(sample.get("after", ()))
    )


def send_sample(api: Api, operation: Operation, **overrides: Any) -> Any:
    """Run the requests its sample needs first, then send it (with `overrides` for
    `Api.request`, such as `token=None`); the response."""
    sample = sample_request(operation)
    for prior_id in sample.after:
        prior = send_sample(api, by_id()[prior_id])
        assert prior.status_code == sample_request(by_id()[prior_id]).status, prior.text
    return send(api, sample, **overrides)


def send(api: Api, sample: SampleRequest, **overrides: Any) -> Any:
    """Send a sample request as is (nothing before it)."""
    params = {**sample.params, **overrides.pop("params", {})}
    headers = {**sample.headers, **overrides.pop("headers", {})}
    kwargs = {**sample.body, **overrides}
    return api.request(sample.method, sample.path, params=params, headers=headers, **kwargs)
