"""The migrations build exactly the schema storage/schema.py declares, on both databases."""

from __future__ import annotations

import asyncio
import sqlite3
from typing import Any

import asyncpg
import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Connection, create_engine
from sqlalchemy.ext.asyncio import create_async_engine

from simkl_server.app import open_store
from simkl_server.clock import FrozenClock
from simkl_server.config import Settings, parse_database_url
from simkl_server.domain import auth
from simkl_server.domain.tokens import secret_matches
from simkl_server.errors import UserTokenFailed
from simkl_server.storage import migrate
from simkl_server.storage.base import Store
from simkl_server.storage.schema import metadata
from tests.robustness import database


def _differences(connection: Connection) -> list[Any]:
    context = MigrationContext.configure(connection, opts={"compare_type": True})
    return list(compare_metadata(context, metadata))


def schema_differences(database_url: str) -> list[Any]:
    """What autogenerate would still want to change after all migrations ran."""
    database = parse_database_url(database_url)
    if database.sqlite_path is not None:
        engine = create_engine(f"sqlite:///{database.sqlite_path}")
        try:
            with engine.connect() as connection:
                return _differences(connection)
        finally:
            engine.dispose()

    async def compare() -> list[Any]:
        dsn = database.postgres_dsn
        engine = create_async_engine(
            "postgresql+asyncpg://", async_creator=lambda: asyncpg.connect(dsn)
        )
        try:
            async with engine.connect() as connection:
                return await connection.run_sync(_differences)
        finally:
            await engine.dispose()

    return asyncio.run(compare())


def test_migrations_match_the_declared_schema(empty_database: str) -> None:
    assert schema_differences(empty_database) == []


def _execute(database_url: str, statements: list[str]) -> None:
    """Run writes on a connection of their own (behind the store's back)."""
    database = parse_database_url(database_url)
    if database.sqlite_path is not None:
        raw = sqlite3.connect(database.sqlite_path)
        with raw:
            for sql in statements:
                raw.execute(sql)
        raw.close()
        return

    async def write() -> None:
        conn = await asyncpg.connect(database.postgres_dsn)
        try:
            for sql in statements:
                await conn.execute(sql)
        finally:
            await conn.close()

    asyncio.run(write())


LEGACY_ROWS = [
    "INSERT INTO apps (id, name, client_id, client_secret, redirect_uri, created_at) "
    "VALUES (1, 'old app', 'old-client', 'old-secret', 'http://x/cb', 1)",
    "INSERT INTO users (id, username, created_at) VALUES (1, 'old', 1)",
    "INSERT INTO tokens (token, app_id, user_id, created_at) VALUES ('live-token', 1, 1, 1)",
    "INSERT INTO tokens (token, app_id, user_id, created_at, revoked_at) "
    "VALUES ('revoked-token', 1, 1, 1, 2)",
]


def test_tokens_and_secrets_issued_before_hashing_keep_working(empty_database: str) -> None:
    """Revision 0002 keeps every live token (as its hash, under a grant) and the secrets'
    hashes; a dump of the migrated database holds none of the values."""
    config = migrate.alembic_config(parse_database_url(empty_database))
    command.downgrade(config, "0001")
    _execute(empty_database, LEGACY_ROWS)
    migrate.upgrade(parse_database_url(empty_database))
    assert schema_differences(empty_database) == []
    dumped = repr(database.dump(empty_database))
    for secret in ("live-token", "revoked-token", "old-secret"):
        assert secret not in dumped

    async def check(store: Store) -> None:
        assert await auth.authenticate(store, client_id="old-client", token="live-token")
        for token in ("revoked-token", "other"):
            with pytest.raises(UserTokenFailed):
                await auth.authenticate(store, client_id="old-client", token=token)
        app = await store.read.accounts.find_app("old-client")
        assert app is not None
        assert app.redirect_uris == ("http://x/cb",)
        assert secret_matches("old-secret", app.secret_hash)

    async def scenario() -> None:
        store = await open_store(Settings(database_url=empty_database), FrozenClock(1_000))
        try:
            await check(store)
        finally:
            await store.close()

    asyncio.run(scenario())
