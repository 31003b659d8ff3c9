"""The Store: every area's queries composed, and the transactions they run in.

An area's statements and the methods that run them live in that area's module (accounts,
activities, catalog, codes, grants, history, library, meta, playbacks, ratings, rewatches,
sessions); a Session puts all of them on one connection, so the domain writes
`tx.ratings.clear(...)` or `store.read.catalog.size()`. Adding a query touches its area's
module only; adding an area adds one property here.
"""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any, Generic, Protocol, TypeVar

from simkl_server.clock import Clock
from simkl_server.config import DatabaseUrl, Settings
from simkl_server.domain.models import CatalogHits, CatalogQuery
from simkl_server.storage.accounts import AccountQueries
from simkl_server.storage.activities import ActivityQueries
from simkl_server.storage.ahead import (
    Ahead,
    AheadCatalog,
    AheadHistory,
    AheadLibrary,
    NotAhead,
    Refusing,
)
from simkl_server.storage.catalog import CatalogCache, CatalogMoved, CatalogQueries
from simkl_server.storage.codes import CodeQueries
from simkl_server.storage.control import (
    ControlQueries,
    StateRefused,
    state_columns,
    state_tables,
)
from simkl_server.storage.credentials import (
    CURRENT,
    Authentication,
    CredentialCache,
    CredentialChanged,
    Deferred,
    request_credentials,
)
from simkl_server.storage.dialect import Statement, statement
from simkl_server.storage.drivers import (
    Connection,
    DatabaseBusy,
    DatabaseUnavailable,
    Driver,
    Row,
    open_driver,
)
from simkl_server.storage.grants import GrantQueries
from simkl_server.storage.history import HistoryQueries
from simkl_server.storage.library import SAVE_AHEAD, LibraryQueries, SmallReads
from simkl_server.storage.meta import MetaQueries
from simkl_server.storage.playbacks import PlaybackQueries, TakeScrobbleLock
from simkl_server.storage.ratings import ClearRatings, RatingsQueries
from simkl_server.storage.rewatches import RewatchQueries
from simkl_server.storage.search import SearchQueries
from simkl_server.storage.sessions import SessionQueries
from simkl_server.storage.tables import CONTROL_TABLES, INTERNAL_TABLES

__all__ = [
    "Authentication",
    "CatalogMoved",
    "ClearRatings",
    "CredentialChanged",
    "DatabaseBusy",
    "DatabaseUnavailable",
    "Session",
    "StateRefused",
    "Store",
    "TakeScrobbleLock",
    "WriteTx",
    "open_store",
    "request_credentials",
    "state_columns",
]
T = TypeVar("T")
T_co = TypeVar("T_co", covariant=True)
A = TypeVar("A")
_CATALOG_TABLES = frozenset({"catalog_items", "catalog_ids", "catalog_episodes"})
_ACCOUNT_TABLES = frozenset({"users", "apps"})
# The largest write that runs ahead of the user's lock: a larger one whose call was refused
# would have done its work twice.
AHEAD_MAX_ITEMS = 500


@functools.cache
def _reset_order() -> tuple[tuple[str, Statement], ...]:
    """Each table a reset empties and the statement that does, children before parents, so
    foreign keys never stop it; built on first use from the schema (storage/control.py says
    why then)."""
    from simkl_server.storage import schema  # noqa: PLC0415

    return tuple(
        (str(table.name), statement(f"DELETE FROM {table.name}"))
        for table in reversed(schema.metadata.sorted_tables)
        if table.name not in INTERNAL_TABLES
    )


class _Lazy(Generic[A]):
    """An area's queries on the session's connection, made on first use and kept.

    Like functools.cached_property without its per-access lock (Python 3.11 takes one), which
    showed in profiles: a write transaction makes a fresh session per request."""

    _name = ""

    def __set_name__(self, owner: type, name: str) -> None:
        self._name = name

    def __get__(self, session: Session, owner: Any = None) -> A:
        area = self._made(session)
        session.__dict__[self._name] = area  # later lookups find it before the descriptor
        return area

    def _made(self, session: Session) -> A:
        raise NotImplementedError


