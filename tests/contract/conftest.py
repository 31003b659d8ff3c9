"""Fixtures of the contract tests."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from starlette.testclient import TestClient

from simkl_server.app import create_app
from simkl_server.clock import FrozenClock
from simkl_server.config import Settings
from simkl_server.storage.drivers import PgConnection, SqliteConnection
from tests.conftest import START_MS


@pytest.fixture
def broken_client(catalog_database: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[TestClient]:
    """The app on a store whose every statement fails unexpectedly (a database gone away),
    with server errors answered rather than raised into the test."""
    app = create_app(Settings(database_url=catalog_database), clock=FrozenClock(START_MS))
    with TestClient(app, raise_server_exceptions=False) as client:

        async def fail(*_: Any) -> Any:
            raise RuntimeError("the database went away")

        for connection in (SqliteConnection, PgConnection):
            for name in ("fetch", "fetchrow", "execute"):
                monkeypatch.setattr(connection, name, fail)
        yield client
