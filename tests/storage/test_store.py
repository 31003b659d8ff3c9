"""The store on both databases: migrations, the per-user clock, activities, batches."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TypeVar

import pytest

from simkl_server.clock import FrozenClock
from simkl_server.config import Settings, parse_database_url
from simkl_server.domain import auth
from simkl_server.domain.kinds import ListStatus
from simkl_server.domain.models import CatalogQuery, RatingWrite
from simkl_server.storage import migrate
from simkl_server.storage.base import Store, WriteTx, open_store
from simkl_server.storage.drivers import CONVERT_SLICE, Row, converted

T = TypeVar("T")
START = 1_700_000_000_000


def with_store(url: str, clock: FrozenClock, use: Callable[[Store], Awaitable[T]]) -> T:
    """Open a store on `url`, run `use`, close it."""

    async def run() -> T:
        store = await open_store(Settings(database_url=url), clock)
        try:
            return await use(store)
        finally:
            await store.close()

    return asyncio.run(run())


def test_migrating_twice_is_a_no_op(empty_database: str) -> None:
    migrate.upgrade(parse_database_url(empty_database))
    clock = FrozenClock(START)
    assert with_store(empty_database, clock, lambda s: s.read.catalog.size()) == 0


def test_write_time_never_goes_back_for_a_user(catalog_database: str) -> None:
    clock = FrozenClock(START)

    async def scenario(store: Store) -> list[int]:
        await store.reset(keep_catalog=True)
        user = await auth.create_user(store, username="clocky")
        seen: list[int] = []

        async def touch(tx: WriteTx) -> None:
            seen.append(tx.now_ms)
            await tx.activities.touch(user, ["movies.rated_at"], at=tx.now_ms)

        await store.write(user, touch, size=1)
        clock.advance(-60_000)  # the wall clock steps back a minute
        await store.write(user, touch, size=1)
        seen.append((await store.read.activities.all(user))["movies.rated_at"])
        return seen

    first, second, stored = with_store(catalog_database, clock, scenario)
    assert second >= first
    assert stored == first


def test_activity_buckets_only_move_forward(catalog_database: str) -> None:
    clock = FrozenClock(START)

    async def scenario(store: Store) -> dict[str, int]:
        await store.reset(keep_catalog=True)
        user = await auth.create_user(store, username="forward")

        async def touch_at(tx: WriteTx) -> None:
            await tx.activities.touch(user, ["anime.watching"], at=tx.now_ms)

        clock.advance(5_000)
        await store.write(user, touch_at, size=1)
        return await store.read.activities.all(user)

    buckets = with_store(catalog_database, clock, scenario)
    assert buckets == {"settings.all": START, "anime.watching": START + 5_000}


def test_failed_write_leaves_nothing_behind(catalog_database: str) -> None:
    clock = FrozenClock(START)

    async def scenario(store: Store) -> tuple[dict[int, object], dict[str, int]]:
        await store.reset(keep_catalog=True)
        user = await auth.create_user(store, username="rollback")

        async def half_then_fail(tx: WriteTx) -> None:
            rating = RatingWrite(53536, ListStatus.COMPLETED, 7, START)
            await tx.ratings.save(user, [rating], now=tx.now_ms)
            await tx.activities.touch(user, ["movies.rated_at"], at=tx.now_ms)
            raise RuntimeError("boom")

        with pytest.raises(RuntimeError, match="boom"):
            await store.write(user, half_then_fail, size=1)

        async def read(tx: WriteTx) -> dict[int, object]:
            return dict(await tx.library.states(user, [53536]))

        return await store.write(user, read, size=1), await store.read.activities.all(user)

    states, buckets = with_store(catalog_database, clock, scenario)
    assert states == {}
    assert "movies.rated_at" not in buckets


def test_catalog_lookup_is_one_query_for_any_batch(catalog_database: str) -> None:
    clock = FrozenClock(START)
    query = CatalogQuery(
        simkl_ids=frozenset({53536, 2090, 999_999_999}),
        id_keys=frozenset({"imdb:tt2560140", "tmdb:tv:296", "mal:1535"}),
        title_keys=frozenset({"solaris", "hamlet"}),
    )

    async def lookup(store: Store) -> tuple[set[int], dict[str, int], dict[str, int]]:
        hits = await store.read.catalog.find(query)
        return (
            set(hits.by_simkl),
            {key: item.id for key, item in hits.by_key.items()},
            {key: len(items) for key, items in hits.by_title.items()},
        )

    simkl, keys, titles = with_store(catalog_database, clock, lookup)
    assert simkl == {53536, 2090}
    assert keys == {"imdb:tt2560140": 39687, "tmdb:tv:296": 900020, "mal:1535": 39188}
    assert titles == {"solaris": 2, "hamlet": 2}


def test_rows_are_converted_and_freed_a_slice_at_a_time() -> None:
    rows: list[Row] = [(n, n * 2) for n in range(2 * CONVERT_SLICE + 7)]
    expected = [a + b for a, b in rows]
    turns = 0

    async def run() -> list[int]:
        nonlocal turns

        async def count() -> None:
            nonlocal turns
            while True:
                await asyncio.sleep(0)
                turns += 1

        counter = asyncio.create_task(count())
        try:
            return await converted(rows, lambda row: row[0] + row[1])
        finally:
            counter.cancel()

    assert asyncio.run(run()) == expected
    assert rows == []
    assert turns >= 3, "the loop ran other work between slices"
