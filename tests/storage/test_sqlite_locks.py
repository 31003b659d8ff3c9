"""SQLite never waits for a lock on the event loop: with another process holding the write
lock, reads go on, a write waits for it in a worker thread up to write_wait_ms (and succeeds
when it is released in time, or is DatabaseBusy), and a read that meets a lock is retried
off the loop."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
from collections.abc import Iterator
from typing import Any

import pytest

from simkl_server.clock import FrozenClock
from simkl_server.config import Settings
from simkl_server.domain import auth
from simkl_server.storage.base import DatabaseBusy, Store, WriteTx, open_store
from simkl_server.storage.drivers import SqliteDriver

START = 1_700_000_000_000
SQLITE_ONLY = pytest.mark.parametrize("backend", ["sqlite"], indirect=True)


def _path(url: str) -> str:
    return url.split(":///", 1)[1]


@pytest.fixture
def outside(empty_database: str) -> Iterator[sqlite3.Connection]:
    """Another process's connection to the same file, holding nothing yet."""
    raw = sqlite3.connect(_path(empty_database), isolation_level=None, check_same_thread=False)
    yield raw
    raw.close()


def _run(url: str, wait_ms: int, scenario: Any) -> Any:
    async def main() -> Any:
        settings = Settings(database_url=url, write_wait_ms=wait_ms)
        store = await open_store(settings, FrozenClock(START))
        try:
            return await scenario(store)
        finally:
            await store.close()

    return asyncio.run(main())


async def _touch(store: Store, user: int) -> int:
    async def work(tx: WriteTx) -> int:
        await tx.activities.touch(user, ["movies.rated_at"], at=tx.now_ms)
        return tx.now_ms

    return await store.write(user, work, size=1)


@SQLITE_ONLY
def test_a_write_gives_up_after_the_wait_and_reads_go_on(
    empty_database: str, outside: sqlite3.Connection
) -> None:
    async def scenario(store: Store) -> tuple[int, bool]:
        user = await auth.create_user(store, username="locked")
        outside.execute("BEGIN IMMEDIATE")
        try:
            with pytest.raises(DatabaseBusy, match="more than 50 ms"):
                await _touch(store, user)
            return await store.read.catalog.size(), True
        finally:
            outside.execute("ROLLBACK")

    assert _run(empty_database, 50, scenario) == (0, True)


@SQLITE_ONLY
def test_a_write_waits_off_the_loop_for_a_lock_released_in_time(
    empty_database: str, outside: sqlite3.Connection, monkeypatch: pytest.MonkeyPatch
) -> None:
    waiting = threading.Event()
    original = SqliteDriver._begin_waiting

    def begin_waiting(self: SqliteDriver, wait_ms: int) -> None:
        waiting.set()  # the write is now waiting, in a worker thread
        original(self, wait_ms)

    monkeypatch.setattr(SqliteDriver, "_begin_waiting", begin_waiting)

    async def scenario(store: Store) -> tuple[int, int]:
        user = await auth.create_user(store, username="patient")
        outside.execute("BEGIN IMMEDIATE")
        write = asyncio.create_task(_touch(store, user))
        while not waiting.is_set():
            # The loop is free while the write waits: reads are answered meanwhile.
            assert await store.read.catalog.size() == 0
            await asyncio.sleep(0)
        outside.execute("ROLLBACK")
        return await write, len(await store.read.activities.all(user))

    stamp, buckets = _run(empty_database, 60_000, scenario)
    assert stamp >= START
    assert buckets >= 1


@SQLITE_ONLY
def test_a_lock_held_briefly_is_taken_on_the_loop_as_soon_as_it_is_free(
    empty_database: str, outside: sqlite3.Connection, monkeypatch: pytest.MonkeyPatch
) -> None:
    threads: list[int] = []
    monkeypatch.setattr(SqliteDriver, "_begin_waiting", lambda self, ms: threads.append(ms))

    async def scenario(store: Store) -> tuple[int, int]:
        user = await auth.create_user(store, username="brief")
        assert "movies.rated_at" not in await store.read.activities.all(user)
        outside.execute("BEGIN IMMEDIATE")  # another process's write, as one request holds it
        asyncio.get_running_loop().call_later(0.005, outside.execute, "ROLLBACK")
        stamp = await _touch(store, user)
        return stamp, (await store.read.activities.all(user))["movies.rated_at"]

    assert _run(empty_database, 60_000, scenario) == (START, START)
    assert threads == []  # never handed to a worker thread, whose wait sleeps in long steps


