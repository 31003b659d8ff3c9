"""Alembic environment: SQLite through the stdlib driver, PostgreSQL through asyncpg."""

from __future__ import annotations

import asyncio

from alembic import context
from sqlalchemy import Connection, create_engine, pool
from sqlalchemy.ext.asyncio import create_async_engine

from simkl_server.storage.schema import metadata

config = context.config


def _migrate(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        render_as_batch=connection.dialect.name == "sqlite",
    )
    with context.begin_transaction():
        context.run_migrations()


async def _migrate_async(url: str) -> None:
    engine = create_async_engine(url, poolclass=pool.NullPool)
    async with engine.connect() as connection:
        await connection.run_sync(_migrate)
    await engine.dispose()


def run() -> None:
    """Upgrade the database named in the Alembic config's sqlalchemy.url."""
    url = config.get_main_option("sqlalchemy.url")
    assert url is not None
    if url.startswith("sqlite"):
        engine = create_engine(url, poolclass=pool.NullPool)
        with engine.connect() as connection:
            _migrate(connection)
        engine.dispose()
    else:
        asyncio.run(_migrate_async(url))


run()
