"""The PostgreSQL connection pool: at most its size of connections, none handed out closed
or in the middle of something, none lost to a caller that gave up, and closed only once
every connection is back."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import asyncpg
import pytest

from simkl_server.config import parse_database_url
from simkl_server.storage.drivers import _PG_SESSION
from simkl_server.storage.pg_pool import PgPool
from tests.conftest import PG_ADMIN_URL, fresh_database

T = TypeVar("T")
PID = "SELECT pg_backend_pid()"


@pytest.fixture
def dsn(tmp_path: Path) -> Iterator[str]:
    """A database of its own, so that its sessions can be counted."""
    for url in fresh_database("postgres", tmp_path, migrated=False):
        dsn = parse_database_url(url).postgres_dsn
        assert dsn is not None
        yield dsn


def _with_pool(dsn: str, size: int, body: Callable[[PgPool], Awaitable[T]]) -> T:
    async def main() -> T:
        pool = await PgPool.connect(dsn, size=size, connect_timeout=5, settings=_PG_SESSION)
        try:
            return await body(pool)
        finally:
            await asyncio.wait_for(pool.close(), 5)

    return asyncio.run(main())


async def _sessions(dsn: str) -> set[int]:
    name = dsn.rsplit("/", 1)[1]
    admin = await asyncpg.connect(PG_ADMIN_URL)
    try:
        rows = await admin.fetch(
            "SELECT pid FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()",
            name,
        )
    finally:
        await admin.close()
    return {row[0] for row in rows}


def test_calls_share_at_most_size_connections(dsn: str) -> None:
    async def body(pool: PgPool) -> tuple[list[Any], set[int]]:
        calls = [pool.fetchrow(f"{PID}, pg_sleep(0.05)") for _ in range(6)]
        rows = await asyncio.gather(*calls)
        return rows, await _sessions(dsn)

    rows, sessions = _with_pool(dsn, 2, body)
    pids = {row[0] for row in rows}
    assert len(rows) == 6
    assert len(pids) == 2
    assert sessions == pids


def test_the_first_connection_is_opened_at_once() -> None:
    async def main() -> None:
        await PgPool.connect(
            "postgresql://postgres@127.0.0.1:1/none", size=2, connect_timeout=2, settings={}
        )

    with pytest.raises(ConnectionRefusedError):
        asyncio.run(main())


def test_a_statement_refused_keeps_its_connection(dsn: str) -> None:
    async def body(pool: PgPool) -> tuple[int, int]:
        first = (await pool.fetchrow(PID))[0]
        with pytest.raises(asyncpg.exceptions.DivisionByZeroError):
            await pool.fetch("SELECT 1 / 0")
        with pytest.raises(asyncpg.exceptions.UndefinedTableError):
            async with pool.acquire() as raw, raw.transaction():
                await raw.execute("SELECT * FROM nowhere")
        async with pool.acquire() as raw:
            assert not raw.is_in_transaction()
        return first, (await pool.fetchrow(PID))[0]

    first, last = _with_pool(dsn, 1, body)
    assert last == first


def test_a_cancelled_call_does_not_hand_its_connection_on(dsn: str) -> None:
    async def body(pool: PgPool) -> tuple[int, int, set[int]]:
        first = (await pool.fetchrow(PID))[0]
        sleeping = asyncio.create_task(pool.fetch("SELECT pg_sleep(0.5)"))
        await asyncio.sleep(0.1)
        sleeping.cancel()
        with pytest.raises(asyncio.CancelledError):
            await sleeping
        after = (await asyncio.wait_for(pool.fetchrow(PID), 0.3))[0]
        await asyncio.sleep(0.6)  # the cut-off session ends once its statement does
        return first, after, await _sessions(dsn)

    first, after, sessions = _with_pool(dsn, 1, body)
    assert after != first
    assert sessions == {after}


class _DriverError(Exception):
    """Stands for the error a driver raises from asyncpg's (DatabaseUnavailable)."""