class _BusyOnce:
    """A sqlite3 connection whose next statement finds the file locked."""

    def __init__(self, raw: sqlite3.Connection) -> None:
        self._raw = raw
        self.refused = 0

    def execute(self, *args: Any) -> Any:
        if not self.refused:
            self.refused += 1
            error = sqlite3.OperationalError("database is locked")
            error.sqlite_errorcode = sqlite3.SQLITE_BUSY
            raise error
        return self._raw.execute(*args)


@SQLITE_ONLY
def test_a_read_that_meets_a_lock_is_retried_off_the_loop(empty_database: str) -> None:
    async def scenario(store: Store) -> tuple[int, int]:
        driver = store._driver
        assert isinstance(driver, SqliteDriver)
        busy = _BusyOnce(driver._reader_raw)
        driver._reader._raw = busy  # type: ignore[assignment]
        size = await store.read.catalog.size()
        return size, busy.refused

    assert _run(empty_database, 1_000, scenario) == (0, 1)


async def _touch_when(store: Store, user: int, release: asyncio.Event) -> int:
    """A write that holds the write lock until `release` is set."""

    async def work(tx: WriteTx) -> int:
        await release.wait()
        await tx.activities.touch(user, ["movies.rated_at"], at=tx.now_ms)
        return tx.now_ms

    return await store.write(user, work, size=1)


def _run_two(url: str, waits_ms: tuple[int, int], scenario: Any) -> Any:
    """Two stores on one file, as two server processes have (each its own writer's turn)."""

    async def main() -> Any:
        first = await open_store(Settings(database_url=url, write_wait_ms=waits_ms[0]), clock)
        second = await open_store(Settings(database_url=url, write_wait_ms=waits_ms[1]), clock)
        try:
            return await scenario(first, second)
        finally:
            await first.close()
            await second.close()

    clock = FrozenClock(START)
    return asyncio.run(main())


@SQLITE_ONLY
def test_server_processes_take_turns_and_the_next_starts_as_the_first_ends(
    empty_database: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    threads: list[int] = []
    monkeypatch.setattr(SqliteDriver, "_begin_waiting", lambda self, ms: threads.append(ms))

    async def scenario(first: Store, second: Store) -> tuple[bool, int, int]:
        user = await auth.create_user(first, username="turns")
        release = asyncio.Event()
        holding = asyncio.create_task(_touch_when(first, user, release))
        await asyncio.sleep(0.01)  # the first write holds the turn and the lock
        waiting = asyncio.create_task(_touch(second, user))
        await asyncio.sleep(0.05)
        waited = not waiting.done()  # the second write waits for its turn
        release.set()
        return waited, await holding, await waiting

    waited, first_stamp, second_stamp = _run_two(empty_database, (60_000, 60_000), scenario)
    assert waited
    assert first_stamp == second_stamp == START
    # The second began on its turn: SQLite's lock was free, so nothing polled it or waited
    # for it in a thread.
    assert threads == []


@SQLITE_ONLY
def test_a_write_that_gives_up_its_wait_for_a_turn_leaves_the_turn_to_others(
    empty_database: str,
) -> None:
    async def scenario(first: Store, second: Store) -> tuple[str, int, int]:
        user = await auth.create_user(first, username="impatient")
        release = asyncio.Event()
        holding = asyncio.create_task(_touch_when(first, user, release))
        await asyncio.sleep(0.01)
        with pytest.raises(DatabaseBusy, match="more than 50 ms") as busy:
            await _touch(second, user)  # gives up; its wait goes on in the turn's thread
        release.set()
        await holding
        # The abandoned wait gets the turn once the first write ends and gives it back:
        # the first store writes again, and so, later, does the second.
        again = await _touch(first, user)
        return str(busy.value), again, await _touch(second, user)

    message, again, later = _run_two(empty_database, (60_000, 50), scenario)
    assert "SIMKL_SERVER_WRITE_WAIT_MS" in message
    assert again == later == START


@SQLITE_ONLY
def test_a_later_write_takes_over_a_wait_for_the_turn_given_up_before(
    empty_database: str,
) -> None:
    async def scenario(first: Store, second: Store) -> int:
        user = await auth.create_user(first, username="patient-later")
        release = asyncio.Event()
        holding = asyncio.create_task(_touch_when(first, user, release))
        await asyncio.sleep(0.01)
        with pytest.raises(DatabaseBusy):
            await _touch(second, user)
        later = asyncio.create_task(_touch(second, user))  # waits on the same pending turn
        await asyncio.sleep(0.01)
        release.set()
        await holding
        return await later

    assert _run_two(empty_database, (60_000, 200), scenario) == START