class _Area(_Lazy[A]):
    """An area whose queries take the connection alone."""

    def __init__(self, make: Callable[[Connection], A]) -> None:
        self._make = make

    def _made(self, session: Session) -> A:
        return self._make(session.conn)


class _ReadsArea(_Lazy[A]):
    """An area whose queries also take the Store's small reads kept."""

    def __init__(self, make: Callable[[Connection, SmallReads], A]) -> None:
        self._make = make

    def _made(self, session: Session) -> A:
        return self._make(session.conn, session.reads)


class _CatalogArea(_Lazy[CatalogQueries]):
    """The catalog's queries, with the Store's memory of lookups when the session has it."""

    def _made(self, session: Session) -> CatalogQueries:
        return CatalogQueries(session.conn, session.kept_catalog)


class Session:
    """Every area's statements on one connection: `session.<area>.<query method>(...)`;
    `reads`: the Store's small library reads kept; `kept_catalog`: the Store's memory of
    catalog lookups, for a session whose lookups may answer from it."""

    accounts = _Area(AccountQueries)
    activities = _Area(ActivityQueries)
    catalog = _CatalogArea()
    codes = _Area(CodeQueries)
    control = _Area(ControlQueries)
    grants = _Area(GrantQueries)
    history = _Area(HistoryQueries)
    library = _ReadsArea(LibraryQueries)
    meta = _Area(MetaQueries)
    playbacks = _Area(PlaybackQueries)
    ratings = _ReadsArea(RatingsQueries)
    rewatches = _Area(RewatchQueries)
    sessions = _Area(SessionQueries)
    search = _Area(SearchQueries)

    def __init__(
        self, conn: Connection, reads: SmallReads, kept_catalog: CatalogCache | None = None
    ) -> None:
        self.conn = conn
        self.reads = reads
        self.kept_catalog = kept_catalog


class WriteTx(Session):
    """A write transaction; `now_ms` is the time its changes are stamped with; in a user's
    write, `account_type` is that user's plan."""

    def __init__(
        self,
        conn: Connection,
        reads: SmallReads,
        now_ms: int,
        account_type: str = "free",
        kept_catalog: CatalogCache | None = None,
    ) -> None:
        super().__init__(conn, reads, kept_catalog)
        self.now_ms = now_ms
        self.account_type = account_type


class AheadTx(WriteTx):
    """A user write run ahead of the user's lock (storage/ahead.py): its catalog lookups and
    entries are read on `reader`, its save and marks are kept in `ahead` for one call, and
    any other statement, or asking for the account's plan, ends the run (NotAhead)."""

    def __init__(
        self, reader: Connection, reads: SmallReads, ahead: Ahead, kept_catalog: CatalogCache
    ) -> None:
        refusing = Refusing()
        super().__init__(refusing, reads, ahead.now, kept_catalog=kept_catalog)
        self.ahead = ahead
        # Before the areas' descriptors, which would make them on the refusing connection.
        self.__dict__["catalog"] = AheadCatalog(refusing, kept_catalog, reader, ahead)
        self.__dict__["library"] = AheadLibrary(refusing, reads, reader, ahead)
        self.__dict__["history"] = AheadHistory(refusing, ahead)

    @property
    def account_type(self) -> str:
        """Not known ahead of the lock, which reads it: ends the run."""
        raise NotAhead

    @account_type.setter
    def account_type(self, value: str) -> None:
        del value  # WriteTx's default; the plan is read under the lock


