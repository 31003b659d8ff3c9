"""What every request goes through: client_id, the bearer token, identification, and the
Simkl error envelope on every error path (never a 500, never the framework's own body, and
nothing applied)."""

from __future__ import annotations

import logging
from typing import Any

import pytest

from simkl_server.domain import auth
from tests.api.support import TERMINATOR_3, UserState, by_simkl, rate, user_state
from tests.conftest import Api, serve_api
from tests.helpers import assert_simkl_error

USER_ENDPOINTS = [
    ("GET", "/sync/activities"),
    ("GET", "/sync/ratings"),
    ("GET", "/sync/ratings/movies/8"),
    ("POST", "/sync/ratings"),
    ("POST", "/sync/ratings/remove"),
    ("GET", "/users/settings"),
    ("POST", "/users/settings"),
]
CLIENT_ID_MESSAGE = "Your client_id is wrong. Try another one"
VALID_ITEM = by_simkl(TERMINATOR_3, rating=3)


@pytest.mark.parametrize(("method", "path"), USER_ENDPOINTS)
def test_client_id_may_come_from_the_query_or_the_api_key_header(
    api: Api, method: str, path: str
) -> None:
    by_query = api.request(method, path, json={})
    by_header = api.request(method, path, client_id=None, headers={"simkl-api-key": api.client_id})

    assert by_query.status_code in {200, 201}, by_query.text
    assert by_header.status_code == by_query.status_code, by_header.text


@pytest.mark.parametrize(("method", "path"), USER_ENDPOINTS)
@pytest.mark.parametrize("client_id", [None, "", "not-a-client-id"])
def test_a_missing_or_unknown_client_id_fails_with_412(
    api: Api, method: str, path: str, client_id: str | None
) -> None:
    response = api.request(method, path, client_id=client_id, json={})

    body = assert_simkl_error(response, 412, "client_id_failed")
    assert body["message"] == CLIENT_ID_MESSAGE


def test_an_unknown_api_key_header_fails_with_412(api: Api) -> None:
    response = api.get("/sync/activities", client_id=None, headers={"simkl-api-key": "nope"})

    assert_simkl_error(response, 412, "client_id_failed")


@pytest.mark.parametrize(("method", "path"), USER_ENDPOINTS)
@pytest.mark.parametrize(
    "authorization",
    [None, "Bearer", "Bearer ", "Bearer not-a-token", "Basic dXNlcjpwYXNz", "not-a-token"],
)
def test_a_missing_or_unknown_token_fails_with_401(
    api: Api, method: str, path: str, authorization: str | None
) -> None:
    headers = {} if authorization is None else {"Authorization": authorization}

    response = api.request(method, path, token=None, headers=headers, json={})

    assert_simkl_error(response, 401, "user_token_failed")


def test_the_bearer_scheme_is_case_insensitive(api: Api) -> None:
    response = api.get(
        "/sync/activities", token=None, headers={"Authorization": f"bearer {api.token}"}
    )

    assert response.status_code == 200


def test_a_revoked_token_fails_with_401(api: Api) -> None:
    assert api.get("/sync/activities").status_code == 200

    api.call(auth.revoke_token, api.store, token=api.token)

    for method, path in USER_ENDPOINTS:
        assert_simkl_error(api.request(method, path, json={}), 401, "user_token_failed")


def test_a_token_of_another_app_fails_with_401(api: Api) -> None:
    other = api.call(auth.create_app, api.store, name="other app").app
    other_token = api.call(
        auth.issue_token, api.store, api.keys, username="alice", client_id=other.client_id
    )

    assert (
        api.get("/sync/activities", token=other_token, client_id=other.client_id).status_code == 200
    )
    for method, path in USER_ENDPOINTS:
        response = api.request(method, path, token=other_token, json={})
        assert_simkl_error(response, 401, "user_token_failed")


def send_bare(api: Api, method: str, path: str, **kwargs: Any) -> Any:
    """Send with client_id and token only: no app-name, no app-version, no User-Agent."""
    request = api.client.build_request(
        method,
        path,
        params={"client_id": api.client_id},
        headers={"Authorization": f"Bearer {api.token}"},
        **kwargs,
    )
    del request.headers["User-Agent"]
    return api.client.send(request)


def test_missing_identification_is_accepted_and_logged(
    api: Api, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="simkl_server")

    read = send_bare(api, "GET", "/sync/activities")
    write = send_bare(api, "POST", "/sync/ratings", json={"movies": [VALID_ITEM]})

    assert (read.status_code, write.status_code) == (200, 201)
    assert write.json()["added"]["movies"] == 1
    logged = " ".join(r.getMessage() for r in caplog.records if r.name == "simkl_server")
    assert all(name in logged for name in ("app-name", "app-version", "User-Agent"))
    assert api.client_id in logged


