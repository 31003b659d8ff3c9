"""The two drivers: `sqlite3` inline on the event loop for short transactions (a thread hop
costs more than the transaction) and `asyncpg` for PostgreSQL; connections, transactions and
pools. Statements come compiled for both (storage/dialect.py); each connection picks its own.
A database that cannot be reached or opened is reported as DatabaseUnavailable, in one line.
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
import threading
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any, Protocol, TypeVar

import asyncpg

from simkl_server.config import DatabaseUrl
from simkl_server.storage.dialect import POSTGRES, SQLITE, SqlDialect, Statement

T = TypeVar("T")
Row = Sequence[Any]
log = logging.getLogger("simkl_server.storage")

# Transient PostgreSQL failures worth replaying the whole transaction for.
_PG_RETRYABLE = (
    asyncpg.exceptions.DeadlockDetectedError,
    asyncpg.exceptions.SerializationError,
    asyncpg.exceptions.UniqueViolationError,
)
_PG_ATTEMPTS = 5
# Every statement here is a short indexed lookup, but the planner guesses 100 rows for each
# JSON array parameter and starts parallel workers (~10 ms) or JIT for a 0.1 ms query.
_PG_SESSION = {"max_parallel_workers_per_gather": "0", "jit": "off"}
# What the drivers raise when a database is away, refuses us or is not a database at all.
DRIVER_ERRORS: tuple[type[BaseException], ...] = (
    sqlite3.Error,
    asyncpg.PostgresError,
    asyncpg.InterfaceError,
    OSError,
    TimeoutError,
)
_LOGIN_REFUSED = (
    asyncpg.InvalidAuthorizationSpecificationError,
    asyncpg.InvalidPasswordError,
)


class DatabaseUnavailable(Exception):
    """The database cannot be reached, opened or used; the message is one line for people."""


def unavailable(database: DatabaseUrl, exc: BaseException) -> DatabaseUnavailable:
    """The one-line explanation of a driver error met while opening or using `database`."""
    if isinstance(exc, DatabaseUnavailable):
        return exc
    if database.sqlite_path is not None:
        return DatabaseUnavailable(f"cannot open {database.describe()}: {one_line(exc)}")
    return DatabaseUnavailable(_postgres_problem(database, exc))


def _postgres_problem(database: DatabaseUrl, exc: BaseException) -> str:
    where = f"PostgreSQL at {database.postgres_address}"
    if isinstance(exc, asyncpg.InvalidCatalogNameError):
        name = database.postgres_name
        return (
            f"PostgreSQL database {name!r} does not exist at {database.postgres_address}: "
            f'create it first (createdb {name}, or CREATE DATABASE "{name}";)'
        )
    if isinstance(exc, TimeoutError) and database.connect_timeout is not None:
        return (
            f"{where} did not answer within {database.connect_timeout:g} s "
            "(connect_timeout in the URL changes the wait)"
        )
    if isinstance(exc, _LOGIN_REFUSED):
        return f"{where} refused the login: {one_line(exc)}"
    if isinstance(exc, asyncpg.PostgresError):
        return f"{database.describe()}: {one_line(exc)}"
    return f"cannot connect to {where}: {one_line(exc)}"


def one_line(exc: BaseException) -> str:
    """A driver error's own words, on one line."""
    text = str(getattr(exc, "strerror", None) or exc) or type(exc).__name__
    return " ".join(text.split())


def check_sqlite_folder(path: Path) -> None:
    """Refuse a SQLite file whose folder is missing (creating folders is the user's call)."""
    folder = path.parent
    if not folder.is_dir():
        raise DatabaseUnavailable(
            f"the folder {folder} of SQLite file {path} does not exist: create it, or choose "
            "another path"
        )


async def probe(database: DatabaseUrl) -> None:
    """Open and close one connection, so a caller learns early and in one line when the
    database is away, refuses the login, does not exist or is not a database."""
    try:
        if database.sqlite_path is not None:
            raw = _open_sqlite(database.sqlite_path)
            raw.close()
            return
        assert database.postgres_dsn is not None
        conn = await asyncpg.connect(database.postgres_dsn, timeout=database.connect_timeout)
        await conn.close()
    except DRIVER_ERRORS as exc:
        raise unavailable(database, exc) from exc


