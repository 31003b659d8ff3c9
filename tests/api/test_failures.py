"""When the server itself fails: an unexpected error is a 500 in the envelope with a request
id (in the message and X-Request-Id), one log line, and Connection: close; a database that is
busy or away is a 503 with Retry-After."""

from __future__ import annotations

import logging
from typing import Any

import pytest

from simkl_server.storage.base import DatabaseBusy, DatabaseUnavailable
from tests.conftest import Api
from tests.helpers import assert_simkl_error

RATE = {"movies": [{"ids": {"simkl": 53536}, "rating": 7}]}


def _failing(exc: BaseException) -> Any:
    async def fail(*args: Any, **kwargs: Any) -> Any:
        raise exc

    return fail


def test_an_unexpected_error_is_one_line_with_a_request_id(
    api: Api, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="simkl_server")
    monkeypatch.setattr(api.store, "write", _failing(RuntimeError("disk\non fire")))

    response = api.post("/sync/ratings", json=RATE)

    assert_simkl_error(response, 500, "internal")
    request_id = response.headers["X-Request-Id"]
    assert response.json()["message"] == f"Internal server error (request id {request_id})"
    assert response.headers["Connection"] == "close"
    errors = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert [r.getMessage() for r in errors] == [
        f"request {request_id} failed: POST /sync/ratings: RuntimeError: disk\\non fire"
    ]
    assert all(r.exc_info is None for r in errors), "the traceback only at debug level"
    assert api.get("/sync/activities").status_code == 200


def test_the_traceback_is_logged_at_debug_level(
    api: Api, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="simkl_server")
    monkeypatch.setattr(api.store, "write", _failing(RuntimeError("boom")))

    request_id = api.post("/sync/ratings", json=RATE).headers["X-Request-Id"]

    traced = [r for r in caplog.records if r.exc_info is not None]
    assert [r.getMessage() for r in traced] == [f"request {request_id} traceback"]


@pytest.mark.parametrize(
    ("exc", "retry_after", "message"),
    [
        (DatabaseBusy("locked"), "1", "The database is busy; try again shortly"),
        (DatabaseUnavailable("gone"), "5", "The database does not answer"),
    ],
    ids=["busy", "away"],
)
def test_a_database_busy_or_away_is_503_with_retry_after(
    api: Api,
    monkeypatch: pytest.MonkeyPatch,
    exc: DatabaseUnavailable,
    retry_after: str,
    message: str,
) -> None:
    monkeypatch.setattr(api.store, "write", _failing(exc))

    response = api.post("/sync/ratings", json=RATE)

    assert_simkl_error(response, 503, "service_unavailable")
    assert response.json()["message"] == message
    assert response.headers["Retry-After"] == retry_after
