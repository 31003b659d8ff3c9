"""The two drivers: `sqlite3` inline on the event loop for short transactions (a thread hop
costs more than the transaction) and `asyncpg` for PostgreSQL; connections, transactions and
pools. Statements come compiled for both (storage/dialect.py); each connection picks its own.
A database that cannot be reached or opened is reported as DatabaseUnavailable, in one line.

SQLite never waits for a lock on the event loop: statements there run with no busy timeout,
and one that finds the file locked by another process (a backup, a `sqlite3` shell) is retried
in a worker thread that may wait up to `write_wait_ms`; past that it is DatabaseBusy. Server
processes sharing a file take turns to write through a lock file beside it (WriterTurn), so
the next one starts the moment a write ends.
"""

from __future__ import annotations

import asyncio
import fcntl
import logging
import os
import queue
import sqlite3
import threading
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, Protocol, TypeVar

import asyncpg

from simkl_server.config import DatabaseUrl
from simkl_server.storage.dialect import POSTGRES, SQLITE, SqlDialect, Statement
from simkl_server.storage.pg_pool import SESSION_LOST, PgPool

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
# JSON array parameter and starts parallel workers (~10 ms) or JIT for a 0.1 ms query. And
# each is prepared once per connection (asyncpg's statement cache, the functions' own plans)
# and written per variant, with no optional filter a parameter's value would settle: its
# generic plan is the plan. Left to choose, PostgreSQL planned most of them again on every
# call, its array parameters making the generic plan look costlier: a one-key catalog lookup
# took 93 us of the database's CPU, 20 us with its generic plan; the ratings clear 253 us
# against 167.
# Memoize caches an inner lookup by its key, for joins that repeat keys; this server's joins
# look up each key once (a library's items), and a 100,000-row library read took 304 ms
# with it, 200 ms without.
_PG_SESSION = {
    "max_parallel_workers_per_gather": "0",
    "jit": "off",
    "plan_cache_mode": "force_generic_plan",
    "enable_memoize": "off",
}
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


class DatabaseBusy(DatabaseUnavailable):
    """Another process held SQLite's lock for longer than a request may wait."""


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


# Alembic's one row of the revision the schema is at (storage/meta.py reads it too).
SCHEMA_REVISION_SQL = "SELECT version_num FROM alembic_version"


async def schema_revision(database: DatabaseUrl) -> str | None:
    """The schema revision the database is at (None: no schema yet), read through one
    connection opened and closed here, so a caller learns early and in one line when the
    database is away, refuses the login, does not exist or is not a database."""
    try:
        if database.sqlite_path is not None:
            raw = _open_sqlite(database.sqlite_path)
            try:
                return _sqlite_revision(raw)
            finally:
                raw.close()
        assert database.postgres_dsn is not None
        conn = await asyncpg.connect(database.postgres_dsn, timeout=database.connect_timeout)
        try:
            if await conn.fetchval("SELECT to_regclass('alembic_version')") is None:
                return None
            return await conn.fetchval(SCHEMA_REVISION_SQL)  # type: ignore[no-any-return]
        finally:
            await conn.close()
    except DRIVER_ERRORS as exc:
        raise unavailable(database, exc) from exc


def _sqlite_revision(raw: sqlite3.Connection) -> str | None:
    known = raw.execute(
        "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'alembic_version'"
    ).fetchone()
    if known is None:
        return None
    row = raw.execute(SCHEMA_REVISION_SQL).fetchone()
    return None if row is None else row[0]


# Rows a read turns into objects (or frees) between two turns it gives the event loop.
CONVERT_SLICE = 250


async def slices(rows: list[Row]) -> AsyncIterator[list[Row]]:
    """`rows` a slice at a time, giving the event loop a turn after each, then emptied a
    slice at a time: PostgreSQL reads run on the loop, where turning a whole library's rows
    into objects, or freeing them, in one go would hold it for a good part of a second.
    (SQLite reads run in a worker thread: the turns cost nothing, and freeing in slices lets
    the interpreter switch to the loop's thread in between.)"""
    for start in range(0, len(rows), CONVERT_SLICE):
        yield rows[start : start + CONVERT_SLICE]
        await asyncio.sleep(0)
    while rows:
        del rows[-CONVERT_SLICE:]
        await asyncio.sleep(0)


