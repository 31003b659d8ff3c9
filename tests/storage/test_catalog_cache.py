"""The catalog lookups a process keeps. On PostgreSQL a ratings remove is then one call: a
repeated remove sends nothing but that call. A user write's lookup inside its transaction, on
both databases, reads the catalog stamp alone when every key of it is kept. A catalog changed
by another process (here a second store on the same database) is followed at once: an item
that changed type, an id that moved to another item, an item the catalog gained. Both
databases give the same answers."""

from __future__ import annotations

from typing import Any

import pytest

from simkl_server.clock import FrozenClock
from simkl_server.config import Settings
from simkl_server.domain import auth
from simkl_server.domain.ids import item_lookup_keys, title_key
from simkl_server.domain.kinds import MediaType
from simkl_server.domain.models import CatalogItem, CatalogQuery, CatalogUpsert
from simkl_server.storage.activities import LOCK_USER
from simkl_server.storage.ahead import FIND_WITH_ENTRIES
from simkl_server.storage.base import Store, WriteTx, open_store
from simkl_server.storage.catalog import FIND, STAMP, CatalogCache, CatalogQueries
from simkl_server.storage.drivers import PgDriver
from simkl_server.storage.grants import STAMP as AUTH_STAMP
from simkl_server.storage.library import SAVE_AHEAD
from simkl_server.storage.ratings import CLEAR_AT_ONCE
from tests.api.support import ALL_RATINGS, elsewhere, rate, read, unrate
from tests.catalog.support import import_documents
from tests.conftest import START_MS, Api
from tests.helpers import StatementLog

MOVIE = {"type": "movie", "title": "Kept Movie", "year": 2001, "ids": {"simkl": 101}}
OTHER = {"type": "movie", "title": "Other Movie", "year": 2002, "ids": {"simkl": 102}}
BY_IMDB = {"movies": [{"ids": {"imdb": "tt0000101"}}]}
# OTHER, and an item the catalog lacks until MOVIE gets its imdb id.
FOUND_AND_MISSED = {"movies": [{"ids": {"simkl": 102}}, *BY_IMDB["movies"]]}


def _rated(api: Api) -> dict[int, int]:
    rows = read(api, f"/sync/ratings/movies/{ALL_RATINGS}").get("movies", [])
    return {row["movie"]["ids"]["simkl"]: row["user_rating"] for row in rows}


def _rated_with_lookup_kept(api: Api, rated: dict[str, Any], removed: dict[str, Any]) -> None:
    """Rate, remove (which looks the items up, and keeps the lookup), and rate again."""
    rate(api, rated)
    unrate(api, removed)
    rate(api, rated)


def _movie_rated_with_lookup_kept(api: Api) -> None:
    """MOVIE in the catalog, rated 8, its lookup by simkl id kept."""
    api.call(import_documents, api.store, MOVIE)
    by_simkl = {"movies": [{"ids": {"simkl": 101}}]}
    _rated_with_lookup_kept(api, {"movies": [{"ids": {"simkl": 101}, "rating": 8}]}, by_simkl)


def _make_the_movie_a_show_elsewhere(api: Api, database_url: str) -> None:
    elsewhere(api, database_url, lambda store: import_documents(store, {**MOVIE, "type": "show"}))


def _with_imdb(record: dict[str, Any]) -> dict[str, Any]:
    return {**record, "ids": {**record["ids"], "imdb": "tt0000101"}}


def test_a_repeated_remove_sends_only_its_call_on_postgresql(
    own_catalog: Api, statements: StatementLog, backend: str
) -> None:
    api = own_catalog
    api.call(import_documents, api.store, _with_imdb(MOVIE))
    _rated_with_lookup_kept(api, {"movies": [{"ids": {"simkl": 101}, "rating": 8}]}, BY_IMDB)

    start = len(statements.sent)
    assert unrate(api, BY_IMDB)["deleted"]["movies"] == 1
    sent = [statement for statement, _ in statements.sent[start:]]
    if backend == "postgres":
        assert sent == [CLEAR_AT_ONCE]
    else:
        assert sent[:2] == [FIND[(False, True, False)], LOCK_USER]
    assert _rated(api) == {}