class Connection(Protocol):
    """What store code runs statements on, inside or outside a transaction."""

    dialect: SqlDialect

    def array(self, values: Iterable[Any]) -> Any:
        """An array parameter's value as this driver takes it."""
        ...

    async def fetch(self, statement: Statement, params: Mapping[str, Any]) -> list[Row]:
        """All rows."""
        ...

    async def fetchrow(self, statement: Statement, params: Mapping[str, Any]) -> Row | None:
        """The first row, if any."""
        ...

    async def execute(self, statement: Statement, params: Mapping[str, Any]) -> None:
        """Run a statement for its effect."""
        ...


class Driver(Protocol):
    """A database: a reader for plain reads and serialised write transactions."""

    dialect: SqlDialect

    @property
    def reader(self) -> Connection:
        """Connection for reads outside a transaction."""
        ...

    async def transaction(self, work: Callable[[Connection], Awaitable[T]], *, offload: bool) -> T:
        """Run `work` in one write transaction; `offload` moves long work off the event loop."""
        ...

    async def close(self) -> None:
        """Release connections."""
        ...


class SqliteConnection:
    """Statements on one sqlite3 connection; they complete without yielding to the loop."""

    dialect = SQLITE
    array = staticmethod(SQLITE.encode_array)

    def __init__(self, raw: sqlite3.Connection) -> None:
        self._raw = raw

    async def fetch(self, statement: Statement, params: Mapping[str, Any]) -> list[Row]:
        """All rows."""
        query = statement.sqlite
        return self._raw.execute(query.sql, query.args(params)).fetchall()

    async def fetchrow(self, statement: Statement, params: Mapping[str, Any]) -> Row | None:
        """The first row, if any."""
        query = statement.sqlite
        row: Row | None = self._raw.execute(query.sql, query.args(params)).fetchone()
        return row

    async def execute(self, statement: Statement, params: Mapping[str, Any]) -> None:
        """Run a statement for its effect."""
        query = statement.sqlite
        self._raw.execute(query.sql, query.args(params))


# Checkpoints copy the WAL back into the database file and fsync it: a background thread does
# that every CHECKPOINT_SECONDS, so a commit on the event loop only appends to the WAL. The
# writer still checkpoints by itself past CHECKPOINT_BACKSTOP_PAGES, should the thread lag.
CHECKPOINT_SECONDS = 1.0
CHECKPOINT_BACKSTOP_PAGES = 16_384


def _open_sqlite(path: Path) -> sqlite3.Connection:
    check_sqlite_folder(path)
    raw = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    for pragma in (
        "journal_mode=WAL",
        "synchronous=NORMAL",
        "foreign_keys=ON",
        "busy_timeout=10000",
        f"wal_autocheckpoint={CHECKPOINT_BACKSTOP_PAGES}",
    ):
        raw.execute(f"PRAGMA {pragma}")
    return raw


class _Checkpointer(threading.Thread):
    """Runs passive WAL checkpoints off the event loop until stopped."""

    def __init__(self, path: Path) -> None:
        super().__init__(name="sqlite-checkpointer", daemon=True)
        self._path = path
        self._stopping = threading.Event()

    def run(self) -> None:
        """Checkpoint, then wait; a PASSIVE checkpoint never blocks readers or the writer."""
        raw = _open_sqlite(self._path)
        try:
            while not self._stopping.wait(CHECKPOINT_SECONDS):
                try:
                    raw.execute("PRAGMA wal_checkpoint(PASSIVE)")
                except sqlite3.OperationalError as exc:  # busy: the next round catches up
                    log.debug("checkpoint skipped: %s", exc)
        finally:
            raw.close()

    def stop(self) -> None:
        """Ask the thread to finish and wait for it."""
        self._stopping.set()
        self.join()


