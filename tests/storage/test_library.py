"""Library entries and watched episodes on both databases: what LibraryChanges writes reads
back, the delta stamps move only for what changed, removal takes everything with it, and a
write of any size costs the same statements."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from typing import Any

import asyncpg
import pytest

from simkl_server.clock import FrozenClock
from simkl_server.config import parse_database_url
from simkl_server.domain import auth
from simkl_server.domain.changes import LibraryChanges
from simkl_server.domain.kinds import ListStatus, MediaType
from simkl_server.domain.models import LibraryQuery, Memo
from simkl_server.storage import library as library_sql
from simkl_server.storage import ratings as ratings_sql
from simkl_server.storage.activities import TOUCH
from simkl_server.storage.base import Store, WriteTx
from simkl_server.storage.drivers import _PG_SESSION
from simkl_server.storage.library import SAVE, SAVE_TOUCHING
from tests.helpers import StatementLog
from tests.storage.test_store import with_store

START = 1_700_000_000_000
WALKING_DEAD, GAME_OF_THRONES, TERMINATOR_3 = 2090, 17465, 53536
ALL_TYPES = LibraryQuery(types=frozenset(MediaType))

Work = Callable[[LibraryChanges, dict[int, Any]], object]


async def change(store: Store, user: int, ids: list[int], work: Work) -> None:
    """One write of the user's library: `work` applies rules to the loaded changes."""

    async def run(tx: WriteTx) -> None:
        items = await tx.catalog.items(ids)
        changes = await LibraryChanges.load(tx, user, items.values())
        work(changes, items)
        await changes.save(tx)

    await store.write(user, run, size=len(ids))


def watch_first_season(changes: LibraryChanges, items: dict[int, Any]) -> None:
    show = items[WALKING_DEAD]
    changes.file(show, ListStatus.WATCHING)
    changes.mark(show, {(1, 1): START - 2000, (1, 2): START - 1000, (1, 3): None})
    changes.rate(show, 8, None)
    changes.set_memo(show, Memo("good so far", is_private=True))


@pytest.fixture
def clock() -> FrozenClock:
    """The store's clock."""
    return FrozenClock(START)


def test_an_entry_and_its_episodes_read_back(catalog_database: str, clock: FrozenClock) -> None:
    async def scenario(store: Store) -> tuple[Any, ...]:
        await store.reset(keep_catalog=True)
        user = await auth.create_user(store, username="reader")
        await change(store, user, [WALKING_DEAD], watch_first_season)
        (row,) = await store.read.library.rows(user, ALL_TYPES, now=START)
        watched = await store.read.history.watched(user, [WALKING_DEAD])
        return row, watched, await store.read.activities.all(user)

    row, watched, buckets = with_store(catalog_database, clock, scenario)

    assert (row.status, row.watched_episodes, row.last_watched, row.next_to_watch) == (
        ListStatus.WATCHING,
        3,
        "S01E02",
        "S01E04",
    )
    assert (row.user_rating, row.user_rated_at, row.added_at) == (8, START, START)
    assert row.memo == Memo("good so far", is_private=True)
    assert watched == {WALKING_DEAD: {(1, 1): START - 2000, (1, 2): START - 1000, (1, 3): None}}
    assert buckets == {
        "settings.all": START,  # the account's creation
        "tv_shows.watching": START,
        "tv_shows.rated_at": START,
    }


def test_a_rating_alone_leaves_the_list_delta_alone(
    catalog_database: str, clock: FrozenClock
) -> None:
    async def scenario(store: Store) -> tuple[list[int], list[int]]:
        await store.reset(keep_catalog=True)
        user = await auth.create_user(store, username="rater")
        await change(store, user, [WALKING_DEAD], watch_first_season)
        clock.advance(60_000)
        await change(store, user, [WALKING_DEAD], lambda c, i: c.rate(i[WALKING_DEAD], 3, None))
        after = LibraryQuery(types=ALL_TYPES.types, changed_after=START)
        listed = [row.item.id for row in await store.read.library.rows(user, after, now=START)]
        clock.advance(60_000)
        await change(store, user, [WALKING_DEAD], lambda c, i: c.unmark(i[WALKING_DEAD], [(1, 3)]))
        again = [row.item.id for row in await store.read.library.rows(user, after, now=START)]
        return listed, again

    listed, again = with_store(catalog_database, clock, scenario)

    assert listed == []
    assert again == [WALKING_DEAD]