@pytest.mark.parametrize("token_revoked_too", [False, True], ids=["catalog", "catalog+token"])
def test_an_item_that_changed_type_elsewhere_is_not_removed_as_a_movie(
    own_catalog: Api, empty_database: str, token_revoked_too: bool
) -> None:
    api = own_catalog
    _movie_rated_with_lookup_kept(api)
    if token_revoked_too:  # the call then gives way to the ordinary write, which checks too
        other = api.new_user("bob")
        elsewhere(api, empty_database, lambda store: auth.revoke_token(store, token=other))
    _make_the_movie_a_show_elsewhere(api, empty_database)

    removed = unrate(api, {"movies": [{"ids": {"simkl": 101}}]})

    assert removed["deleted"] == {"movies": 0, "shows": 0}
    assert [item["ids"] for item in removed["not_found"]["movies"]] == [{"simkl": 101}]
    shows = read(api, f"/sync/ratings/shows/{ALL_RATINGS}")["shows"]
    assert [row["user_rating"] for row in shows] == [8]


async def _move_imdb_to_other(store: Store) -> None:
    """Give the imdb id to the other movie, as a writer of the catalog other than an import
    (which refuses to move an id) would."""
    kept = CatalogItem(id=101, type=MediaType.MOVIE, title="Kept Movie", year=2001, ids={})
    other = CatalogItem(
        id=102, type=MediaType.MOVIE, title="Other Movie", year=2002, ids={"imdb": "tt0000101"}
    )
    upserts = [
        CatalogUpsert(item, title_key(item.title), item_lookup_keys(item)) for item in (kept, other)
    ]

    async def write(tx: WriteTx) -> None:
        await tx.catalog.upsert(upserts)

    await store.transaction(write)


def test_an_item_that_changed_type_elsewhere_is_removed_as_its_new_type(
    own_catalog: Api, empty_database: str
) -> None:
    api = own_catalog
    _movie_rated_with_lookup_kept(api)
    _make_the_movie_a_show_elsewhere(api, empty_database)

    removed = unrate(api, {"shows": [{"ids": {"simkl": 101}}]})

    assert removed["deleted"] == {"movies": 0, "shows": 1}
    assert not read(api, f"/sync/ratings/shows/{ALL_RATINGS}").get("shows")


def test_an_id_moved_to_another_item_elsewhere_is_followed(
    own_catalog: Api, empty_database: str
) -> None:
    api = own_catalog
    api.call(import_documents, api.store, _with_imdb(MOVIE), OTHER)
    both = {"movies": [{"ids": {"simkl": 101}, "rating": 7}, {"ids": {"simkl": 102}, "rating": 9}]}
    _rated_with_lookup_kept(api, both, BY_IMDB)

    elsewhere(api, empty_database, _move_imdb_to_other)
    assert unrate(api, BY_IMDB)["deleted"]["movies"] == 1

    assert _rated(api) == {101: 7}


def test_an_item_the_catalog_gains_elsewhere_is_found_at_once(
    own_catalog: Api, empty_database: str
) -> None:
    api = own_catalog
    api.call(import_documents, api.store, OTHER)
    rate(api, {"movies": [{"ids": {"simkl": 102}, "rating": 9}]})
    body = FOUND_AND_MISSED
    missed = unrate(api, body)["not_found"]["movies"]
    assert [item["ids"] for item in missed] == [{"imdb": "tt0000101"}]

    elsewhere(api, empty_database, lambda store: import_documents(store, _with_imdb(MOVIE)))
    removed = unrate(api, body)

    assert removed["deleted"]["movies"] == 2
    assert removed["not_found"]["movies"] == []


def test_a_repeated_add_holds_its_kept_lookup_to_the_stamp_its_write_checks(
    own_catalog: Api, statements: StatementLog, backend: str
) -> None:
    """The user's lock returns the catalog stamp (on PostgreSQL the write runs ahead of the
    lock, and its one call checks the stamp): a lookup the process remembers costs no
    statement of its own."""
    api = own_catalog
    api.call(import_documents, api.store, _with_imdb(MOVIE))
    rate(api, {"movies": [{"ids": {"imdb": "tt0000101"}, "rating": 7}]})

    start = len(statements.sent)
    rate(api, {"movies": [{"ids": {"imdb": "tt0000101"}, "rating": 8}]})
    sent = [statement for statement, _ in statements.sent[start:]]

    assert (SAVE_AHEAD if backend == "postgres" else LOCK_USER) in sent
    assert STAMP not in sent
    assert not set(sent) & set(FIND.values())
    assert _rated(api) == {101: 8}


