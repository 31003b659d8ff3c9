"""Alembic environment: runs the migrations on SQLite (sqlite3) or PostgreSQL (asyncpg).

The database comes from the caller (`simkl-server db upgrade`, `serve`) or, when Alembic's own
command line runs this (`alembic revision`), from SIMKL_SERVER_DATABASE_URL. PostgreSQL is
reached through asyncpg with the DSN as parsed once (config.DatabaseUrl), so libpq parameters
such as sslmode and connect_timeout work here as they do in the server.
"""

from __future__ import annotations

import asyncio

import asyncpg
from alembic import context
from sqlalchemy import pool
from sqlalchemy.engine import Connection, create_engine

from simkl_server.config import DatabaseUrl, Settings
from simkl_server.storage.schema import metadata


def _migrate(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        render_as_batch=connection.dialect.name == "sqlite",
    )
    with context.begin_transaction():
        context.run_migrations()


async def _migrate_postgres(database: DatabaseUrl) -> None:
    # Here, not at the top: it loads SQLAlchemy's ORM, a seventh of a second that every
    # process migrating an SQLite database (each command, each server start) would pay.
    from sqlalchemy.ext.asyncio import create_async_engine  # noqa: PLC0415

    engine = create_async_engine(
        "postgresql+asyncpg://",
        async_creator=lambda: asyncpg.connect(
            database.postgres_dsn, timeout=database.connect_timeout
        ),
        poolclass=pool.NullPool,
    )
    async with engine.connect() as connection:
        await connection.run_sync(_migrate)
    await engine.dispose()


def run() -> None:
    """Upgrade (or, for `alembic revision --autogenerate`, compare) the database."""
    database: DatabaseUrl = context.config.attributes.get("database") or Settings().database
    if database.sqlite_path is not None:
        engine = create_engine(f"sqlite:///{database.sqlite_path}", poolclass=pool.NullPool)
        with engine.connect() as connection:
            _migrate(connection)
        engine.dispose()
        return
    asyncio.run(_migrate_postgres(database))


run()
