"""What every documented operation's requests go through, driven by the OpenAPI document: the
client_id (query or `simkl-api-key` header) where its security names the app, the bearer token
where it names the user, identification, a JSON body's limits, the router's 404 and 405, and
the store failing; every refusal in the Simkl error envelope, documented for that operation
(our document and, where Simkl documents it, Simkl's). Each request is the operation's sample
(tests/contract/operations.py), so a new endpoint is covered by adding its fragment.
"""

from __future__ import annotations

import logging
import re
from typing import Any

import pytest
from starlette.testclient import TestClient

from simkl_server import web
from simkl_server.domain import auth
from tests.conftest import Api, serve_api
from tests.contract.official import assert_contract, assert_official_shape
from tests.contract.operations import (
    Operation,
    operations,
    params_where,
    resolve,
    sample_request,
    send,
    send_sample,
)
from tests.helpers import assert_documented_response, assert_oauth2_error, assert_simkl_error

CLIENT_ID_MESSAGE = "Your client_id is wrong. Try another one"
NEEDS_CLIENT = params_where(lambda operation: operation.needs_client)
NEEDS_TOKEN = params_where(lambda operation: operation.needs_token)
SECURED = params_where(lambda operation: bool(operation.security))
JSON_BODY = params_where(lambda operation: operation.json_body)
PROBED_METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")


# On /oauth2/* the same refusals come in RFC 6749's envelope, with its error ids.
OAUTH2_ERRORS = {
    "wrong_parameter": "invalid_request",
    "body_too_large": "invalid_request",
    "internal": "server_error",
}


def assert_refused(response: Any, operation: Operation, status: int, error: str) -> None:
    """A refusal: that status and error id in the envelope, documented for the operation."""
    if operation.path.startswith("/oauth2/"):
        assert_oauth2_error(response, status, OAUTH2_ERRORS.get(error, error))
    else:
        assert_simkl_error(response, status, error)
    assert_contract(response, operation)


# --- The app: client_id --------------------------------------------------------------------


@pytest.mark.parametrize("operation", NEEDS_CLIENT)
def test_client_id_may_come_from_the_query_or_the_api_key_header(
    api: Api, operation: Operation
) -> None:
    by_query = send_sample(api, operation)
    by_header = send_sample(
        api, operation, client_id=None, headers={"simkl-api-key": api.client_id}
    )

    assert by_query.status_code == sample_request(operation).status, by_query.text
    assert by_header.status_code == by_query.status_code, by_header.text
    assert_contract(by_header, operation)


@pytest.mark.parametrize("operation", NEEDS_CLIENT)
@pytest.mark.parametrize("client_id", [None, "", "not-a-client-id"])
def test_a_missing_or_unknown_client_id_fails_with_412(
    api: Api, operation: Operation, client_id: str | None
) -> None:
    response = send(api, sample_request(operation), client_id=client_id)

    assert_refused(response, operation, 412, "client_id_failed")
    assert response.json()["message"] == CLIENT_ID_MESSAGE


@pytest.mark.parametrize("operation", NEEDS_CLIENT)
def test_an_unknown_api_key_header_fails_with_412(api: Api, operation: Operation) -> None:
    sample = sample_request(operation)
    response = send(api, sample, client_id=None, headers={"simkl-api-key": "nope"})

    assert_refused(response, operation, 412, "client_id_failed")


# --- The user: bearer token ----------------------------------------------------------------


@pytest.mark.parametrize("operation", NEEDS_TOKEN)
@pytest.mark.parametrize(
    "authorization",
    [
        None,
        "Bearer",
        "Bearer ",
        "Bearer not-a-token",
        f"Bearer {'0' * 64}",
        "Basic dXNlcjpwYXNz",
        "not-a-token",
    ],
)
def test_a_missing_or_unknown_token_fails_with_401(
    api: Api, operation: Operation, authorization: str | None
) -> None:
    headers = {} if authorization is None else {"Authorization": authorization}

    response = send(api, sample_request(operation), token=None, headers=headers)

    assert_refused(response, operation, 401, "user_token_failed")


@pytest.mark.parametrize("operation", NEEDS_TOKEN)
def test_the_bearer_scheme_is_case_insensitive(api: Api, operation: Operation) -> None:
    lower = {"Authorization": f"bearer {api.token}"}

    response = send_sample(api, operation, token=None, headers=lower)

    assert response.status_code == sample_request(operation).status, response.text


@pytest.mark.parametrize("operation", NEEDS_TOKEN)
def test_a_revoked_token_fails_with_401(api: Api, operation: Operation) -> None:
    assert send_sample(api, operation).status_code == sample_request(operation).status

    api.call(auth.revoke_token, api.store, token=api.token)

    assert_refused(send(api, sample_request(operation)), operation, 401, "user_token_failed")


@pytest.mark.parametrize("operation", NEEDS_TOKEN)
def test_a_token_of_another_app_fails_with_401(api: Api, operation: Operation) -> None:
    other = api.call(auth.create_app, api.store, name="other app").app
    other_token = api.call(
        auth.issue_token, api.store, api.keys, username="alice", client_id=other.client_id
    )
    sample = sample_request(operation)

    with_its_app = send(api, sample, token=other_token, client_id=other.client_id)
    with_ours = send(api, sample, token=other_token)

    assert with_its_app.status_code == sample.status, with_its_app.text
    assert_refused(with_ours, operation, 401, "user_token_failed")