@pytest.mark.parametrize("wrapped", [False, True], ids=["as-raised", "as-a-cause"])
def test_a_connection_that_reported_a_broken_session_is_replaced(dsn: str, wrapped: bool) -> None:
    """asyncpg may report a session cut mid-operation as an InternalClientError on the
    connection's next use; reaching the pool directly or as the cause of a driver's error,
    it retires the connection."""

    async def breaks(pool: PgPool) -> None:
        broken = asyncpg.InternalClientError("cut mid-operation")
        async with pool.acquire():
            if wrapped:
                raise _DriverError("PostgreSQL does not answer") from broken
            raise broken

    async def body(pool: PgPool) -> tuple[int, int]:
        first = (await pool.fetchrow(PID))[0]
        with pytest.raises((asyncpg.InternalClientError, _DriverError)):
            await breaks(pool)
        return first, (await pool.fetchrow(PID))[0]

    first, after = _with_pool(dsn, 1, body)
    assert after != first


def test_a_session_ended_by_the_server_is_replaced(dsn: str) -> None:
    async def body(pool: PgPool) -> tuple[int, int]:
        first = (await pool.fetchrow(PID))[0]
        admin = await asyncpg.connect(PG_ADMIN_URL)
        try:
            await admin.execute("SELECT pg_terminate_backend($1)", first)
        finally:
            await admin.close()
        await asyncio.sleep(0.1)  # the idle connection learns its session is gone
        return first, (await pool.fetchrow(PID))[0]

    first, after = _with_pool(dsn, 1, body)
    assert after != first


def test_a_caller_that_stops_waiting_loses_no_connection(dsn: str) -> None:
    async def body(pool: PgPool) -> list[Any]:
        async with pool.acquire():
            waiting = [asyncio.create_task(pool.fetchrow("SELECT 1")) for _ in range(3)]
            await asyncio.sleep(0.05)
            waiting[0].cancel()
            waiting[1].cancel()
        await asyncio.gather(*waiting, return_exceptions=True)
        assert waiting[0].cancelled()
        assert waiting[1].cancelled()
        assert (await waiting[2])[0] == 1
        return [await asyncio.wait_for(pool.fetchrow("SELECT 2"), 1) for _ in range(3)]

    assert [row[0] for row in _with_pool(dsn, 1, body)] == [2, 2, 2]


def test_a_place_freed_by_a_broken_connection_goes_to_a_waiter(dsn: str) -> None:
    async def body(pool: PgPool) -> Any:
        async def breaks() -> None:
            async with pool.acquire() as raw:
                await asyncio.sleep(0.05)
                raw.terminate()
                await raw.fetch("SELECT 1")  # the connection is gone: its place is freed

        broken = asyncio.create_task(breaks())
        await asyncio.sleep(0.01)
        waiter = asyncio.create_task(pool.fetchrow("SELECT 3"))
        with pytest.raises(asyncpg.InterfaceError):
            await broken
        return await asyncio.wait_for(waiter, 2)

    assert _with_pool(dsn, 1, body)[0] == 3


def test_close_waits_for_connections_in_use(dsn: str) -> None:
    async def main() -> tuple[Any, set[int], bool]:
        pool = await PgPool.connect(dsn, size=2, connect_timeout=5, settings=_PG_SESSION)
        busy = asyncio.create_task(pool.fetchrow("SELECT 4, pg_sleep(0.2)"))
        await asyncio.sleep(0.05)
        closing = asyncio.create_task(pool.close())
        await asyncio.sleep(0.05)
        waited = not closing.done()
        row = await busy
        await asyncio.wait_for(closing, 2)
        with pytest.raises(ConnectionError, match="pool is closed"):
            await pool.fetch("SELECT 1")
        await asyncio.sleep(0.1)
        return row, await _sessions(dsn), waited

    row, sessions, waited = asyncio.run(main())
    assert row[0] == 4
    assert waited
    assert sessions == set()
