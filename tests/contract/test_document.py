"""The server's own OpenAPI document (assembled from simkl_server/openapi/*.json): valid
OpenAPI 3.1, exactly the app's routes and methods, served as assembled, each name defined in
one fragment only, and consistent with Simkl's official examples for the operations both
describe.

`/openapi.json` documents itself like any route. HEAD is not documented: Starlette answers it
on every GET route, as HTTP requires, so it is implied by GET.
"""

from __future__ import annotations

import json
import re
import tomllib
from collections.abc import Iterator
from fnmatch import fnmatch
from importlib import resources
from pathlib import Path
from typing import Any

import httpx2 as httpx
import pytest
from jsonschema import Draft202012Validator
from openapi_spec_validator import OpenAPIV31SpecValidator
from starlette.routing import Route

import simkl_server
from simkl_server import web
from simkl_server.app import create_app
from simkl_server.config import Settings
from simkl_server.openapi import FragmentError, assemble_folder, document_bytes, fragment_files
from tests.conftest import Api
from tests.contract.official import SUCCESS_UNDER, official, official_ids
from tests.contract.operations import (
    Operation,
    by_id,
    operations,
    params_where,
    resolve,
    sample_request,
)
from tests.helpers import assert_documented_response, documented_operation, openapi_document

EMPTY_REMOVE = {"deleted": {"movies": 0, "shows": 0}, "not_found": {"movies": [], "shows": []}}
FRAGMENTS = Path(simkl_server.__file__).parent / "openapi"


def with_components(schema: dict[str, Any]) -> dict[str, Any]:
    """A schema whose `#/components/...` references resolve in our document."""
    return {**schema, "components": openapi_document()["components"]}