def test_removing_an_entry_takes_its_episodes_and_rating(
    catalog_database: str, clock: FrozenClock
) -> None:
    async def scenario(store: Store) -> tuple[Any, ...]:
        await store.reset(keep_catalog=True)
        user = await auth.create_user(store, username="remover")
        await change(store, user, [WALKING_DEAD], watch_first_season)
        clock.advance(1000)
        await change(store, user, [WALKING_DEAD], lambda c, i: c.remove(i[WALKING_DEAD]))
        rows = await store.read.library.rows(user, ALL_TYPES, now=START)
        watched = await store.read.history.watched(user, [WALKING_DEAD])
        return rows, watched, await store.read.activities.all(user)

    rows, watched, buckets = with_store(catalog_database, clock, scenario)

    assert (rows, watched) == ([], {})
    assert buckets["tv_shows.removed_from_list"] == START + 1000
    assert buckets["tv_shows.rated_at"] == START + 1000


def test_a_write_of_many_items_costs_the_statements_of_one(
    catalog_database: str, clock: FrozenClock, statements: StatementLog
) -> None:
    def watch_all(changes: LibraryChanges, items: dict[int, Any]) -> None:
        for item in items.values():
            changes.file(item, ListStatus.WATCHING)
            if item.type is not MediaType.MOVIE:
                changes.mark(item, {(1, 1): None, (1, 2): START})

    async def scenario(store: Store) -> tuple[int, int]:
        await store.reset(keep_catalog=True)
        user = await auth.create_user(store, username="batcher")
        start = len(statements.sent)
        await change(store, user, [WALKING_DEAD], watch_all)
        one = len(statements.sent) - start
        start = len(statements.sent)
        await change(store, user, [GAME_OF_THRONES, TERMINATOR_3, 42040, 39687], watch_all)
        return one, len(statements.sent) - start

    one, many = with_store(catalog_database, clock, scenario)

    assert one == many


def test_a_write_saves_its_entries_and_moves_its_activities_in_one_statement_on_postgresql(
    catalog_database: str, clock: FrozenClock, statements: StatementLog, backend: str
) -> None:
    def watch(changes: LibraryChanges, items: dict[int, Any]) -> None:
        changes.file(items[TERMINATOR_3], ListStatus.COMPLETED)

    async def scenario(store: Store) -> tuple[int, dict[str, int]]:
        await store.reset(keep_catalog=True)
        user = await auth.create_user(store, username="saver")
        start = len(statements.sent)
        await change(store, user, [TERMINATOR_3], watch)
        return start, await store.read.activities.all(user)

    start, buckets = with_store(catalog_database, clock, scenario)

    sent = [statement for statement, _ in statements.sent[start:]]
    expected = [SAVE_TOUCHING] if backend == "postgres" else [SAVE, TOUCH]
    assert [s for s in sent if s in (SAVE, TOUCH, SAVE_TOUCHING)] == expected
    assert buckets["movies.completed"] == START


POSTGRES_ONLY = pytest.mark.parametrize("backend", ["postgres"], indirect=True)
_PLAN_PARAMS: dict[str, Any] = {
    "user_id": 1,
    "types": ["anime", "movie", "show"],
    "statuses": ["watching"],
    "ratings": [7, 8],
    "changed_after": 0,
    "now": START,
    "limit": 201,
}


def _plan_nodes(node: dict[str, Any]) -> list[dict[str, Any]]:
    return [node, *(n for child in node.get("Plans", []) for n in _plan_nodes(child))]


@POSTGRES_ONLY
def test_a_library_read_looks_its_catalog_items_up_row_by_row(catalog_database: str) -> None:
    """However the planner weighs a library against the catalog, a library read (all-items,
    the ratings read) reads the catalog items of its rows only: never a join that reads the
    whole catalog. Nested loops are disabled to make every other plan look cheaper."""
    dsn = parse_database_url(catalog_database).postgres_dsn

    async def plans() -> list[list[dict[str, Any]]]:
        conn = await asyncpg.connect(dsn, server_settings=_PG_SESSION)
        try:
            await conn.execute("SET enable_nestloop = off")
            found = []
            for variant in [*library_sql.ROWS.values(), *ratings_sql.ROWS.values()]:
                query = variant.postgres
                explained = await conn.fetchval(
                    f"EXPLAIN (FORMAT JSON) {query.sql}", *query.args(_PLAN_PARAMS)
                )
                found.append(_plan_nodes(json.loads(explained)[0]["Plan"]))
            return found
        finally:
            await conn.close()

    for nodes in asyncio.run(plans()):
        assert not {n["Node Type"] for n in nodes} & {"Merge Join", "Hash Join"}
        catalog = [n for n in nodes if n.get("Relation Name") == "catalog_items"]
        assert catalog
        # Each scan of it is bound to the library row (by index on a real catalog; a test's
        # few items may be scanned through instead, once per row).
        assert all("l.item_id" in n.get("Index Cond", n.get("Filter", "")) for n in catalog)