async def converted(rows: list[Row], convert: Callable[[Row], T]) -> list[T]:
    """`[convert(row) for row in rows]`, a slice at a time (see `slices`); empties `rows`."""
    return [convert(row) async for chunk in slices(rows) for row in chunk]


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

    async def snapshot(self, work: Callable[[Connection], Awaitable[T]]) -> T:
        """Run `work`'s reads on one consistent snapshot, off the event loop where reading
        itself would hold it (large reads: a whole library)."""
        ...

    async def small_snapshot(self, work: Callable[[Connection], Awaitable[T]]) -> T:
        """Run `work`'s reads on one consistent snapshot on the event loop: for reads the
        caller keeps small (a few hundred rows), where a thread hop costs more than the
        read."""
        ...

    # Whether `routine` runs server-side functions (PostgreSQL), so a caller can skip
    # preparing a call that would not be made.
    has_routines: bool
    # Whether one write lock serves every process (SQLite): what a write does while holding
    # it, every other process's writes wait through.
    one_writer: bool

    async def routine(self, statement: Statement, params: Mapping[str, Any]) -> Row | None:
        """The row of a call of a server-side function, run as a transaction of its own;
        None where the database has no such functions (SQLite)."""
        ...

    async def close(self) -> None:
        """Release connections."""
        ...


# Rows one sqlite3 call returns before the interpreter may switch threads.
_FETCH_SLICE = 500


def is_busy(exc: sqlite3.Error) -> bool:
    """Whether SQLite refused because another connection holds the lock."""
    return getattr(exc, "sqlite_errorcode", 0) & 0xFF == sqlite3.SQLITE_BUSY


class SqliteConnection:
    """Statements on one sqlite3 connection; they complete without yielding to the loop.

    The event loop's reader is given its driver: a read that finds the file locked (rare in
    WAL mode: a checkpoint truncating the log, a process holding an exclusive lock) is run
    again in a worker thread, on a connection that may wait for the lock."""

    dialect = SQLITE
    array = staticmethod(SQLITE.encode_array)

    def __init__(self, raw: sqlite3.Connection, *, retry: SqliteDriver | None = None) -> None:
        self._raw = raw
        self._retry = retry

    async def fetch(self, statement: Statement, params: Mapping[str, Any]) -> list[Row]:
        """All rows, taken a slice at a time: `fetchall` would hold the interpreter lock
        throughout, stopping every other thread (the event loop's, when a worker thread reads
        a whole library)."""
        query = statement.sqlite
        try:
            cursor = self._raw.execute(query.sql, query.args(params))
        except sqlite3.OperationalError as exc:
            if self._retry is None or not is_busy(exc):
                raise
            return await self._retry.snapshot(lambda conn: conn.fetch(statement, params))
        rows: list[Row] = []
        while chunk := cursor.fetchmany(_FETCH_SLICE):
            rows += chunk
        return rows

    async def fetchrow(self, statement: Statement, params: Mapping[str, Any]) -> Row | None:
        """The first row, if any."""
        query = statement.sqlite
        try:
            row: Row | None = self._raw.execute(query.sql, query.args(params)).fetchone()
        except sqlite3.OperationalError as exc:
            if self._retry is None or not is_busy(exc):
                raise
            return await self._retry.snapshot(lambda conn: conn.fetchrow(statement, params))
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


# Worker threads (each with a connection of its own) for reads too large for the event loop
# and for statements that must wait for another process's lock: few, so that the loop, which
# shares the interpreter with them, keeps its turn.
READ_THREADS = 2
_BUSY_OPEN_MS = 10_000  # opening may meet a lock while another process sets WAL mode up
# A write that finds another process holding the write lock tries again on the loop, after
# pauses doubling from _FIRST_PAUSE_S up to _LONGEST_PAUSE_S, for this long; a longer hold (an
# import, a backup) is waited out in a worker thread.
LOCK_POLL_MS = 50
_FIRST_PAUSE_S = 0.0001
_LONGEST_PAUSE_S = 0.002