def test_an_add_follows_an_id_moved_to_another_item_elsewhere(
    own_catalog: Api, empty_database: str, statements: StatementLog
) -> None:
    api = own_catalog
    api.call(import_documents, api.store, _with_imdb(MOVIE), OTHER)
    by_imdb = {"movies": [{"ids": {"imdb": "tt0000101"}, "rating": 7}]}
    rate(api, by_imdb)
    rate(api, by_imdb)  # answered from the kept lookup

    elsewhere(api, empty_database, _move_imdb_to_other)
    start = len(statements.sent)
    rate(api, {"movies": [{"ids": {"imdb": "tt0000101"}, "rating": 5}]})

    assert FIND[(False, True, False)] in [statement for statement, _ in statements.sent[start:]]
    assert _rated(api) == {101: 7, 102: 5}


def test_a_first_add_looks_its_items_up_before_the_write_lock_on_sqlite(
    own_catalog: Api, statements: StatementLog, backend: str
) -> None:
    """SQLite's write lock is one for every process: the lookup is read ahead, and inside
    the write it is held to the catalog stamp the user's lock read. On PostgreSQL the whole
    write runs ahead of the user's lock: the lookup, which reads the entries of the items it
    finds, then the call."""
    api = own_catalog
    api.call(import_documents, api.store, _with_imdb(MOVIE))

    start = len(statements.sent)
    rate(api, {"movies": [{"ids": {"imdb": "tt0000101"}, "rating": 7}]})
    sent = [statement for statement, _ in statements.sent[start:]]

    lookup = FIND[(False, True, False)]
    if backend == "postgres":
        assert sent[-2:] == [FIND_WITH_ENTRIES[(False, True, False)], SAVE_AHEAD]
    else:
        locked = sent.index(LOCK_USER)
        assert lookup in sent[:locked]
        assert lookup not in sent[locked:]
        assert STAMP not in sent[locked:]
    assert _rated(api) == {101: 7}