def references(node: Any) -> Iterator[str]:
    """Every `$ref` inside a JSON value."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "$ref" and isinstance(value, str):
                yield value
            else:
                yield from references(value)
    elif isinstance(node, list):
        for value in node:
            yield from references(value)


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
        # `{id:path}` is documented as `{id}`: the convertor only lets the segment be empty.
        path = re.sub(r":path}", "}", route.path)
        served |= {(path, method) for method in methods if method != "HEAD"}
    pages = {
        (route.path, method)
        for route in web.ROUTES
        for method in route.methods or ()
        if method != "HEAD"
    }
    assert pages >= DOCUMENTED_PAGES
    documented = {(operation.path, operation.method) for operation in operations()}
    assert documented == (served - pages) | DOCUMENTED_PAGES


# The pages are for browsers, not API clients; Simkl documents its two consent pages, as we do.
DOCUMENTED_PAGES = {("/oauth/authorize", "GET"), ("/oauth2/authorize", "GET")}


def test_operation_ids_are_unique() -> None:
    ids = [operation.id for operation in operations()]
    assert len(ids) == len(set(ids))


@pytest.mark.parametrize("operation", params_where(lambda operation: True))
def test_every_operation_documents_its_refusals(operation: Operation) -> None:
    codes = operation.statuses
    if operation.security:
        assert 500 in codes  # authentication reads the store
    if operation.needs_client:
        assert 412 in codes
    if operation.needs_token:
        assert 401 in codes
    if operation.json_body:
        assert {400, 413} <= codes


@pytest.mark.parametrize("operation", params_where(lambda operation: True))
def test_every_path_segment_is_a_documented_parameter(operation: Operation) -> None:
    in_path = {
        resolve(parameter)["name"]
        for parameter in operation.spec.get("parameters", [])
        if resolve(parameter)["in"] == "path"
    }
    assert in_path == set(re.findall(r"\{([^}]+)\}", operation.path))


@pytest.mark.parametrize("operation", params_where(lambda operation: True))
def test_every_operation_has_a_sample_request(operation: Operation) -> None:
    sample = sample_request(operation)
    assert "{" not in sample.path, sample.path
    assert documented_operation(sample.method, sample.path) == operation.spec
    assert sample.status in operation.statuses
    assert set(sample.after) <= set(by_id()), "x-sample-request.after names unknown operations"
    if operation.json_body:
        schema = resolve(operation.spec["requestBody"])["content"]["application/json"]["schema"]
        Draft202012Validator(with_components(schema)).validate(sample.body.get("json", {}))


def test_every_tag_is_declared_once() -> None:
    declared = [tag["name"] for tag in openapi_document()["tags"]]
    assert len(declared) == len(set(declared))
    for operation in operations():
        assert set(operation.spec.get("tags", [])) <= set(declared), operation.id


def test_a_fragments_own_components_are_used_by_it_alone() -> None:
    """A component two areas use belongs in common.json (see simkl_server/openapi/README.md)."""
    files = {file.name: json.loads(file.read_text()) for file in FRAGMENTS.glob("*.json")}
    owners = {
        f"#/components/{section}/{name}": owner
        for owner, content in files.items()
        for section, names in content.get("components", {}).items()
        for name in names
    }
    for owner, content in files.items():
        for ref in references(content):
            assert ref in owners, f"{owner}: {ref} is defined nowhere"
            assert owners[ref] in {owner, "common.json"}, (
                f"{owner} uses {ref} of {owners[ref]}: move it to common.json"
            )


SIMKL_ENVELOPE = {"$ref": "#/components/schemas/Error"}
OAUTH2_ENVELOPE = {"$ref": "#/components/schemas/OAuth2Error"}
# Error answers whose body Simkl documents as something else than the envelope.
OWN_BODIES = {"DuplicateStop": {"$ref": "#/components/schemas/DuplicateStop"}}


def test_every_error_answer_is_the_envelope() -> None:
    """Simkl's `{"error", "code", "message"}` everywhere but on `/oauth2/*`, where RFC 6749's
    `{"error", "error_description"}` is (as Simkl answers there)."""
    document = openapi_document()
    for name, response in document["components"]["responses"].items():
        schema = response["content"]["application/json"]["schema"]
        assert schema in (SIMKL_ENVELOPE, OAUTH2_ENVELOPE, OWN_BODIES.get(name)), name
        for example in response["content"]["application/json"]["examples"].values():
            Draft202012Validator(with_components(schema)).validate(example["value"])
    for operation in operations():
        for code, response in operation.spec["responses"].items():
            if int(code) >= 400:
                assert response["$ref"].startswith("#/components/responses/"), operation.id
                if response["$ref"].rsplit("/", 1)[1] in OWN_BODIES:
                    continue
                named = resolve(response)
                envelope = named["content"]["application/json"]["schema"]
                oauth2 = operation.path.startswith("/oauth2/")
                assert envelope == (OAUTH2_ENVELOPE if oauth2 else SIMKL_ENVELOPE), operation.id


def test_schema_examples_fit_their_schemas() -> None:
    for name, schema in openapi_document()["components"]["schemas"].items():
        Draft202012Validator.check_schema(schema)
        for example in schema.get("examples", []):
            Draft202012Validator(with_components(schema)).validate(example)
            assert example is not None, name


def test_the_document_is_served_as_assembled(api: Api) -> None:
    expected = document_bytes()
    for path in ("/openapi.json", "/openapi.json/"):
        response = api.client.get(path)  # no credentials: the document is public
        assert response.status_code == 200
        assert response.headers["content-type"] == "application/json"
        assert response.content == expected
    assert json.loads(expected) == openapi_document()


# --- Assembly from fragments ------------------------------------------------------------

COMMON = {
    "openapi": "3.1.0",
    "info": {"title": "t", "version": "written by hand"},
    "tags": [{"name": "Shared"}],
    "components": {"schemas": {"Error": {"type": "object"}}},
}


def write_fragments(folder: Path, **fragments: Any) -> Path:
    """A folder holding COMMON as common.json and each fragment as `<name>.json`."""
    (folder / "common.json").write_text(json.dumps(COMMON))
    for name, fragment in fragments.items():
        (folder / f"{name}.json").write_text(json.dumps(fragment))
    (folder / "README.md").write_text("not a fragment")
    return folder


def test_fragments_are_every_json_file_but_common() -> None:
    names = [file.name for file in fragment_files()]
    assert names == sorted(names)
    assert "common.json" not in names
    assert {"activities.json", "meta.json", "ratings.json", "users.json"} <= set(names)


def test_the_package_data_ships_every_fragment() -> None:
    pyproject = tomllib.loads((Path(__file__).parents[2] / "pyproject.toml").read_text())
    shipped = pyproject["tool"]["setuptools"]["package-data"]["simkl_server"]
    for file in [*fragment_files(), resources.files("simkl_server.openapi") / "common.json"]:
        assert any(fnmatch(f"openapi/{file.name}", pattern) for pattern in shipped), file.name


def test_a_fragment_added_to_the_folder_is_assembled(tmp_path: Path) -> None:
    one: dict[str, Any] = {"paths": {"/a": {"get": {}}}, "components": {"schemas": {"A": {}}}}
    two: dict[str, Any] = {"tags": [{"name": "B"}], "paths": {"/b": {"post": {}}}}
    document = assemble_folder(write_fragments(tmp_path, one=one, two=two))
    assert list(document["paths"]) == ["/a", "/b"]
    assert list(document["components"]["schemas"]) == ["Error", "A"]
    assert [tag["name"] for tag in document["tags"]] == ["Shared", "B"]
    assert document["info"] == {"title": "t", "version": simkl_server.__version__}


@pytest.mark.parametrize(
    ("fragments", "refusal"),
    [
        ({"a": {"paths": {"/x": {}}}, "b": {"paths": {"/x": {}}}}, "b.json: path '/x'"),
        ({"a": {"components": {"schemas": {"Error": {}}}}}, "a.json: schema 'Error'"),
        (
            {
                "a": {"components": {"parameters": {"P": {}}}},
                "b": {"components": {"parameters": {"P": {}}}},
            },
            "b.json: parameter 'P'",
        ),
        ({"a": {"tags": [{"name": "Shared"}]}}, "a.json: tag 'Shared'"),
        ({"a": {"openapi": "3.0.0"}}, "a.json: only"),
        ({"a": []}, "a.json: a fragment is a JSON object"),
    ],
)
def test_a_name_defined_twice_is_refused(
    tmp_path: Path, fragments: dict[str, Any], refusal: str
) -> None:
    with pytest.raises(FragmentError, match=re.escape(refusal)):
        assemble_folder(write_fragments(tmp_path, **fragments))


# --- Agreement with Simkl's official examples --------------------------------------------


def test_every_official_operation_is_documented() -> None:
    assert official_ids() <= set(by_id())


# Official request examples of bodies the operation refuses (their documented answer is 400).
REFUSED_BODIES = {
    ("post-sync-add-to-list", "negative_top_level_to_rejected"),
    ("post-scrobble-start", "negative_scrobble_empty_body"),
}


@pytest.mark.parametrize("operation", params_where(lambda op: official(op.id) is not None))
def test_official_examples_fit_our_schemas(operation: Operation) -> None:
    theirs = official(operation.id)
    assert theirs is not None
    assert (theirs["path"], theirs["method"]) == (operation.path, operation.method)
    if operation.json_body:
        schema = resolve(operation.spec["requestBody"])["content"]["application/json"]["schema"]
        validator = Draft202012Validator(with_components(schema))
        request = theirs["request"]
        named = request.get("examples", {})
        unnamed = [(None, request["example"])] if "example" in request else []
        for name, example in [*named.items(), *unnamed]:
            if (operation.id, name) not in REFUSED_BODIES:
                validator.validate(example)
    ours_of = {str(t): str(o) for (op, o), t in SUCCESS_UNDER.items() if op == operation.id}
    checked = 0
    for status, answers in theirs["responses"].items():
        mine = resolve(operation.spec["responses"].get(ours_of.get(status, status), {}))
        content = mine.get("content", {})
        if "application/json" not in content:
            continue  # a page, a redirect or an empty answer (RFC 7009's 200)
        schema = content["application/json"]["schema"]
        validator = Draft202012Validator(with_components(schema))
        examples = [*answers.get("examples", {}).values()]
        examples += [answers["example"]] if "example" in answers else []
        for example in examples:
            if schema == SIMKL_ENVELOPE:  # Simkl's examples may omit the optional message
                validator.validate({"message": "", "code": int(status), **example})
            else:
                validator.validate(example)
            checked += 1
    assert checked, f"no official example of {operation.id} fits a JSON answer of ours"


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
