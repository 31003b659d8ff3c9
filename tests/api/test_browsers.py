"""What browsers and token-aware clients read besides the body (spec §7): CORS on every
answer, errors included, a 204 preflight cached a day, and `WWW-Authenticate` on every 401."""

from __future__ import annotations

from typing import Any

import pytest
from starlette.testclient import TestClient

from simkl_server.app import create_app
from simkl_server.clock import FrozenClock
from simkl_server.config import Settings
from tests.conftest import START_MS, Api, serve_api
from tests.helpers import assert_simkl_error

ORIGIN = {"Origin": "https://web-client.example"}


def test_a_preflight_is_204_with_no_body_and_cached_a_day(api: Api) -> None:
    response = api.client.options(
        "/sync/ratings",
        headers={
            **ORIGIN,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization, content-type",
        },
    )
    assert response.status_code == 204
    assert response.content == b""
    assert response.headers["access-control-allow-origin"] == "*"
    assert response.headers["access-control-max-age"] == "86400"
    assert response.headers["access-control-allow-headers"] == "authorization, content-type"
    assert "POST" in response.headers["access-control-allow-methods"]


@pytest.mark.parametrize(
    ("method", "path", "kwargs", "status"),
    [
        ("GET", "/sync/activities", {}, 200),
        ("GET", "/sync/activities", {"token": "wrong"}, 401),
        ("GET", "/sync/activities", {"client_id": None}, 412),
        ("GET", "/no/such/route", {}, 404),
        ("DELETE", "/sync/activities", {}, 405),
        ("POST", "/sync/ratings", {"content": b"{"}, 400),
        ("GET", "/oauth/pin", {"token": None}, 200),
    ],
)
def test_every_answer_carries_cors_headers(
    api: Api, method: str, path: str, kwargs: dict[str, Any], status: int
) -> None:
    response = api.request(method, path, headers=ORIGIN, **kwargs)
    assert response.status_code == status, response.text
    assert response.headers["access-control-allow-origin"] == "*"
    assert "Retry-After" in response.headers["access-control-expose-headers"]


def test_an_unexpected_failure_still_carries_cors_headers(catalog_database: str) -> None:
    app = create_app(Settings(database_url=catalog_database), clock=FrozenClock(START_MS))
    with TestClient(app, raise_server_exceptions=False) as client:

        async def fail(*_: Any) -> Any:
            raise RuntimeError("the database went away")

        client.app.services.store.read.grants.authenticate = fail  # type: ignore[attr-defined]
        response = client.get("/sync/activities?client_id=x", headers=ORIGIN)
    assert_simkl_error(response, 500, "internal")
    assert response.headers["access-control-allow-origin"] == "*"


def test_a_request_without_origin_gets_no_cors_headers(api: Api) -> None:
    assert "access-control-allow-origin" not in api.get("/sync/activities").headers


@pytest.mark.parametrize("token", [None, "wrong"])
def test_a_401_names_the_realm_and_the_error(api: Api, token: str | None) -> None:
    response = api.get("/sync/activities", token=token)
    assert_simkl_error(response, 401, "user_token_failed")
    assert response.headers["www-authenticate"] == (
        'Bearer realm="testserver", error="user_token_failed"'
    )


def test_the_public_url_names_the_realm_and_the_pin_page(catalog_database: str) -> None:
    with serve_api(catalog_database, public_url="https://simkl.example.org/") as api:
        hostile = {"Host": "evil.example"}
        refused = api.get("/sync/activities", token="wrong", headers=hostile)
        started = api.get("/oauth/pin", token=None, headers=hostile).json()
    assert refused.headers["www-authenticate"] == (
        'Bearer realm="simkl.example.org", error="user_token_failed"'
    )
    assert started["verification_uri"] == "https://simkl.example.org/pin"


def test_a_hostile_host_header_cannot_break_the_challenge(api: Api) -> None:
    response = api.get("/sync/activities", token="wrong", headers={"Host": 'a"b, c=\\d'})
    assert response.status_code == 401
    challenge = response.headers["www-authenticate"]
    assert challenge.count('"') == 4, challenge
