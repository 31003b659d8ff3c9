"""GET /health: no credentials, 200 with the schema revision while the database answers, a
503 envelope when it does not (and the reason only in the log)."""

from __future__ import annotations

import asyncio
import logging

import asyncpg
import pytest

from simkl_server import __version__
from simkl_server.config import parse_database_url
from simkl_server.storage import migrate
from simkl_server.storage.dialect import statement as sql_statement
from simkl_server.storage.migrate import head_revision
from tests.conftest import (
    PG_ADMIN_URL,
    Api,
    create_pg_database,
    drop_pg_database,
    require_postgres,
    serve_api,
)
from tests.helpers import assert_documented_response, assert_simkl_error


def test_health_answers_without_credentials(api: Api) -> None:
    for path in ("/health", "/health/"):
        response = api.client.get(path)
        assert response.status_code == 200
        assert response.json() == {
            "status": "ok",
            "version": __version__,
            "schema_revision": head_revision(),
        }
        assert_documented_response(response)
    assert api.client.head("/health").status_code == 200


@pytest.mark.parametrize(
    ("statement", "logged"),
    [
        ("DELETE FROM alembic_version", "the database has no schema"),
        ("DROP TABLE alembic_version", "the database does not answer"),
    ],
)
def test_a_database_without_its_schema_is_unhealthy(
    empty_database: str, statement: str, logged: str, caplog: pytest.LogCaptureFixture
) -> None:
    with serve_api(empty_database) as api:
        api.call(api.store.read.conn.execute, sql_statement(statement), {})
        response = api.client.get("/health")
    body = assert_simkl_error(response, 503, "service_unavailable")
    assert_documented_response(response)
    assert "alembic" not in body["message"], "internals stay in the log"
    assert logged in caplog.text


def test_a_postgresql_database_that_went_away_is_unhealthy(
    caplog: pytest.LogCaptureFixture,
) -> None:
    require_postgres()  # a SQLite file cannot go away under an open connection
    caplog.set_level(logging.WARNING, logger="simkl_server")
    url = create_pg_database()
    try:
        migrate.upgrade(parse_database_url(url))
        with serve_api(url) as api:
            assert api.client.get("/health").status_code == 200
            asyncio.run(_drop(url.rsplit("/", 1)[1]))
            response = api.client.get("/health")
    finally:
        drop_pg_database(url)
    assert_simkl_error(response, 503, "service_unavailable")
    assert "health check failed: the database does not answer" in caplog.text


async def _drop(name: str) -> None:
    conn = await asyncpg.connect(PG_ADMIN_URL)
    try:
        await conn.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
    finally:
        await conn.close()
