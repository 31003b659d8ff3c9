"""The migrations build exactly the schema storage/schema.py declares, on both databases."""

from __future__ import annotations

import asyncio
from typing import Any

import asyncpg
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Connection, create_engine
from sqlalchemy.ext.asyncio import create_async_engine

from simkl_server.config import parse_database_url
from simkl_server.storage.schema import metadata


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
