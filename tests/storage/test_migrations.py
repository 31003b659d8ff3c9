"""The migrations build exactly the schema storage/schema.py declares, on both databases."""

from __future__ import annotations

import asyncio
import sqlite3
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import asyncpg
import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, create_engine, text
from sqlalchemy.ext.asyncio import create_async_engine

from simkl_server.clock import FrozenClock
from simkl_server.config import DatabaseUrl, Settings, parse_database_url
from simkl_server.domain import auth
from simkl_server.domain.tokens import secret_matches
from simkl_server.errors import UserTokenFailed
from simkl_server.storage import migrate
from simkl_server.storage.base import Store, open_store
from simkl_server.storage.migrate import alembic_config
from simkl_server.storage.schema import UNDECLARED_PREFIX, metadata
from tests.cli.support import assert_one_line_error, simkl_server
from tests.conftest import (
    REQUIRE_POSTGRES,
    create_pg_database,
    drop_pg_database,
    postgres_available,
)
from tests.robustness import database

T = TypeVar("T")


def _differences(connection: Connection) -> list[Any]:
    context = MigrationContext.configure(
        connection, opts={"compare_type": True, "include_name": _declared}
    )
    return list(compare_metadata(context, metadata))


def _declared(name: str | None, kind: str, parents: dict[str, Any]) -> bool:
    """Whether metadata declares it: the title search's own tables and index are undeclared."""
    return name is None or not name.startswith(UNDECLARED_PREFIX)


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


def test_the_head_revision_is_alembics() -> None:
    """`upgrade` skips Alembic at the head it reads off the file names, and refuses a revision
    not among them: Alembic's own head and revisions."""
    script = ScriptDirectory.from_config(alembic_config(DatabaseUrl("sqlite")))
    assert migrate.head_revision() == script.get_current_head()
    assert migrate.known_revisions() == sorted(step.revision for step in script.walk_revisions())


def test_a_database_at_the_head_is_upgraded_without_alembic(empty_database: str) -> None:
    """A database at the head is told apart with one query: a process that finds its
    database up to date and serves it never loads Alembic or SQLAlchemy (each command and
    server start migrates first)."""
    code = (
        "import sys; from simkl_server.config import parse_database_url; "
        "from simkl_server.storage import migrate; import simkl_server.app, simkl_server.cli; "
        f"migrate.upgrade(parse_database_url({empty_database!r})); "
        "print(sorted({name.split('.')[0] for name in sys.modules} & {'alembic', 'sqlalchemy'}))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert done.stdout == "[]\n"
    revisions = database.query(empty_database, "SELECT version_num FROM alembic_version")
    assert revisions == [(migrate.head_revision(),)]


# Rows a rating filed before the library revision: a completed movie, a single-episode show
# filed completed, a show filed watching, an anime film filed completed.
_RATED_ROWS = [
    (53536, "completed"),
    (900021, "completed"),
    (42040, "watching"),
    (39011, "completed"),
]
_CATALOG = [
    (53536, "movie", None, None),
    (900021, "show", None, 1),
    (42040, "show", None, 56),
    (39011, "anime", "movie", 1),
]


def _seed_before_library(conn: Connection) -> None:
    conn.execute(text("INSERT INTO users (id, username, created_at) VALUES (1, 'old', 1000)"))
    for item_id, kind, anime_type, episodes in _CATALOG:
        conn.execute(
            text(
                "INSERT INTO catalog_items (id, type, title, title_key, total_episodes, "
                "anime_type, ids) VALUES (:id, :type, 't', 't', :episodes, :anime_type, '{}')"
            ),
            {"id": item_id, "type": kind, "episodes": episodes, "anime_type": anime_type},
        )
    for item_id, status in _RATED_ROWS:
        conn.execute(
            text(
                "INSERT INTO library (user_id, item_id, status, user_rating, user_rated_at, "
                "rating_changed_at, added_at, list_changed_at) "
                "VALUES (1, :item_id, :status, 7, 5000, 5000, 5000, 5000)"
            ),
            {"item_id": item_id, "status": status},
        )


def _library_after(conn: Connection) -> dict[int, tuple[Any, ...]]:
    rows = conn.execute(
        text(
            "SELECT item_id, last_watched_at, watched_episodes, next_to_watch FROM library "
            "ORDER BY item_id"
        )
    )
    return {row[0]: tuple(row[1:]) for row in rows}


def test_rows_filed_by_a_rating_become_library_entries(backend: str, tmp_path: Path) -> None:
    """Migrating a database of rated items gives the entries the library model describes."""
    url = _bare_database(backend, tmp_path)
    database = parse_database_url(url)
    try:
        command.upgrade(alembic_config(database), "0001")
        _run_sync(url, _seed_before_library)
        command.upgrade(alembic_config(database), "head")
        after = _run_sync(url, _library_after)
    finally:
        if backend == "postgres":
            drop_pg_database(url)

    assert after == {
        39011: (5000, 1, None),
        42040: (None, 0, "S01E01"),
        53536: (5000, 0, None),
        900021: (5000, 1, None),
    }


def _bare_database(backend: str, tmp_path: Path) -> str:
    if backend == "sqlite":
        return f"sqlite:///{tmp_path / 'before.db'}"
    reason = postgres_available()
    if reason is not None:
        if REQUIRE_POSTGRES:
            pytest.fail(reason)
        pytest.skip(reason)
    return create_pg_database()


def _run_sync(url: str, work: Callable[[Connection], T]) -> T:
    """Run `work` in one committed transaction on either database."""
    database = parse_database_url(url)
    if database.sqlite_path is not None:
        engine = create_engine(f"sqlite:///{database.sqlite_path}")
        try:
            with engine.begin() as connection:
                return work(connection)
        finally:
            engine.dispose()

    async def run() -> T:
        dsn = database.postgres_dsn
        engine = create_async_engine(
            "postgresql+asyncpg://", async_creator=lambda: asyncpg.connect(dsn)
        )
        try:
            async with engine.begin() as connection:
                return await connection.run_sync(work)
        finally:
            await engine.dispose()

    return asyncio.run(run())


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


def test_a_database_a_newer_version_upgraded_is_refused_in_one_line(empty_database: str) -> None:
    """A server older than its database (a rollback) says so and changes nothing, in `db
    upgrade` and in `serve` alike."""
    _execute(empty_database, ["UPDATE alembic_version SET version_num = '9999'"])
    for command_args in (["db", "upgrade"], ["serve", "--port", "0"]):
        done = simkl_server(empty_database, *command_args, code=1)
        assert_one_line_error(
            done,
            "is at schema revision 9999, which this version of simkl-server does not know",
            f"its newest is {migrate.head_revision()}",
            "run that version, or restore a backup",
        )
    revisions = database.query(empty_database, "SELECT version_num FROM alembic_version")
    assert revisions == [("9999",)]