def _open_sqlite(path: Path, *, busy_ms: int = _BUSY_OPEN_MS) -> sqlite3.Connection:
    check_sqlite_folder(path)
    raw = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    for pragma in (
        f"busy_timeout={_BUSY_OPEN_MS}",
        "journal_mode=WAL",
        "synchronous=NORMAL",
        "foreign_keys=ON",
        f"wal_autocheckpoint={CHECKPOINT_BACKSTOP_PAGES}",
        f"busy_timeout={busy_ms}",
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


class WriterTurn:
    """A lock on a file beside the database, held around each write transaction, so that a
    server process waiting for another's write starts the moment that write ends. Without it,
    the waiting process could only try BEGIN IMMEDIATE again after a pause, while the holder,
    with writes of its own queued, usually took the lock again first: with two workers, writes
    were slower than with one.

    `flock` waits in the kernel, so a contended turn is waited for in a daemon thread of its
    own. A wait that gives up leaves that thread waiting; the turn it then gets is given back
    at once, unless a later write of this process has taken the wait over. Every method but
    the thread's runs on the event loop that takes the turn."""

    def __init__(self, database: Path) -> None:
        self._fd = os.open(f"{database}-writer", os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        self._waits: queue.SimpleQueue[asyncio.Future[None] | None] = queue.SimpleQueue()
        self._waiter: threading.Thread | None = None
        self._pending: asyncio.Future[None] | None = None
        self._awaited = False

    async def take(self, wait_s: float) -> bool:
        """Whether this process now has the turn (False: another held it for `wait_s`)."""
        if self._pending is None:
            try:
                fcntl.flock(self._fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                return True
            except BlockingIOError:
                pass
            self._pending = asyncio.get_running_loop().create_future()
            self._pending.add_done_callback(self._arrived)
            self._wait_in_thread(self._pending)
        pending = self._pending
        self._awaited, taken = True, False
        try:
            await asyncio.wait((pending,), timeout=wait_s)
            taken = pending.done()
        finally:
            self._awaited = False
            if not taken and pending.done():  # cancelled as it arrived
                self._arrived(pending)
        if not taken:
            return False
        self._pending = None
        pending.result()  # the thread's OSError, should its flock have failed
        return True

    def give_back(self) -> None:
        """Let the next process's write begin."""
        fcntl.flock(self._fd, fcntl.LOCK_UN)

    def close(self) -> None:
        """Stop the thread once its wait (if any) ends, and close the file, which gives a
        held turn back."""
        self._waits.put(None)
        if self._waiter is None or not self._waiter.is_alive():
            os.close(self._fd)

    def _wait_in_thread(self, arrival: asyncio.Future[None]) -> None:
        if self._waiter is None:
            self._waiter = threading.Thread(
                target=self._wait_for_turns, name="sqlite-writer-turn", daemon=True
            )
            self._waiter.start()
        self._waits.put(arrival)

    def _wait_for_turns(self) -> None:
        """The thread: take each turn asked for, blocking, and tell its loop."""
        while (arrival := self._waits.get()) is not None:
            try:
                fcntl.flock(self._fd, fcntl.LOCK_EX)
            except OSError as exc:
                outcome: OSError | None = exc
            else:
                outcome = None
            try:
                arrival.get_loop().call_soon_threadsafe(_settle, arrival, outcome)
            except RuntimeError:  # the loop is closed: nobody will use this turn
                fcntl.flock(self._fd, fcntl.LOCK_UN)
        os.close(self._fd)

    def _arrived(self, pending: asyncio.Future[None]) -> None:
        """A wait nobody awaits any more ended: give its turn back."""
        if self._awaited or self._pending is not pending:
            return
        self._pending = None
        if pending.exception() is None:
            self.give_back()


def _settle(arrival: asyncio.Future[None], failure: OSError | None) -> None:
    if failure is None:
        arrival.set_result(None)
    else:
        arrival.set_exception(failure)


class SqliteDriver:
    """One writer connection behind an asyncio lock, one reader connection for the loop, and
    a few worker threads with readers of their own; none waits for a lock on the loop."""

    dialect = SQLITE
    has_routines = False
    one_writer = True

    def __init__(self, path: Path, *, write_wait_ms: int) -> None:
        self._path = path
        self._wait_ms = write_wait_ms
        self._writer_raw = _open_sqlite(path, busy_ms=0)
        self._reader_raw = _open_sqlite(path, busy_ms=0)
        self._reader = SqliteConnection(self._reader_raw, retry=self)
        self._writer = SqliteConnection(self._writer_raw)
        self._small_raw = _open_sqlite(path, busy_ms=0)
        self._small = SqliteConnection(self._small_raw)
        self._small_lock: asyncio.Lock | None = None
        self._lock: asyncio.Lock | None = None
        self._read_threads = ThreadPoolExecutor(READ_THREADS, thread_name_prefix="sqlite-read")
        self._thread_readers = threading.local()
        self._opened_readers: list[sqlite3.Connection] = []
        self._read_loops: list[asyncio.AbstractEventLoop] = []
        self._readers_lock = threading.Lock()
        self._turn = WriterTurn(path)
        self._checkpointer = _Checkpointer(path)
        self._checkpointer.start()

    @property
    def reader(self) -> Connection:
        """Connection for reads on the event loop (WAL: readers never wait for the writer)."""
        return self._reader

    async def transaction(self, work: Callable[[Connection], Awaitable[T]], *, offload: bool) -> T:
        """Serialise writers in this process, then take the writers' turn among server
        processes; BEGIN IMMEDIATE serialises with any other program."""
        if self._lock is None:
            self._lock = asyncio.Lock()
        async with self._lock:
            started = time.monotonic()
            if not await self._turn.take(self._wait_ms / 1000):
                raise self._busy("write")
            try:
                wait_ms = self._wait_ms - (time.monotonic() - started) * 1000
                if offload:
                    return await asyncio.to_thread(asyncio.run, self._run(work, wait_ms))
                return await self._run(work, wait_ms)
            finally:
                self._turn.give_back()

    async def snapshot(self, work: Callable[[Connection], Awaitable[T]]) -> T:
        """Run `work`'s reads in a worker thread, on that thread's own connection, in one read
        transaction (SQLite's statements never yield, so a large read on the loop would hold it
        throughout); a lock another process holds is waited for there, up to write_wait_ms."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._read_threads, self._in_read_thread, work)

    async def routine(self, statement: Statement, params: Mapping[str, Any]) -> Row | None:
        """None: SQLite has no server-side functions, and its statements cost no round trip
        for one to save."""
        del statement, params
        return None

    async def small_snapshot(self, work: Callable[[Connection], Awaitable[T]]) -> T:
        """On a connection of the loop's own, one read at a time (a read yields to the loop
        between its statements); when another process holds a lock that stops even a read,
        in a worker thread that may wait for it."""
        if self._small_lock is None:
            self._small_lock = asyncio.Lock()
        async with self._small_lock:
            try:
                self._small_raw.execute("BEGIN")
            except sqlite3.OperationalError as exc:
                if not is_busy(exc):
                    raise
                return await self.snapshot(work)
            try:
                return await work(self._small)
            finally:
                self._small_raw.execute("ROLLBACK")

    def _in_read_thread(self, work: Callable[[Connection], Awaitable[T]]) -> T:
        """Run the read on this worker thread's own event loop (kept: making one per read
        costs more than a small read)."""
        loop: asyncio.AbstractEventLoop | None = getattr(self._thread_readers, "loop", None)
        if loop is None:
            loop = self._thread_readers.loop = asyncio.new_event_loop()
            with self._readers_lock:
                self._read_loops.append(loop)
        return loop.run_until_complete(self._read_in_thread(work))

    async def _read_in_thread(self, work: Callable[[Connection], Awaitable[T]]) -> T:
        raw = self._thread_reader()
        try:
            raw.execute("BEGIN")
            try:
                return await work(SqliteConnection(raw))
            finally:
                raw.execute("ROLLBACK")
        except sqlite3.OperationalError as exc:
            if is_busy(exc):
                raise self._busy("read") from None
            raise

    def _thread_reader(self) -> sqlite3.Connection:
        raw: sqlite3.Connection | None = getattr(self._thread_readers, "raw", None)
        if raw is None:
            raw = _open_sqlite(self._path, busy_ms=self._wait_ms)
            self._thread_readers.raw = raw
            with self._readers_lock:
                self._opened_readers.append(raw)
        return raw

    async def _run(self, work: Callable[[Connection], Awaitable[T]], wait_ms: float) -> T:
        await self._begin(max(1, round(wait_ms)))
        try:
            result = await work(self._writer)
        except BaseException:
            self._writer_raw.execute("ROLLBACK")
            raise
        self._writer_raw.execute("COMMIT")
        return result

    async def _begin(self, wait_ms: int) -> None:
        """Take the write lock at once; while another program holds it, try again on the loop
        after short pauses for up to LOCK_POLL_MS, then wait for it in a worker thread for the
        rest of `wait_ms` (the in-process lock stays held, so nobody overtakes meanwhile).
        A short hold is waited out on the loop because SQLite's own wait sleeps 1, 2, 5,
        10 ms... between tries, far longer than one write holds it."""
        loop = asyncio.get_running_loop()
        started = loop.time()
        pause = 0.0
        while True:
            try:
                self._writer_raw.execute("BEGIN IMMEDIATE")
                return
            except sqlite3.OperationalError as exc:
                if not is_busy(exc):
                    raise
            polled_ms = (loop.time() - started) * 1000
            if polled_ms >= min(LOCK_POLL_MS, wait_ms):
                break
            await asyncio.sleep(pause)
            pause = min(max(pause * 2, _FIRST_PAUSE_S), _LONGEST_PAUSE_S)
        await asyncio.to_thread(self._begin_waiting, max(1, round(wait_ms - polled_ms)))

    def _begin_waiting(self, wait_ms: int) -> None:
        raw = self._writer_raw
        raw.execute(f"PRAGMA busy_timeout={wait_ms}")
        try:
            raw.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as exc:
            if is_busy(exc):
                raise self._busy("write") from None
            raise
        finally:
            raw.execute("PRAGMA busy_timeout=0")

    def _busy(self, what: str) -> DatabaseBusy:
        return DatabaseBusy(
            f"another process held the lock on SQLite file {self._path} for more than "
            f"{self._wait_ms} ms; this {what} gave up (SIMKL_SERVER_WRITE_WAIT_MS sets the wait)"
        )

    async def close(self) -> None:
        """Stop checkpointing, fold the WAL into the database file, close the connections."""
        self._checkpointer.stop()
        self._turn.close()
        self._read_threads.shutdown(wait=True)
        with self._readers_lock:
            for raw in self._opened_readers:
                raw.close()
            self._opened_readers.clear()
            for loop in self._read_loops:
                loop.close()
            self._read_loops.clear()
        self._reader_raw.close()
        self._small_raw.close()
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
        try:
            rows: list[Row] = await self._raw.fetch(query.sql, *query.args(params))
        except SESSION_LOST as exc:
            raise _gone(exc) from exc
        return rows

    async def fetchrow(self, statement: Statement, params: Mapping[str, Any]) -> Row | None:
        """The first row, if any."""
        query = statement.postgres
        try:
            row: Row | None = await self._raw.fetchrow(query.sql, *query.args(params))
        except SESSION_LOST as exc:
            raise _gone(exc) from exc
        return row

    async def execute(self, statement: Statement, params: Mapping[str, Any]) -> None:
        """Run a statement for its effect."""
        query = statement.postgres
        try:
            await self._raw.execute(query.sql, *query.args(params))
        except SESSION_LOST as exc:
            raise _gone(exc) from exc


def _gone(exc: BaseException) -> DatabaseUnavailable:
    return DatabaseUnavailable(f"PostgreSQL does not answer: {one_line(exc)}")


async def _pg_pool(database: DatabaseUrl, *, size: int) -> PgPool:
    """A pool on the database, for the loop that awaits it."""
    return await PgPool.connect(
        database.postgres_dsn,
        size=size,
        connect_timeout=database.connect_timeout,
        settings=_PG_SESSION,
    )


class _ReadThread:
    """An event loop in a thread of its own, with a small pool, for reads too large for the
    server's loop: asyncpg decodes rows on the loop that awaits them, and a 100k-row library
    is then built and rendered there too. Started on first use."""

    def __init__(self, database: DatabaseUrl) -> None:
        self._database = database
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._pool: PgPool | None = None
        self._pool_lock = asyncio.Lock()  # used on the thread's loop only

    async def run(self, work: Callable[[Connection], Awaitable[T]]) -> T:
        """Run `work` on the thread's loop, in one repeatable-read, read-only transaction."""
        if self._loop is None:
            self._loop = asyncio.new_event_loop()
            self._thread = threading.Thread(
                target=self._loop.run_forever, name="postgres-read", daemon=True
            )
            self._thread.start()
        done = asyncio.run_coroutine_threadsafe(self._run(work), self._loop)
        return await asyncio.wrap_future(done)

    async def _run(self, work: Callable[[Connection], Awaitable[T]]) -> T:
        async with self._pool_lock:
            if self._pool is None:
                self._pool = await _pg_pool(self._database, size=READ_THREADS)
        return await _read_only(self._pool, work)

    async def close(self) -> None:
        """Close the pool and stop the thread."""
        loop, thread = self._loop, self._thread
        if loop is None or thread is None:
            return
        if self._pool is not None:
            await asyncio.wrap_future(asyncio.run_coroutine_threadsafe(self._pool.close(), loop))
        loop.call_soon_threadsafe(loop.stop)
        thread.join()
        loop.close()


class PgDriver:
    """A pool of asyncpg connections (PgPool); each write transaction takes the user's row
    lock first; large reads run on a thread of their own."""

    dialect = POSTGRES
    has_routines = True
    one_writer = False

    def __init__(self, pool: PgPool, database: DatabaseUrl) -> None:
        self._pool = pool
        self._reader = PgConnection(pool)
        self._reads = _ReadThread(database)

    @classmethod
    async def connect(cls, database: DatabaseUrl, *, pool_size: int) -> PgDriver:
        """Open a pool on the PostgreSQL database the URL names."""
        return cls(await _pg_pool(database, size=pool_size), database)

    @property
    def reader(self) -> Connection:
        """Connection for reads outside a transaction (one pooled connection per call)."""
        return self._reader

    async def transaction(self, work: Callable[[Connection], Awaitable[T]], *, offload: bool) -> T:
        """Run `work` in a transaction, replaying it on deadlock or a racing insert."""
        del offload  # asyncpg already awaits the database instead of blocking the loop

        async def run() -> T:
            async with self._pool.acquire() as raw, raw.transaction():
                return await work(PgConnection(raw))

        return await _replayed(run)

    async def routine(self, statement: Statement, params: Mapping[str, Any]) -> Row | None:
        """One round trip: the call is a statement, so a transaction, of its own (replayed on
        deadlock or a racing insert, as a transaction is)."""
        return await _replayed(lambda: self._reader.fetchrow(statement, params))

    async def small_snapshot(self, work: Callable[[Connection], Awaitable[T]]) -> T:
        """Run `work`'s reads in one repeatable-read transaction, on the loop."""
        try:
            return await _read_only(self._pool, work)
        except SESSION_LOST as exc:
            raise _gone(exc) from exc

    async def snapshot(self, work: Callable[[Connection], Awaitable[T]]) -> T:
        """Run `work`'s reads in one repeatable-read transaction, on the read thread."""
        try:
            return await self._reads.run(work)
        except SESSION_LOST as exc:
            raise _gone(exc) from exc

    async def close(self) -> None:
        """Close the pools."""
        await self._reads.close()
        await self._pool.close()


async def _read_only(pool: PgPool, work: Callable[[Connection], Awaitable[T]]) -> T:
    """`work` in one repeatable-read, read-only transaction on a connection of the pool."""
    async with pool.acquire() as raw, raw.transaction(isolation="repeatable_read", readonly=True):
        return await work(PgConnection(raw))


async def _replayed(run: Callable[[], Awaitable[T]]) -> T:
    for attempt in range(1, _PG_ATTEMPTS + 1):
        try:
            return await run()
        except _PG_RETRYABLE as exc:
            if attempt == _PG_ATTEMPTS:
                raise
            log.info("retrying transaction after %s", type(exc).__name__)
        except SESSION_LOST as exc:
            raise _gone(exc) from exc
    raise AssertionError("unreachable")


async def open_driver(database: DatabaseUrl, *, pool_size: int, write_wait_ms: int) -> Driver:
    """Open the driver a database URL names (DatabaseUnavailable when it cannot)."""
    try:
        if database.sqlite_path is not None:
            return SqliteDriver(database.sqlite_path, write_wait_ms=write_wait_ms)
        return await PgDriver.connect(database, pool_size=pool_size)
    except DRIVER_ERRORS as exc:
        raise unavailable(database, exc) from exc
