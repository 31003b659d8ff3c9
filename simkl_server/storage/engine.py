"""The one place SQLite and PostgreSQL differ: drivers, pragmas, placeholders, array params.

Queries are written once (storage/sql.py) and compiled here per dialect at start-up. They run
through the drivers themselves: `sqlite3` inline on the event loop for short transactions (a
thread hop costs more than the transaction), `asyncpg` for PostgreSQL.
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
import threading
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol, TypeVar

import asyncpg
import orjson
from sqlalchemy import text
from sqlalchemy.dialects import sqlite as sqlite_dialect
from sqlalchemy.dialects.postgresql import asyncpg as asyncpg_dialect
from sqlalchemy.engine import Dialect

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


@dataclass(frozen=True, slots=True)
class Query:
    """A statement compiled for one dialect, with its parameter names in positional order."""

    sql: str
    names: tuple[str, ...]

    def args(self, params: Mapping[str, Any]) -> tuple[Any, ...]:
        """Order named parameters the way the driver expects them."""
        return tuple(params[name] for name in self.names)


class SqlDialect:
    """SQL fragments whose spelling depends on the database."""

    def __init__(self, name: str, compiler: Dialect) -> None:
        self.name = name
        self._compiler = compiler

    def compile(self, sql: str) -> Query:
        """Turn `:name` parameters into the driver's positional placeholders."""
        compiled = text(sql).compile(dialect=self._compiler)
        return Query(str(compiled), tuple(compiled.positiontup or ()))

    def in_array(self, column: str, param: str, sql_type: str) -> str:
        """`column` is one of the values of an array parameter (see `encode_array`).

        PostgreSQL gets a real array and `= ANY`, an index condition whose plan does not hinge
        on the planner guessing the array's length; SQLite walks a JSON array."""
        if self.name == "sqlite":
            return f"{column} IN (SELECT value FROM json_each(:{param}))"
        return f"{column} = ANY(CAST(:{param} AS {sql_type}[]))"

    def array_source(self, param: str, sql_type: str) -> str:
        """A subquery yielding the values of an array parameter as rows of `value`."""
        if self.name == "sqlite":
            return f"SELECT value FROM json_each(:{param})"
        return f"SELECT unnest(CAST(:{param} AS {sql_type}[])) AS value"

    def encode_array(self, values: Iterable[Any]) -> Any:
        """An array parameter's value: JSON text for SQLite, a list for asyncpg."""
        if self.name == "sqlite":
            return orjson.dumps(list(values)).decode()
        return list(values)

    def json_rows(self, param: str, columns: Sequence[tuple[str, str]]) -> str:
        """A subquery yielding a JSON array of arrays (one JSON text parameter on both
        databases) as rows with the given columns."""
        if self.name == "sqlite":
            picks = ", ".join(
                f"json_extract(value, '$[{i}]') AS {name}" for i, (name, _) in enumerate(columns)
            )
            return f"SELECT {picks} FROM json_each(:{param})"
        picks = ", ".join(
            f"CAST(x->>{i} AS {sql_type}) AS {name}" for i, (name, sql_type) in enumerate(columns)
        )
        return f"SELECT {picks} FROM jsonb_array_elements(CAST(:{param} AS JSONB)) AS t(x)"

    def greatest(self, left: str, right: str) -> str:
        """The larger of two values (SQLite's two-argument MAX is PostgreSQL's GREATEST)."""
        return f"MAX({left}, {right})" if self.name == "sqlite" else f"GREATEST({left}, {right})"

    @property
    def lock_suffix(self) -> str:
        """Row lock for the per-user write lock; SQLite's BEGIN IMMEDIATE already locks."""
        return "" if self.name == "sqlite" else " FOR UPDATE"


SQLITE = SqlDialect("sqlite", sqlite_dialect.dialect())
POSTGRES = SqlDialect("postgresql", asyncpg_dialect.dialect())  # type: ignore[no-untyped-call]


class Connection(Protocol):
    """What store code runs statements on, inside or outside a transaction."""

    async def fetch(self, query: Query, params: Mapping[str, Any]) -> list[Row]:
        """All rows."""
        ...

    async def fetchrow(self, query: Query, params: Mapping[str, Any]) -> Row | None:
        """The first row, if any."""
        ...

    async def execute(self, query: Query, params: Mapping[str, Any]) -> None:
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

    def __init__(self, raw: sqlite3.Connection) -> None:
        self._raw = raw

    async def fetch(self, query: Query, params: Mapping[str, Any]) -> list[Row]:
        """All rows."""
        return self._raw.execute(query.sql, query.args(params)).fetchall()

    async def fetchrow(self, query: Query, params: Mapping[str, Any]) -> Row | None:
        """The first row, if any."""
        row: Row | None = self._raw.execute(query.sql, query.args(params)).fetchone()
        return row

    async def execute(self, query: Query, params: Mapping[str, Any]) -> None:
        """Run a statement for its effect."""
        self._raw.execute(query.sql, query.args(params))


# Checkpoints copy the WAL back into the database file and fsync it: a background thread does
# that every CHECKPOINT_SECONDS, so a commit on the event loop only appends to the WAL. The
# writer still checkpoints by itself past CHECKPOINT_BACKSTOP_PAGES, should the thread lag.
CHECKPOINT_SECONDS = 1.0
CHECKPOINT_BACKSTOP_PAGES = 16_384


def _open_sqlite(path: Path) -> sqlite3.Connection:
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

    def __init__(self, raw: Any) -> None:
        self._raw = raw

    async def fetch(self, query: Query, params: Mapping[str, Any]) -> list[Row]:
        """All rows."""
        rows: list[Row] = await self._raw.fetch(query.sql, *query.args(params))
        return rows

    async def fetchrow(self, query: Query, params: Mapping[str, Any]) -> Row | None:
        """The first row, if any."""
        row: Row | None = await self._raw.fetchrow(query.sql, *query.args(params))
        return row

    async def execute(self, query: Query, params: Mapping[str, Any]) -> None:
        """Run a statement for its effect."""
        await self._raw.execute(query.sql, *query.args(params))


class PgDriver:
    """An asyncpg pool; each write transaction takes the user's row lock first."""

    dialect = POSTGRES

    def __init__(self, pool: Any) -> None:
        self._pool = pool
        self._reader = PgConnection(pool)

    @classmethod
    async def connect(cls, dsn: str, *, pool_size: int) -> PgDriver:
        """Open a pool on the database named by `dsn`."""
        pool = await asyncpg.create_pool(
            dsn, min_size=1, max_size=pool_size, server_settings=_PG_SESSION
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


def asyncpg_dsn(database_url: str) -> str:
    """asyncpg wants plain postgresql:// (SQLAlchemy-style +driver suffixes are dropped)."""
    scheme, rest = database_url.split("://", 1)
    return f"postgresql://{rest}" if scheme.startswith("postgres") else database_url


async def open_driver(database_url: str, *, pool_size: int) -> Driver:
    """Open the driver a database URL names."""
    if database_url.startswith("sqlite"):
        return SqliteDriver(Path(database_url.split(":///", 1)[1]))
    return await PgDriver.connect(asyncpg_dsn(database_url), pool_size=pool_size)