@pytest.mark.parametrize("content_type", [None, "text/plain", "application/x-www-form-urlencoded"])
def test_a_post_body_is_read_as_json_whatever_its_content_type(
    api: Api, content_type: str | None
) -> None:
    headers = {} if content_type is None else {"Content-Type": content_type}
    body = b'{"movies": [{"ids": {"simkl": 53536}, "rating": 6}]}'

    response = api.post("/sync/ratings", content=body, headers=headers)

    assert response.status_code == 201
    assert response.json()["added"]["movies"] == 1


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/sync"),
        ("GET", "/sync/nothing"),
        ("POST", "/sync/history/remove"),
        ("GET", "/sync/ratings/movies/8/extra"),
        ("GET", "/users/settings/more"),
    ],
)
def test_an_unknown_route_is_url_failed(api: Api, method: str, path: str) -> None:
    assert_simkl_error(api.request(method, path), 404, "url_failed")


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("PUT", "/sync/ratings"),
        ("DELETE", "/sync/ratings"),
        ("PATCH", "/sync/ratings/movies"),
        ("POST", "/sync/activities"),
        ("DELETE", "/sync/activities"),
        ("POST", "/openapi.json"),
        ("PUT", "/sync/ratings/remove"),
        ("DELETE", "/users/settings"),
    ],
)
def test_a_wrong_method_is_wrong_method(api: Api, method: str, path: str) -> None:
    assert_simkl_error(api.request(method, path), 405, "wrong_method")


MALFORMED_BODIES = [
    b'{"movies": [',
    b"not json",
    b'{"movies": [{"ids": {"simkl": 53536}, "rating": 3}], }',
    b'{"movies": [{"ids": {"simkl": 53536}, "rating": 3, "title": "\xff\xfe"}]}',
    b"\xef\xbb\xbf\xff{}",
    b'{"movies": [{"ids": {"simkl": 53536}, "title": "\\ud800", "rating": 3}]}',
    b'{"movies": [{"ids": {"simkl": 53536}, "rating": NaN}]}',
    b'[{"ids": {"simkl": 53536}, "rating": 3}]',
    b'"movies"',
    b"null",
    b"42",
]

BAD_ITEMS: list[Any] = [
    {"ids": [53536], "rating": 3},
    {"ids": "tt0181852", "rating": 3},
    {"ids": {"simkl": [53536]}, "rating": 3},
    {"ids": {"simkl": True}, "rating": 3},
    {"ids": {"imdb": {"id": "tt0181852"}}, "rating": 3},
    {"ids": {"simkl": 53536}, "title": 1999, "rating": 3},
    {"ids": {"simkl": 53536}, "title": ["Terminator"], "rating": 3},
    {"ids": {"simkl": 53536}, "title": "Termi\u0000nator", "rating": 3},
    {"ids": {"imdb": "tt01\u000081852"}, "rating": 3},
    {"ids": {"simkl": 53536}, "year": [2003], "rating": 3},
    {"ids": {"simkl": 53536}, "year": {"y": 2003}, "rating": 3},
]


@pytest.fixture
def rated(api: Api) -> tuple[Api, UserState]:
    """Alice has rated Terminator 3 an 8; the API and the state refused requests must keep."""
    rate(api, {"movies": [by_simkl(TERMINATOR_3, rating=8)]})
    before = user_state(api)
    api.clock.advance(60_000)
    return api, before


@pytest.mark.parametrize("path", ["/sync/ratings", "/sync/ratings/remove"])
@pytest.mark.parametrize("body", MALFORMED_BODIES)
def test_a_malformed_body_is_wrong_parameter_and_nothing_applies(
    rated: tuple[Api, UserState], path: str, body: bytes
) -> None:
    api, before = rated

    response = api.post(path, content=body, headers={"Content-Type": "application/json"})

    assert_simkl_error(response, 400, "wrong_parameter")
    assert user_state(api) == before


@pytest.mark.parametrize("path", ["/sync/ratings", "/sync/ratings/remove"])
@pytest.mark.parametrize("wrapper", ["movies", "shows", "anime"])
@pytest.mark.parametrize("bad_item", BAD_ITEMS)
def test_a_wrongly_typed_item_is_wrong_parameter_and_nothing_applies(
    rated: tuple[Api, UserState], path: str, wrapper: str, bad_item: Any
) -> None:
    api, before = rated
    body = {"movies": [VALID_ITEM], wrapper: [VALID_ITEM, bad_item]}

    response = api.post(path, json=body)

    assert_simkl_error(response, 400, "wrong_parameter")
    assert user_state(api) == before


def test_a_body_over_the_size_limit_is_413(catalog_database: str) -> None:
    with serve_api(catalog_database, max_body_bytes=256) as small:
        fits = {"movies": [by_simkl(TERMINATOR_3, rating=8)]}
        too_big = {"movies": [by_simkl(TERMINATOR_3, rating=3, title="x" * 300)]}
        assert small.post("/sync/ratings", json=fits).status_code == 201
        before = user_state(small)
        small.clock.advance(60_000)

        declared = small.post("/sync/ratings", json=too_big)
        streamed = small.post("/sync/ratings/remove", content=iter([b'{"movies": [', b" " * 300]))

        assert_simkl_error(declared, 413, "body_too_large")
        assert_simkl_error(streamed, 413, "body_too_large")
        assert user_state(small) == before


def test_more_items_than_the_batch_limit_is_max_items(catalog_database: str) -> None:
    with serve_api(catalog_database, max_batch_items=3) as limited:
        at_limit = {"movies": [VALID_ITEM] * 2, "anime": [{"ids": {"mal": 16498}, "rating": 9}]}
        over = {"movies": [VALID_ITEM] * 2, "shows": [VALID_ITEM], "anime": [VALID_ITEM]}
        answer = rate(limited, at_limit)["added"]
        assert (answer["movies"], answer["shows"]) == (2, 1)
        before = user_state(limited)

        for path in ("/sync/ratings", "/sync/ratings/remove"):
            assert_simkl_error(limited.post(path, json=over), 400, "max_items")
        assert user_state(limited) == before
