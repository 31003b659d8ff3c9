"""The server's own OpenAPI document (simkl_server/openapi/openapi.json): valid OpenAPI 3.1,
exactly the app's routes and methods, served as is, and consistent with Simkl's official
examples for the operations both describe.

`/openapi.json` documents itself like any route. HEAD is not documented: Starlette answers it
on every GET route, as HTTP requires, so it is implied by GET.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import httpx2 as httpx
import pytest
from jsonschema import Draft202012Validator
from openapi_spec_validator import OpenAPIV31SpecValidator
from starlette.routing import Route

import simkl_server
from simkl_server.app import create_app
from simkl_server.config import Settings
from tests.conftest import Api
from tests.helpers import assert_documented_response, openapi_document

DOCUMENT_PATH = Path(simkl_server.__file__).parent / "openapi" / "openapi.json"
OFFICIAL = Path(__file__).parent / "fixtures" / "openapi"
HTTP_METHODS = frozenset({"get", "put", "post", "delete", "options", "head", "patch", "trace"})
EMPTY_REMOVE = {"deleted": {"movies": 0, "shows": 0}, "not_found": {"movies": [], "shows": []}}


def documented() -> set[tuple[str, str]]:
    """(path, METHOD) of every documented operation."""
    return {
        (path, method.upper())
        for path, item in openapi_document()["paths"].items()
        for method in item
        if method in HTTP_METHODS
    }


def operations() -> list[tuple[str, str, dict[str, Any]]]:
    """(path, method, operation) of every documented operation."""
    return [
        (path, method, operation)
        for path, item in openapi_document()["paths"].items()
        for method, operation in item.items()
        if method in HTTP_METHODS
    ]


def with_components(schema: dict[str, Any]) -> dict[str, Any]:
    """A schema whose `#/components/...` references resolve in our document."""
    return {**schema, "components": openapi_document()["components"]}


def test_the_document_is_valid_openapi_3_1() -> None:
    document = openapi_document()
    assert document["openapi"].startswith("3.1.")
    errors = list(OpenAPIV31SpecValidator(document).iter_errors())
    assert not errors, [str(error) for error in errors]


def test_it_names_this_server_and_its_version() -> None:
    info = openapi_document()["info"]
    assert (info["title"], info["version"]) == ("simkl-server", simkl_server.__version__)


def test_paths_and_methods_are_exactly_the_apps_routes() -> None:
    app = create_app(Settings(database_url="sqlite:///never-opened.db"))
    routes = [route for route in app.routes if isinstance(route, Route)]
    assert len(routes) == len(app.routes), "every route is a plain Route"
    served: set[tuple[str, str]] = set()
    for route in routes:
        methods = route.methods or set()
        assert "HEAD" not in methods or "GET" in methods
        served |= {(route.path, method) for method in methods if method != "HEAD"}
    assert documented() == served


def test_operation_ids_are_unique() -> None:
    ids = [operation["operationId"] for _, _, operation in operations()]
    assert len(ids) == len(set(ids))


def test_every_authenticated_operation_documents_its_refusals() -> None:
    for path, method, operation in operations():
        security = operation.get("security", openapi_document()["security"])
        codes = set(operation["responses"])
        assert "500" in codes or path == "/openapi.json", (method, path)
        if security:
            assert {"401", "412"} <= codes, (method, path)
        if "requestBody" in operation:
            assert {"400", "413"} <= codes, (method, path)
        components = openapi_document()["components"]["parameters"]
        declared = {
            parameter["name"]
            for ref in operation.get("parameters", [])
            if (parameter := components[ref["$ref"].rsplit("/", 1)[1]])["in"] == "path"
        }
        assert declared == set(re.findall(r"\{([^}]+)\}", path)), (method, path)


def test_every_error_answer_is_the_envelope() -> None:
    document = openapi_document()
    for name, response in document["components"]["responses"].items():
        schema = response["content"]["application/json"]["schema"]
        assert schema == {"$ref": "#/components/schemas/Error"}, name
        for example in response["content"]["application/json"]["examples"].values():
            Draft202012Validator(with_components(schema)).validate(example["value"])
    for path, method, operation in operations():
        for code, response in operation["responses"].items():
            if int(code) >= 400:
                assert response["$ref"].startswith("#/components/responses/"), (method, path)


def test_schema_examples_fit_their_schemas() -> None:
    for name, schema in openapi_document()["components"]["schemas"].items():
        Draft202012Validator.check_schema(schema)
        for example in schema.get("examples", []):
            Draft202012Validator(with_components(schema)).validate(example)
            assert example is not None, name


def test_the_document_is_served_as_is(api: Api) -> None:
    expected = DOCUMENT_PATH.read_bytes()
    for path in ("/openapi.json", "/openapi.json/"):
        response = api.client.get(path)  # no credentials: the document is public
        assert response.status_code == 200
        assert response.headers["content-type"] == "application/json"
        assert response.content == expected
    assert json.loads(expected) == openapi_document()


# --- Agreement with Simkl's official examples --------------------------------------------


def official(operation_id: str) -> dict[str, Any]:
    """An operation of the official document, from the test fixtures."""
    fixture: dict[str, Any] = json.loads((OFFICIAL / f"{operation_id}.json").read_text())
    return fixture


def shared_operations() -> list[Any]:
    """Operations our document and the official one both describe (same operationId)."""
    names = {path.stem for path in OFFICIAL.glob("*.json")}
    return [
        pytest.param(path, method, operation, id=operation["operationId"])
        for path, method, operation in operations()
        if operation["operationId"] in names
    ]


def test_every_official_operation_is_documented() -> None:
    ids = {param.values[2]["operationId"] for param in shared_operations()}
    assert ids == {path.stem for path in OFFICIAL.glob("*.json")} - {"errors", "schemas"}


@pytest.mark.parametrize(("path", "method", "operation"), shared_operations())
def test_official_examples_fit_our_schemas(
    path: str, method: str, operation: dict[str, Any]
) -> None:
    theirs = official(operation["operationId"])
    assert (theirs["path"], theirs["method"]) == (path, method.upper())
    if "requestBody" in operation:
        schema = operation["requestBody"]["content"]["application/json"]["schema"]
        validator = Draft202012Validator(with_components(schema))
        request = theirs["request"]
        for example in [*request.get("examples", {}).values(), request.get("example", {})]:
            validator.validate(example)
    (status,) = [code for code in operation["responses"] if code.startswith("2")]
    schema = operation["responses"][status]["content"]["application/json"]["schema"]
    validator = Draft202012Validator(with_components(schema))
    answers = theirs["responses"][status]
    examples = [*answers.get("examples", {}).values()]
    examples += [answers["example"]] if "example" in answers else []
    assert examples, f"no official example for {status}"
    for example in examples:
        validator.validate(example)


# --- The helper other tests use to check answers against this document ------------------


def fake(method: str, path: str, status: int, body: Any) -> httpx.Response:
    """A response to a request, without a server."""
    return httpx.Response(status, json=body, request=httpx.Request(method, f"http://t{path}"))


ENVELOPE = {"error": "wrong_method", "code": 405, "message": "Method not allowed on this URL"}


@pytest.mark.parametrize(
    ("method", "path", "status", "body"),
    [
        ("POST", "/sync/ratings", 201, {"added": {"movies": 1, "shows": 0}, "not_found": {}}),
        ("POST", "/sync/ratings/remove", 200, EMPTY_REMOVE),  # writes answer 201
        ("GET", "/sync/activities", 400, {**ENVELOPE, "code": 400}),  # never 400
        ("GET", "/sync/ratings/movies/8", 200, {"movies": []}),  # no empty buckets
        ("GET", "/users/settings/", 200, {"user": {}, "account": {}}),
        ("DELETE", "/sync/activities", 405, {"error": "wrong_method", "code": 405}),
        ("GET", "/nowhere", 200, {}),
    ],
)
def test_the_helper_rejects_undocumented_answers(
    method: str, path: str, status: int, body: Any
) -> None:
    with pytest.raises(AssertionError):
        assert_documented_response(fake(method, path, status, body))


def test_the_helper_accepts_documented_answers() -> None:
    assert_documented_response(fake("POST", "/sync/ratings/remove/", 201, EMPTY_REMOVE))
    assert_documented_response(fake("POST", "/sync/ratings/shows", 200, {}))
    assert_documented_response(fake("DELETE", "/sync/activities", 405, ENVELOPE))
    assert_documented_response(fake("GET", "/nowhere", 404, {**ENVELOPE, "code": 404}))