class SqliteDriver:
    """One writer connection behind an asyncio lock, one reader connection for the loop."""

    dialect = SQLITE

    def __init__(self, path: Path) -> None:
        self._writer_raw = _open_sqlite(path)
        self._reader_raw = _open_sqlite(path)
        self._reader = SqliteConnection(self._reader_raw)
        self._writer = SqliteConnection(self._writer_raw)
        self._lock: asyncio.Lock | None = None
        self._checkpointer = _Checkpointer(path)
        self._checkpointer.start()

    @property
    def reader(self) -> Connection:
        """Connection for reads on the event loop (WAL: readers never wait for the writer)."""
        return self._reader

    async def transaction(self, work: Callable[[Connection], Awaitable[T]], *, offload: bool) -> T:
        """Serialise writers in this process; BEGIN IMMEDIATE serialises across processes."""
        if self._lock is None:
            self._lock = asyncio.Lock()
        async with self._lock:
            if offload:
                return await asyncio.to_thread(asyncio.run, self._run(work))
            return await self._run(work)

    async def _run(self, work: Callable[[Connection], Awaitable[T]]) -> T:
        self._writer_raw.execute("BEGIN IMMEDIATE")
        try:
            result = await work(self._writer)
        except BaseException:
            self._writer_raw.execute("ROLLBACK")
            raise
        self._writer_raw.execute("COMMIT")
        return result

    async def close(self) -> None:
        """Stop checkpointing, fold the WAL into the database file, close the connections."""
        self._checkpointer.stop()
        self._reader_raw.close()
        try:
            self._writer_raw.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        except sqlite3.OperationalError as exc:  # another process is busy: it will do it
            log.debug("final checkpoint skipped: %s", exc)
        self._writer_raw.close()


class PgConnection:
    """Statements on an asyncpg connection or pool."""

    dialect = POSTGRES
    array = staticmethod(POSTGRES.encode_array)

    def __init__(self, raw: Any) -> None:
        self._raw = raw

    async def fetch(self, statement: Statement, params: Mapping[str, Any]) -> list[Row]:
        """All rows."""
        query = statement.postgres
        rows: list[Row] = await self._raw.fetch(query.sql, *query.args(params))
        return rows

    async def fetchrow(self, statement: Statement, params: Mapping[str, Any]) -> Row | None:
        """The first row, if any."""
        query = statement.postgres
        row: Row | None = await self._raw.fetchrow(query.sql, *query.args(params))
        return row

    async def execute(self, statement: Statement, params: Mapping[str, Any]) -> None:
        """Run a statement for its effect."""
        query = statement.postgres
        await self._raw.execute(query.sql, *query.args(params))


class PgDriver:
    """An asyncpg pool; each write transaction takes the user's row lock first."""

    dialect = POSTGRES

    def __init__(self, pool: Any) -> None:
        self._pool = pool
        self._reader = PgConnection(pool)

    @classmethod
    async def connect(cls, database: DatabaseUrl, *, pool_size: int) -> PgDriver:
        """Open a pool on the PostgreSQL database the URL names."""
        pool = await asyncpg.create_pool(
            database.postgres_dsn,
            min_size=1,
            max_size=pool_size,
            timeout=database.connect_timeout,
            server_settings=_PG_SESSION,
        )
        return cls(pool)

    @property
    def reader(self) -> Connection:
        """Connection for reads outside a transaction (one pooled connection per call)."""
        return self._reader

    async def transaction(self, work: Callable[[Connection], Awaitable[T]], *, offload: bool) -> T:
        """Run `work` in a transaction, replaying it on deadlock or a racing insert."""
        del offload  # asyncpg already awaits the database instead of blocking the loop
        for attempt in range(1, _PG_ATTEMPTS + 1):
            try:
                async with self._pool.acquire() as raw, raw.transaction():
                    return await work(PgConnection(raw))
            except _PG_RETRYABLE as exc:
                if attempt == _PG_ATTEMPTS:
                    raise
                log.info("retrying transaction after %s", type(exc).__name__)
        raise AssertionError("unreachable")

    async def close(self) -> None:
        """Close the pool."""
        await self._pool.close()


async def open_driver(database: DatabaseUrl, *, pool_size: int) -> Driver:
    """Open the driver a database URL names (DatabaseUnavailable when it cannot)."""
    try:
        if database.sqlite_path is not None:
            return SqliteDriver(database.sqlite_path)
        return await PgDriver.connect(database, pool_size=pool_size)
    except DRIVER_ERRORS as exc:
        raise unavailable(database, exc) from exc