class Routine(Protocol[T_co]):
    """A user write that PostgreSQL runs as one call of a server-side function: it takes the
    user's lock, holds the request's token to the auth stamp it was cached under, and does
    the work, all in one round trip. The call's first column is NULL when it changed nothing
    because the user is gone or the stamp moved."""

    @property
    def user_id(self) -> int:
        """Whose write it is."""
        ...

    @property
    def call(self) -> Statement:
        """The call of the function."""
        ...

    def params(self, *, now: int, auth_stamp: int | None) -> dict[str, Any]:
        """The call's parameters; `auth_stamp` None: no cached authentication to check."""
        ...

    def result(self, row: Row) -> T_co:
        """What the write tells, from the call's row."""
        ...

    async def run(self, tx: WriteTx) -> T_co:
        """The same write as ordinary statements, in the user's write transaction."""
        ...


class Store:
    """The database: reads on `read`, user writes serialised per user, other writes as plain
    transactions."""

    def __init__(self, driver: Driver, clock: Clock, *, inline_batch_items: int) -> None:
        self._driver = driver
        self._clock = clock
        self._inline_batch_items = inline_batch_items
        self._credentials = CredentialCache()
        self._catalog = CatalogCache()
        self._reads = SmallReads()
        self.read = Session(driver.reader, self._reads)

    @classmethod
    async def open(
        cls,
        database: DatabaseUrl,
        clock: Clock,
        *,
        pool_size: int,
        inline_batch_items: int,
        write_wait_ms: int,
    ) -> Store:
        """Connect to the database a URL names."""
        driver = await open_driver(database, pool_size=pool_size, write_wait_ms=write_wait_ms)
        return cls(driver, clock, inline_batch_items=inline_batch_items)

    @property
    def clock(self) -> Clock:
        """The clock writes are stamped with."""
        return self._clock

    async def close(self) -> None:
        """Release connections."""
        await self._driver.close()

    async def write(
        self,
        user_id: int,
        work: Callable[[WriteTx], Awaitable[T]],
        *,
        size: int,
        looks_up: Callable[[], CatalogQuery] | None = None,
        ahead: bool = False,
    ) -> T:
        """Run `work` as one transaction, serialised with every other write of that user; its
        `now_ms` is never older than a stamp the user already has. `looks_up` builds the
        catalog lookup `work` makes, read ahead where that keeps it out of the write lock
        (called only then: elsewhere the query would be built for nothing). `ahead`: `work`
        looks items up, reads entries and saves entries, and nothing else; where the database
        has server-side functions, a write of at most AHEAD_MAX_ITEMS runs ahead of the
        user's lock first (storage/ahead.py)."""
        if looks_up is not None and self._reads_ahead(size):
            await self._kept_or_read(looks_up())
        deferred = _take_deferred()
        if ahead and self._driver.has_routines and size <= AHEAD_MAX_ITEMS:
            done = await self._run_ahead(user_id, work, deferred)
            if done is not None:
                return done[0]
        return await self._write(user_id, work, size=size, deferred=deferred)

    async def _run_ahead(
        self, user_id: int, work: Callable[[WriteTx], Awaitable[T]], deferred: Deferred | None
    ) -> tuple[T] | None:
        """`work` run ahead of the user's lock and saved in one call; None when it did what a
        run ahead cannot hold to, or the call found what it read had moved (nothing was
        written: the caller runs it under the lock). An error of the work's own is left to
        that run to raise, as it meets it."""
        ahead = Ahead(user_id, self._clock.now_ms())
        tx = AheadTx(self._driver.reader, self._reads, ahead, self._catalog)
        try:
            result = await work(tx)
        except DatabaseUnavailable:
            raise
        except Exception:  # NotAhead, or the work's own error: the locked run meets it
            return None
        stamp = None if deferred is None else deferred.stamp
        row = await self._driver.routine(SAVE_AHEAD, ahead.params(auth_stamp=stamp))
        return (result,) if row is not None and row[0] is not None and row[0] >= 0 else None

    def _reads_ahead(self, size: int) -> bool:
        """Whether a write of `size` items reads its catalog lookup ahead, into this process's
        memory of lookups: where one write lock serves every process (SQLite), so that inside
        the write the lookup is answered from there, held to the catalog stamp the user's lock
        returns, and other processes' writes no longer wait through it (a third of a one-item
        add's hold). A batch large enough to run off the event loop is not read ahead on it."""
        return self._driver.one_writer and size <= self._inline_batch_items

    async def write_at_once(self, routine: Routine[T], *, size: int) -> T:
        """Run a routine as one call where the database has server-side functions
        (PostgreSQL), else, or when the call finds the user gone or the auth stamp moved
        (the token is then looked up again), as an ordinary `write`."""
        deferred = _take_deferred()
        if self._driver.has_routines:
            stamp = None if deferred is None else deferred.stamp
            params = routine.params(now=self._clock.now_ms(), auth_stamp=stamp)
            row = await self._driver.routine(routine.call, params)
            if row is not None and row[0] is not None:
                return routine.result(row)
        return await self._write(routine.user_id, routine.run, size=size, deferred=deferred)

    async def find_catalog(self, query: CatalogQuery, *, fresh: bool = False) -> CatalogHits:
        """The catalog's answer to a batch lookup, read outside any transaction. Where a
        write is one call (PostgreSQL), answered from this process's memory of earlier
        lookups when it holds every key of the query; such hits carry the catalog stamp they
        were kept under, and the write relying on them raises CatalogMoved if it moved.
        `fresh` reads the database whatever the memory holds."""
        if not self._driver.has_routines:
            return await self.read.catalog.find(query)
        return await self._kept_or_read(query, fresh=fresh)

    async def _kept_or_read(self, query: CatalogQuery, *, fresh: bool = False) -> CatalogHits:
        """The query's hits from this process's memory of lookups when it holds every key
        (and not `fresh`), else read on the reader and kept under their catalog stamp."""
        hits = None if fresh else self._catalog.answer(query)
        if hits is None:
            hits, stamp = await self.read.catalog.find_stamped(query)
            if stamp is not None:
                self._catalog.keep(query, hits, stamp)
        return hits

    async def _write(
        self,
        user_id: int,
        work: Callable[[WriteTx], Awaitable[T]],
        *,
        size: int,
        deferred: Deferred | None,
    ) -> T:
        async def locked(conn: Connection) -> T:
            tx = WriteTx(conn, self._reads, 0, kept_catalog=self._catalog)
            lock = await tx.activities.lock_user(user_id)
            tx.account_type = lock.account_type
            tx.now_ms = max(self._clock.now_ms(), lock.latest)
            tx.catalog.stamp_read(lock.catalog_stamp)
            await _verify(tx, deferred, lock.auth_stamp)
            return await work(tx)

        return await self._driver.transaction(locked, offload=size > self._inline_batch_items)

    async def authenticate(self, client_id: str, token_hash: str | None) -> Authentication | None:
        """The app of a client_id and its token with this hash, if any: from this process's
        cache while the auth stamp stands, else looked up. Inside a request a cached answer is
        given without reading the stamp: the request's first transaction, or a read that
        returns the stamp (`settle_by`), or else `settle`, checks it."""
        cache = self._credentials
        request = CURRENT.get()
        if request is not None and token_hash is not None and cache.stamp is not None:
            hit = cache.get(client_id, token_hash)
            if hit is not None:
                request.deferred = Deferred(client_id, token_hash, hit, cache.stamp)
                return hit
        stamp = await self.read.grants.stamp()
        cache.observe(stamp)
        if token_hash is not None and (hit := cache.get(client_id, token_hash)) is not None:
            return hit
        found = await self.read.grants.authenticate(client_id, token_hash)
        if found is not None and found.user_id is not None and token_hash is not None:
            cache.put(client_id, token_hash, found, stamp=stamp)
        return found

    async def settle(self) -> None:
        """Check the request's deferred authentication, if no transaction did
        (CredentialChanged when it no longer holds)."""
        await _verify(self.read, _take_deferred(), None)

    async def snapshot(self, work: Callable[[Session], Awaitable[T]]) -> T:
        """Run `work`'s reads on one consistent snapshot, off the event loop (large reads)."""
        return await self._driver.snapshot(_checked(work, self._reads, _take_deferred()))

    async def small_snapshot(
        self, work: Callable[[Session], Awaitable[T]], *, settles: bool = False
    ) -> T:
        """Run `work`'s reads on one consistent snapshot on the event loop: for reads the
        caller keeps to a few hundred rows, where a thread hop costs more than the read.
        `settles`: the work's first read returns the auth stamp (`settle_by`), so the
        request's deferred check is left to it, or to the request's end."""
        deferred = None if settles else _take_deferred()
        return await self._driver.small_snapshot(_checked(work, self._reads, deferred))

    async def transaction(
        self, work: Callable[[WriteTx], Awaitable[T]], *, offload: bool = False
    ) -> T:
        """Run `work` as one transaction that belongs to no user (accounts, the catalog)."""

        deferred = _take_deferred()

        async def run(conn: Connection) -> T:
            tx = WriteTx(conn, self._reads, self._clock.now_ms())
            await _verify(tx, deferred, None)
            return await work(tx)

        return await self._driver.transaction(run, offload=offload)

    async def reset(self, *, keep_catalog: bool, keep_accounts: bool = False) -> None:
        """Delete every table's rows but the catalog's and the accounts' (users, apps) when
        kept; tables are read from the schema, so every new table is covered."""
        kept = (_CATALOG_TABLES if keep_catalog else frozenset()) | (
            _ACCOUNT_TABLES if keep_accounts else frozenset()
        )

        async def wipe(tx: WriteTx) -> None:
            await _delete_all(tx, kept)

        await self.transaction(wipe)

    async def replace_state(self, tables: Mapping[str, Sequence[Mapping[str, Any]]]) -> None:
        """Make the state tables hold exactly these rows (one transaction; StateRefused,
        with nothing changed, when the database refuses a row)."""

        async def replace(tx: WriteTx) -> None:
            await _delete_all(tx, CONTROL_TABLES)
            await tx.control.load(tables)

        await self.transaction(replace, offload=True)