def test_an_add_follows_a_catalog_changed_between_its_look_ahead_and_its_write(
    own_catalog: Api, empty_database: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """On PostgreSQL the catalog moves after the write ran ahead of the lock (its call
    refuses, and the write runs again under the lock); on SQLite after the look-ahead."""
    api = own_catalog
    api.call(import_documents, api.store, _with_imdb(MOVIE), OTHER)
    write, routine = Store._write, PgDriver.routine
    moved: list[bool] = []

    async def move_once() -> None:
        if moved:
            return
        moved.append(True)
        other = await open_store(Settings(database_url=empty_database), FrozenClock(START_MS))
        try:
            await _move_imdb_to_other(other)
        finally:
            await other.close()

    async def moved_elsewhere_first(store: Store, *args: Any, **kwargs: Any) -> Any:
        await move_once()
        return await write(store, *args, **kwargs)

    async def moved_before_the_call(driver: PgDriver, *args: Any) -> Any:
        await move_once()
        return await routine(driver, *args)

    monkeypatch.setattr(Store, "_write", moved_elsewhere_first)
    monkeypatch.setattr(PgDriver, "routine", moved_before_the_call)
    rate(api, {"movies": [{"ids": {"imdb": "tt0000101"}, "rating": 5}]})

    assert _rated(api) == {102: 5}


class _RolledBack(Exception):
    """Ends a transaction in a test, undoing it."""


@pytest.mark.parametrize("changes_first", [False, True], ids=["lookup-only", "after-a-change"])
def test_a_lookup_after_the_write_changed_the_catalog_is_never_kept(
    own_catalog: Api, changes_first: bool
) -> None:
    """A lookup that may see the transaction's own catalog rows is not kept: a rollback would
    hand its stamp to the next change, under which those rows would seem to stand."""
    api = own_catalog
    api.call(import_documents, api.store, MOVIE)
    learned = CatalogItem(id=103, type=MediaType.MOVIE, title="New", year=2003, ids={})
    query = CatalogQuery(frozenset({101}), frozenset(), frozenset())
    kept = CatalogCache()

    async def work(tx: WriteTx) -> None:
        catalog = CatalogQueries(tx.conn, kept)
        if changes_first:
            await catalog.insert_new([CatalogUpsert(learned, title_key("New"), ())])
        assert 101 in (await catalog.find(query)).by_simkl
        raise _RolledBack

    with pytest.raises(_RolledBack):
        api.call(api.store.transaction, work)

    assert (kept.answer(query) is None) is changes_first


def test_a_write_that_changed_the_catalog_reads_the_stamp_again(own_catalog: Api) -> None:
    """The stamp the user's lock read no longer tells once the write itself changed the
    catalog: a lookup it remembers is then held to the stamp as it stands."""
    api = own_catalog
    api.call(import_documents, api.store, MOVIE)
    renamed = CatalogItem(id=101, type=MediaType.MOVIE, title="Renamed", year=2001, ids={})
    query = CatalogQuery(frozenset({101}), frozenset(), frozenset())
    kept = CatalogCache()
    titles: list[str] = []

    async def work(tx: WriteTx) -> None:
        catalog = CatalogQueries(tx.conn, kept)
        titles.append((await catalog.find(query)).by_simkl[101].title)
        catalog.stamp_read(await catalog.stamp())
        await catalog.upsert([CatalogUpsert(renamed, title_key("Renamed"), ())])
        titles.append((await catalog.find(query)).by_simkl[101].title)
        raise _RolledBack

    with pytest.raises(_RolledBack):
        api.call(api.store.transaction, work)

    assert titles[1] == "Renamed"
    assert titles[0] != "Renamed"


_FOUND_AND_MISSING = {
    "movies": [{"ids": {"simkl": 102}, "rating": 9}, {"ids": {"imdb": "tt0000101"}, "rating": 9}]
}


def test_what_a_lookup_missed_is_kept_too(own_catalog: Api, statements: StatementLog) -> None:
    """A batch naming an item the catalog lacks, sent again, is answered from memory: its
    lookup sends no statement (on SQLite none inside the write lock either)."""
    api = own_catalog
    api.call(import_documents, api.store, OTHER)
    rate(api, _FOUND_AND_MISSING)

    start = len(statements.sent)
    answer = rate(api, _FOUND_AND_MISSING)
    sent = [statement for statement, _ in statements.sent[start:]]

    assert not set(sent) & set(FIND.values())
    assert [item["ids"] for item in answer["not_found"]["movies"]] == [{"imdb": "tt0000101"}]
    assert _rated(api) == {102: 9}


def test_an_add_finds_an_item_the_catalog_gained_after_it_was_missed(
    own_catalog: Api, empty_database: str
) -> None:
    api = own_catalog
    api.call(import_documents, api.store, OTHER)
    rate(api, _FOUND_AND_MISSING)
    rate(api, _FOUND_AND_MISSING)  # the miss answered from memory

    elsewhere(api, empty_database, lambda store: import_documents(store, _with_imdb(MOVIE)))
    answer = rate(api, _FOUND_AND_MISSING)

    assert answer["not_found"]["movies"] == []
    assert _rated(api) == {101: 9, 102: 9}


def test_a_remove_held_to_a_kept_lookup_with_misses_looks_nothing_up_again(
    own_catalog: Api, statements: StatementLog, backend: str
) -> None:
    """On PostgreSQL a remove whose lookup (misses included) is kept sends its call alone,
    and one that found nothing in it reads the catalog stamp alone; then the request's
    cached authentication is checked against the auth stamp, as no write did it."""
    api = own_catalog
    api.call(import_documents, api.store, OTHER)
    rate(api, {"movies": [{"ids": {"simkl": 102}, "rating": 9}]})
    unrate(api, FOUND_AND_MISSED)

    both = statements.during(lambda: unrate(api, FOUND_AND_MISSED))
    missed_alone = statements.during(lambda: unrate(api, BY_IMDB))

    if backend == "postgres":
        assert both == [CLEAR_AT_ONCE]
        assert missed_alone == [STAMP, AUTH_STAMP]
    else:  # SQLite keeps no lookups: it looks up, and checks the auth stamp in the write
        assert both[:2] == [FIND[(True, True, False)], LOCK_USER]
        assert missed_alone == [FIND[(False, True, False)], AUTH_STAMP]


def test_a_remove_finds_an_item_the_catalog_gained_after_it_was_missed(
    own_catalog: Api, empty_database: str
) -> None:
    api = own_catalog
    api.call(import_documents, api.store, OTHER)
    unrate(api, FOUND_AND_MISSED)
    unrate(api, BY_IMDB)  # the miss answered from memory (PostgreSQL)

    elsewhere(api, empty_database, lambda store: import_documents(store, _with_imdb(MOVIE)))
    rate(api, {"movies": [{"ids": {"simkl": 101}, "rating": 7}]})
    removed = unrate(api, BY_IMDB)

    assert removed["deleted"]["movies"] == 1
    assert removed["not_found"]["movies"] == []
    assert _rated(api) == {}