# --- Identification ------------------------------------------------------------------------


def send_bare(api: Api, operation: Operation) -> Any:
    """The sample request with client_id and token only: no app-name, no app-version, no
    User-Agent."""
    sample = sample_request(operation)
    request = api.client.build_request(
        sample.method,
        sample.path,
        params={"client_id": api.client_id, **sample.params},
        headers={"Authorization": f"Bearer {api.token}", **sample.headers},
        **sample.body,
    )
    del request.headers["User-Agent"]
    return api.client.send(request, follow_redirects=False)


@pytest.mark.parametrize("operation", NEEDS_CLIENT)
def test_missing_identification_is_accepted_and_logged(
    api: Api, operation: Operation, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="simkl_server")

    response = send_bare(api, operation)

    assert response.status_code == sample_request(operation).status, response.text
    logged = " ".join(r.getMessage() for r in caplog.records if r.name == "simkl_server")
    assert all(name in logged for name in ("app-name", "app-version", "User-Agent"))
    assert api.client_id in logged


# --- A JSON body ---------------------------------------------------------------------------


OTHER_SHAPE = b"the other JSON container"


@pytest.mark.parametrize("operation", JSON_BODY)
@pytest.mark.parametrize("body", [b"{", b"not json", OTHER_SHAPE, b"42"])
def test_a_body_that_is_not_the_json_it_takes_is_wrong_parameter(
    api: Api, operation: Operation, body: bytes
) -> None:
    sample = sample_request(operation)
    if body == OTHER_SHAPE:  # an array where an object is taken, and the other way round
        body = b"{}" if _takes_an_array(operation) else b"[]"

    response = send(api, sample, json=None, content=body)

    assert_refused(response, operation, 400, "wrong_parameter")


def _takes_an_array(operation: Operation) -> bool:
    media = resolve(operation.spec["requestBody"])["content"]["application/json"]
    return bool(resolve(media["schema"]).get("type") == "array")


@pytest.mark.parametrize("operation", JSON_BODY)
def test_a_body_over_the_size_limit_is_413(catalog_database: str, operation: Operation) -> None:
    with serve_api(catalog_database, max_body_bytes=256) as small:
        too_big = b'{"padding": "' + b"x" * 300 + b'"}'

        response = send(small, sample_request(operation), json=None, content=too_big)

        assert_refused(response, operation, 413, "body_too_large")


# --- The router ----------------------------------------------------------------------------


def allowed_at(path: str) -> set[str]:
    """Every method some documented path template, or a page (a consent page's form posts
    back to its URL), takes at a concrete path (HEAD with GET)."""
    methods: set[str] = set()
    for operation in operations():
        pattern = re.sub(r"\\\{[^}]+\\\}", "[^/]+", re.escape(operation.path))
        if re.fullmatch(pattern, path):
            methods.add(operation.method)
    for route in web.ROUTES:
        if route.path == path:
            methods |= route.methods or set()
    return methods | ({"HEAD"} if "GET" in methods else set())


def sample_paths() -> list[Any]:
    """One concrete path per documented path template, with an operation found there."""
    by_template = {operation.path: operation for operation in operations()}
    return [
        pytest.param(sample_request(operation).path, operation, id=template)
        for template, operation in by_template.items()
    ]


@pytest.mark.parametrize(("path", "operation"), sample_paths())
def test_an_undocumented_method_is_wrong_method_naming_the_allowed_ones(
    api: Api, path: str, operation: Operation
) -> None:
    allowed = allowed_at(path)
    for method in sorted(set(PROBED_METHODS) - allowed):
        response = api.request(method, path)

        assert_simkl_error(response, 405, "wrong_method")
        assert response.headers["Allow"] == ", ".join(sorted(allowed)), method
        assert_documented_response(response)
        assert_official_shape(response, None)


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/sync"),
        ("GET", "/sync/nothing"),
        ("GET", "/sync/activity"),
        ("POST", "/sync/history/remove/more"),
        ("GET", "/sync/ratings/movies/8/extra"),
        ("GET", "/users/settings/more"),
    ],
)
def test_an_unknown_route_is_url_failed(api: Api, method: str, path: str) -> None:
    assert not allowed_at(path), "documented now: pick another unknown URL"

    response = api.request(method, path)

    assert_simkl_error(response, 404, "url_failed")
    assert_documented_response(response)
    assert_official_shape(response, None)


# --- The store failing ---------------------------------------------------------------------


@pytest.mark.parametrize("operation", SECURED)
def test_an_unexpected_failure_is_internal(broken_client: TestClient, operation: Operation) -> None:
    sample = sample_request(operation)

    response = broken_client.request(
        sample.method,
        sample.path,
        params={"client_id": "x", **sample.params},
        headers={"Authorization": "Bearer y", **sample.headers},
        **sample.body,
    )

    assert_refused(response, operation, 500, "internal")
    assert "went away" not in response.json()["message"]  # details go to the log only