async def open_store(settings: Settings, clock: Clock) -> Store:
    """Open the database the settings name (with the control plane on, its reset and state
    statements built now rather than in its first request)."""
    if settings.control:
        state_tables()
        _reset_order()
    return await Store.open(
        settings.database,
        clock,
        pool_size=settings.pg_pool_size,
        inline_batch_items=settings.inline_batch_items,
        write_wait_ms=settings.write_wait_ms,
    )


def _take_deferred() -> Deferred | None:
    request = CURRENT.get()
    return None if request is None else request.take()


def _checked(
    work: Callable[[Session], Awaitable[T]], reads: SmallReads, deferred: Deferred | None
) -> Callable[[Connection], Awaitable[T]]:
    """`work` on a session of the connection, after the request's deferred check."""

    async def run(conn: Connection) -> T:
        session = Session(conn, reads)
        await _verify(session, deferred, None)
        return await work(session)

    return run


async def _verify(session: Session, deferred: Deferred | None, stamp: int | None) -> None:
    """Check a request's deferred authentication, if it has one: it holds at once while the
    stamp (read here unless given) stands, else the token is looked up again on the
    session's connection (CredentialChanged when the answer differs)."""
    if deferred is None:
        return
    if stamp is None:
        stamp = await session.grants.stamp()
    if stamp == deferred.stamp:
        return
    found = await session.grants.authenticate(deferred.client_id, deferred.token_hash)
    if found != deferred.found:
        raise CredentialChanged(found)


async def _delete_all(tx: WriteTx, kept: frozenset[str]) -> None:
    for name, delete in _reset_order():
        if name not in kept:
            await tx.conn.execute(delete, {})
