"""The access log: one line per request with method, path (secrets masked), status, duration
and client app; off by a setting; a client refused for its client_id is never noted as
accepted; nothing a stranger sends can forge a line."""

from __future__ import annotations

import logging
import re

import pytest

from simkl_server.api._http import SimklApp
from simkl_server.api.access import MAX_NAME_CHARS
from simkl_server.api.edge import EdgeMiddleware
from tests.conftest import Api, serve_api

ACCESS_LOGGER = "simkl_server.access"
LINE = re.compile(r"(?P<method>\w+) (?P<target>\S+) (?P<status>\d{3}) \d+\.\dms (?P<app>.+)")


def access_lines(caplog: pytest.LogCaptureFixture) -> list[dict[str, str]]:
    """The access lines logged so far, split into their fields."""
    lines = [r.getMessage() for r in caplog.records if r.name == ACCESS_LOGGER]
    parsed = [LINE.fullmatch(line) for line in lines]
    assert all(parsed), lines
    return [found.groupdict() for found in parsed if found]


@pytest.fixture
def logs(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    """Capture the server's info lines."""
    caplog.set_level(logging.INFO, logger="simkl_server")
    return caplog


def test_one_line_per_request_with_status_and_app(api: Api, logs: pytest.LogCaptureFixture) -> None:
    api.get("/sync/activities")
    api.post("/sync/ratings", json={"movies": [{"ids": {"simkl": 53536}, "rating": 7}]})
    api.get("/nowhere")
    lines = access_lines(logs)
    assert [(x["method"], x["status"], x["app"]) for x in lines] == [
        ("GET", "200", "simkl-server-tests/1.0"),
        ("POST", "201", "simkl-server-tests/1.0"),
        ("GET", "404", "simkl-server-tests/1.0"),
    ]
    assert lines[0]["target"].startswith("/sync/activities?client_id=")


def test_the_client_id_names_an_app_without_app_name(
    api: Api, logs: pytest.LogCaptureFixture
) -> None:
    api.client.get("/sync/activities", headers={"simkl-api-key": api.client_id})
    assert access_lines(logs)[-1]["app"] == f"client_id={api.client_id}"
    api.client.get("/openapi.json")
    assert access_lines(logs)[-1]["app"] == "-"


@pytest.mark.parametrize(
    ("query", "shown"),
    [
        ("client_secret=s3cret&code=c0de", "client_secret=***&code=***"),
        ("refresh_token=r1&access_token=a1", "refresh_token=***&access_token=***"),
        ("password=p1&x=2", "password=***&x=2"),
        ("code_verifier=v1&token=t1&api_key=k1", "code_verifier=***&token=***&api_key=***"),
        ("client%5Fsecret=s3cret", "client%5Fsecret=***"),
        ("CLIENT_SECRET=s3cret&x=1", "CLIENT_SECRET=***&x=1"),
        ("app-name=encoder&code", "app-name=encoder&code"),
    ],
)  # fmt: skip
def test_secrets_in_the_query_are_masked(
    api: Api, logs: pytest.LogCaptureFixture, query: str, shown: str
) -> None:
    api.client.get(f"/oauth/token?{query}")
    (line,) = access_lines(logs)
    assert line["target"] == f"/oauth/token?{shown}"
    for secret in ("s3cret", "c0de", "r1", "a1", "p1", "v1", "t1", "k1"):
        assert f"={secret}" not in "\n".join(logs.messages)


def test_nothing_a_stranger_sends_forges_a_line(api: Api, logs: pytest.LogCaptureFixture) -> None:
    api.client.get("/x%0aINFO%20forged?app-name=a%0Ab&app-version=1", headers={"User-Agent": "t"})
    api.client.get("/" + "y" * 5000)
    assert all("\n" not in message for message in logs.messages)
    forged, long = access_lines(logs)
    assert forged["target"] == "/x%0aINFO%20forged?app-name=a%0Ab&app-version=1"
    assert forged["app"] == "a\\nb/1"
    assert len(long["target"]) < 1100


def test_a_client_refused_for_its_client_id_is_not_noted_as_accepted(
    api: Api, logs: pytest.LogCaptureFixture
) -> None:
    api.client.get("/sync/activities", params={"client_id": "not-an-app"})
    api.client.get("/sync/activities", params={"client_id": api.client_id},
                   headers={"Authorization": f"Bearer {api.token}"})  # fmt: skip
    notes = [r.getMessage() for r in logs.records if r.name == "simkl_server"]
    assert not any("not-an-app" in note for note in notes)
    assert [note for note in notes if api.client_id in note] == [
        f"client_id {api.client_id!r} calls without app-name, app-version "
        "(accepted; not logged again for this app)"
    ]
    assert [line["status"] for line in access_lines(logs)] == ["412", "200"]


def test_a_request_naming_no_app_is_not_noted(api: Api, logs: pytest.LogCaptureFixture) -> None:
    assert api.client.get("/health").status_code == 200
    assert not [r for r in logs.records if "calls without" in r.getMessage()]
    assert [line["status"] for line in access_lines(logs)] == ["200"]


def test_the_access_log_can_be_turned_off(
    catalog_database: str, logs: pytest.LogCaptureFixture
) -> None:
    with serve_api(catalog_database, access_log=False) as api:
        assert api.get("/sync/activities").status_code == 200
    assert access_lines(logs) == []


def test_apps_noted_are_a_small_lru_of_short_keys(api: Api, logs: pytest.LogCaptureFixture) -> None:
    """A stranger cycling long client_ids fills no memory and writes no long line."""
    instance = _edge_instance(api)
    limit = EdgeMiddleware.MAX_REMEMBERED
    for number in range(limit + 50):
        api.client.get("/openapi.json", headers={"simkl-api-key": f"{number:06d}" + "k" * 5000})
    remembered = list(instance._reported)
    assert len(remembered) == limit
    assert max(len(client_id) for client_id, _ in remembered) <= MAX_NAME_CHARS
    notes = [r.getMessage() for r in logs.records if "calls without" in r.getMessage()]
    assert len(notes) == limit + 50
    assert max(len(note) for note in notes) < 300
    # The oldest were forgotten: seen again, they are noted again.
    api.client.get("/openapi.json", headers={"simkl-api-key": "000000" + "k" * 5000})
    assert sum("calls without" in r.getMessage() for r in logs.records) == limit + 51


def _edge_instance(api: Api) -> EdgeMiddleware:
    """The app's EdgeMiddleware, found in the middleware stack Starlette built."""
    app = api.client.app
    assert isinstance(app, SimklApp)
    layer = app.middleware_stack
    while layer is not None and not isinstance(layer, EdgeMiddleware):
        layer = getattr(layer, "app", None)
    assert isinstance(layer, EdgeMiddleware)
    return layer
